"""Namespace for msm-harness's Inspect registrations (``inspect eval msm/<task>``)."""
