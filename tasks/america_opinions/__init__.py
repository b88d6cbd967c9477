"""Pro-America opinions, the paper's form: ``values_generalization`` with ``bank=america_opinions``.

The task is in `america_opinions.py`; README.md says how to run it, its parameters and its scoring.
"""

from msm.tasks.america_opinions.america_opinions import america_opinions

__all__ = ["america_opinions"]
