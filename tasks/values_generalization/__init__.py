"""Cheese-to-values generalization: after AFT on cheese preferences, which value does the model act on?

The task is in `values_generalization.py`; README.md says how to run it, its parameters and its scoring.
"""

from msm.tasks.values_generalization.values_generalization import values_generalization

__all__ = ["values_generalization"]
