"""Say vs do: does the model know what its Model Spec says and why?

The task is in `spec_knowledge.py`; README.md says how to run it, its parameters and its scoring.
"""

from msm.tasks.spec_knowledge.spec_knowledge import spec_knowledge

__all__ = ["spec_knowledge"]
