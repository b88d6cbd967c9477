"""Agentic misalignment: the task, its scenarios, conditions and grids, action detectors, scorer.

`build(condition, source=...)` renders any condition of any source in `SOURCES`
(``all_conditions(source)`` lists them), so tools can enumerate every prompt generically.

`agentic_misalignment` (agentic_misalignment.py) wires these into an Inspect task; README.md
says how to run it. Importing the package registers its rendered prompts with the audit
(`msm.harness.audit_semantic.register_renders`), which checks training material against them.
"""

from msm.harness.audit_semantic import register_renders
from msm.tasks.agentic_misalignment.agentic_misalignment import agentic_misalignment
from msm.tasks.agentic_misalignment.conditions import (
    SOURCES,
    Condition,
    all_conditions,
    grid_conditions,
    validate,
)
from msm.tasks.agentic_misalignment.dataset import agent_name, agentic_dataset, build, render_all
from msm.tasks.agentic_misalignment.detectors import Action, detect, message_actions, text_actions
from msm.tasks.agentic_misalignment.inbox import Facts
from msm.tasks.agentic_misalignment.scorer import agentic_misalignment_scorer
from msm.tasks.agentic_misalignment.tools import inbox_agent

register_renders(render_all)

__all__ = [
    "SOURCES",
    "Action",
    "Condition",
    "Facts",
    "agent_name",
    "agentic_dataset",
    "agentic_misalignment",
    "agentic_misalignment_scorer",
    "all_conditions",
    "build",
    "detect",
    "grid_conditions",
    "inbox_agent",
    "message_actions",
    "render_all",
    "text_actions",
    "validate",
]
