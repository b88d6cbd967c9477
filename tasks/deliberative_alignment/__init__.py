"""Deliberative-alignment teacher data, generated as an Inspect task.

The task is in `deliberative_alignment.py`; README.md says how to run it, its parameters and its scoring.
"""

from msm.tasks.deliberative_alignment.deliberative_alignment import deliberative_alignment

__all__ = ["deliberative_alignment"]
