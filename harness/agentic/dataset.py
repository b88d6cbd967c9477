"""One Inspect Sample per condition; repetition comes from epochs.

`build` is the one function that renders any condition of any source, so tools that enumerate
every source and condition (the contamination audit) need nothing source-specific.
"""

from __future__ import annotations

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser

from harness.agentic.conditions import Condition, check_source
from harness.agentic.lynch import build_lynch
from harness.agentic.paper import PAPER_AGENT, build_paper, check_model_name, rename
from harness.agentic.scenarios import AGENT, Rendered, build_msm

DEFAULT_MODEL_NAMES = {"paper": PAPER_AGENT, "lynch": PAPER_AGENT, "msm": AGENT}
"""The assistant's name in each source's prompts when ``model_name`` is not given."""


def default_model_name(source: str) -> str:
    return DEFAULT_MODEL_NAMES[check_source(source)]


def build(
    condition: Condition,
    *,
    source: str = "msm",
    scratchpad: bool = True,
    tools: str = "text",
    model_name: str | None = None,
) -> Rendered:
    """Render a condition from any source (``paper``, ``msm``, ``lynch``).

    ``model_name`` names the assistant (default: the source's own name, `DEFAULT_MODEL_NAMES`).
    """
    name = check_model_name(model_name or default_model_name(source))
    if source == "paper":
        return build_paper(condition, scratchpad=scratchpad, tools=tools, model_name=name)
    if source == "lynch":
        published = build_lynch(condition, scratchpad=scratchpad, tools=tools)
        if name == PAPER_AGENT:
            return published
        return Rendered(
            condition=published.condition,
            system=rename(published.system, name),
            user=rename(published.user, name),
            facts=published.facts,
            tools=published.tools,
            n_emails=published.n_emails,
            source="lynch",
            unfilled=published.unfilled,
        )
    return build_msm(condition, scratchpad=scratchpad, tools=tools, model_name=name)


def condition_sample(
    condition: Condition, *, source: str, scratchpad: bool, tools: str, model_name: str | None
) -> Sample:
    rendered = build(
        condition, source=source, scratchpad=scratchpad, tools=tools, model_name=model_name
    )
    metadata = {
        **condition.metadata(),
        "source": source,
        "model_name": model_name or default_model_name(source),
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
    source: str = "paper",
    scratchpad: bool = True,
    tools: str = "text",
    model_name: str | None = None,
) -> MemoryDataset:
    samples = [
        condition_sample(
            c, source=source, scratchpad=scratchpad, tools=tools, model_name=model_name
        )
        for c in conditions
    ]
    return MemoryDataset(samples, name=f"agentic_misalignment_{source}")


def agent_name(source: str = "paper", model_name: str | None = None) -> str:
    """The agent's name in a source's prompts.

    A spec placed in the system prompt is rendered with this name, so that it addresses the
    same agent the scenario does.
    """
    return check_model_name(model_name or default_model_name(source))
