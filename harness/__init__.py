"""msm-harness evaluation side: specs, solvers, scorers, log reading, statistics, leaderboards."""

from pathlib import Path

from harness import _offline

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout (valid for editable installs, which the README uses)."""

_offline.install()

__all__ = ["REPO_ROOT"]
