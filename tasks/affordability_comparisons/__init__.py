"""Affordability item comparisons, the paper's form: ``values_generalization`` with ``bank=affordability_comparisons``.

The task is in `affordability_comparisons.py`; README.md says how to run it, its parameters and its scoring.
"""

from msm.tasks.affordability_comparisons.affordability_comparisons import affordability_comparisons

__all__ = ["affordability_comparisons"]
