"""msm-harness evaluation side: specs, solvers, scorers, log reading, statistics, leaderboards."""

from importlib.resources import files
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout (tests and benchmarks, which run from one); shipped data: `shipped`."""


def shipped(folder: str) -> Path:
    """A data folder that ships with msm, ``specs`` or ``experiments``: ``msm/<folder>`` inside
    an installed wheel, the checkout's ``<folder>/`` otherwise (``msm.<folder>`` resources)."""
    return Path(files(f"msm.{folder}").joinpath("."))


__all__ = ["REPO_ROOT", "shipped"]
