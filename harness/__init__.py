"""msm-harness evaluation side: specs, solvers, scorers, log reading, statistics, leaderboards."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout (valid for editable installs, which the README uses)."""

__all__ = ["REPO_ROOT"]
