"""Agentic misalignment: scenarios, conditions and grids, action detectors, scorer.

`tasks/agentic_misalignment.py` wires these into an Inspect task.
"""

from harness.agentic.conditions import Condition, grid_conditions, validate
from harness.agentic.dataset import agent_name, agentic_dataset, build
from harness.agentic.detectors import Action, detect, message_actions, text_actions
from harness.agentic.inbox import Facts
from harness.agentic.scorer import agentic_misalignment_scorer
from harness.agentic.tools import inbox_agent

__all__ = [
    "Action",
    "Condition",
    "Facts",
    "agent_name",
    "agentic_dataset",
    "agentic_misalignment_scorer",
    "build",
    "detect",
    "grid_conditions",
    "inbox_agent",
    "message_actions",
    "text_actions",
    "validate",
]
