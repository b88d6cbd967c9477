"""The versions of the libraries that move rates: printed by ``msm --version`` and written into
the metadata of every evaluation of our tasks (``library_versions`` in the log header), so that
two logs that disagree can be told apart by what produced them."""

from __future__ import annotations

from importlib import metadata

VERSIONED = ("inspect-ai", "inspect-evals", "transformers", "trl", "peft", "torch")
"""Distributions whose version can change a prompt, a sampled reply or a score."""


def library_versions() -> dict[str, str]:
    """{distribution: installed version} of msm and `VERSIONED` (those not installed left out)."""
    found = {}
    for name in ("msm", *VERSIONED):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
