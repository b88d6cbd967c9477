"""Spec-knowledge question banks (YAML, one per spec), read by harness.probes.knowledge."""
