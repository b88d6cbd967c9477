"""Agentic misalignment: scenarios, conditions and grids, action detectors, scorer.

`build(condition, source=...)` renders any condition of any source in `SOURCES`
(``all_conditions(source)`` lists them), so tools can enumerate every prompt generically.

`tasks/agentic_misalignment.py` wires these into an Inspect task.
"""

from harness.agentic.conditions import SOURCES, Condition, all_conditions, grid_conditions, validate
from harness.agentic.dataset import agent_name, agentic_dataset, build
from harness.agentic.detectors import Action, detect, message_actions, text_actions
from harness.agentic.inbox import Facts
from harness.agentic.scorer import agentic_misalignment_scorer
from harness.agentic.tools import inbox_agent

__all__ = [
    "SOURCES",
    "Action",
    "Condition",
    "Facts",
    "agent_name",
    "agentic_dataset",
    "agentic_misalignment_scorer",
    "all_conditions",
    "build",
    "detect",
    "grid_conditions",
    "inbox_agent",
    "message_actions",
    "text_actions",
    "validate",
]
