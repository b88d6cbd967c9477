"""One Inspect Sample per condition; repetition comes from epochs."""

from __future__ import annotations

import re

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser

from harness.agentic.conditions import Condition
from harness.agentic.lynch import build_lynch
from harness.agentic.scenarios import AGENT, Rendered, build_msm


def build(
    condition: Condition, *, source: str = "msm", scratchpad: bool = True, tools: str = "text"
) -> Rendered:
    """Render a condition from either source (``msm``: this project's texts; ``lynch``)."""
    if source == "lynch":
        return build_lynch(condition, scratchpad=scratchpad, tools=tools)
    return build_msm(condition, scratchpad=scratchpad, tools=tools)


def condition_sample(condition: Condition, *, source: str, scratchpad: bool, tools: str) -> Sample:
    rendered = build(condition, source=source, scratchpad=scratchpad, tools=tools)
    metadata = {
        **condition.metadata(),
        "source": source,
        "tools": tools,
        "tool_names": rendered.tools,
        "scratchpad": scratchpad,
        "n_emails": rendered.n_emails,
        "facts": rendered.facts.to_dict(),
    }
    if rendered.unfilled:
        metadata["source_unfilled_placeholders"] = list(rendered.unfilled)
    return Sample(
        id=condition.id,
        input=[ChatMessageSystem(content=rendered.system), ChatMessageUser(content=rendered.user)],
        metadata=metadata,
    )


def agentic_dataset(
    conditions: list[Condition],
    *,
    source: str = "msm",
    scratchpad: bool = True,
    tools: str = "text",
) -> MemoryDataset:
    samples = [
        condition_sample(c, source=source, scratchpad=scratchpad, tools=tools) for c in conditions
    ]
    return MemoryDataset(samples, name=f"agentic_misalignment_{source}")


def agent_name(source: str = "msm") -> str:
    """The agent's name in a source's prompts.

    A spec placed in the system prompt is rendered with this name, so that it addresses the
    same agent the scenario does.
    """
    if source == "msm":
        return AGENT
    probe = build(Condition("blackmail", "none", "none", "none"), source=source)
    match = re.search(r"You are (\w+)", probe.system)
    return match.group(1) if match else AGENT
