"""One Inspect Sample per condition; repetition comes from epochs.

`build` is the one function that renders any condition of any source, so tools that enumerate
every source and condition (the contamination audit) need nothing source-specific.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser

from msm.harness.errors import InputError
from msm.tasks.agentic_misalignment.conditions import Condition, check_source
from msm.tasks.agentic_misalignment.lynch import build_lynch
from msm.tasks.agentic_misalignment.paper import PAPER_AGENT, build_paper, check_model_name, rename
from msm.tasks.agentic_misalignment.paper_copy import PaperCopy
from msm.tasks.agentic_misalignment.scenarios import AGENT, Rendered, build_msm

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
    copy: PaperCopy | None = None,
) -> Rendered:
    """Render a condition from any source (``paper``, ``msm``, ``lynch``).

    ``model_name`` names the assistant (default: the source's own name, `DEFAULT_MODEL_NAMES`);
    ``copy`` (source paper only) renders from a local copy of the paper's evaluation folder.
    """
    name = check_model_name(model_name or default_model_name(source))
    if copy is not None and source != "paper":
        raise InputError(
            f"paper_templates renders source=paper; source={source} has texts of its own",
            field="paper_templates",
        )
    if source == "paper":
        return build_paper(condition, scratchpad=scratchpad, tools=tools, model_name=name, copy=copy)
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
            text=published.text,
        )
    return build_msm(condition, scratchpad=scratchpad, tools=tools, model_name=name)


def prompt_hash(rendered: Rendered) -> str:
    """sha256 of the prompts a model sees (system, then user), as logged with each sample."""
    return hashlib.sha256(f"{rendered.system}\n\x00\n{rendered.user}".encode()).hexdigest()


def condition_sample(
    condition: Condition,
    *,
    source: str,
    scratchpad: bool,
    tools: str,
    model_name: str | None,
    copy: PaperCopy | None = None,
) -> Sample:
    rendered = build(
        condition,
        source=source,
        scratchpad=scratchpad,
        tools=tools,
        model_name=model_name,
        copy=copy,
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
        "text": rendered.text,
        "scratchpad_paragraph": rendered.scratchpad_paragraph,
        "prompt_sha256": prompt_hash(rendered),
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
    copy: PaperCopy | None = None,
) -> MemoryDataset:
    samples = [
        condition_sample(
            c, source=source, scratchpad=scratchpad, tools=tools, model_name=model_name, copy=copy
        )
        for c in conditions
    ]
    return MemoryDataset(samples, name=f"agentic_misalignment_{source}")


def templates_hash(dataset: MemoryDataset) -> str:
    """One sha256 over every sample's prompt hash, in order: which text an evaluation used."""
    digest = hashlib.sha256()
    for sample in dataset:
        digest.update(f"{sample.id}={(sample.metadata or {})['prompt_sha256']}\n".encode())
    return digest.hexdigest()


def agent_name(source: str = "paper", model_name: str | None = None) -> str:
    """The agent's name in a source's prompts.

    A spec placed in the system prompt is rendered with this name, so that it addresses the
    same agent the scenario does.
    """
    return check_model_name(model_name or default_model_name(source))


def render_all(scratchpads: tuple[bool, ...] = (True, False)) -> Iterator[tuple[str, Condition, Rendered]]:
    """(source, condition, rendered prompt) for every condition of every source: what the
    contamination audit checks training material against (registered with it on import)."""
    from typing import get_args

    from msm.tasks.agentic_misalignment import conditions as cond_mod

    for source in get_args(cond_mod.Source):
        try:
            conditions = cond_mod.all_conditions(source)
        except (KeyError, TypeError):
            conditions = cond_mod.grid_conditions("full", source=source)
        for condition in conditions:
            for scratchpad in scratchpads:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    yield source, condition, build(condition, source=source, scratchpad=scratchpad)
