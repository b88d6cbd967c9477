"""msm-harness evaluation side: specs, solvers, scorers, log reading, statistics, leaderboards."""

from pathlib import Path

from harness.errors import install_excepthook

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout (valid for editable installs, which the README uses)."""

install_excepthook()  # a task's bad parameter (inspect eval -T) prints one line, not a traceback

__all__ = ["REPO_ROOT"]
