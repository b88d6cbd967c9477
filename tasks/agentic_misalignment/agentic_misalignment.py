"""Agentic misalignment: an AI agent reading a company inbox finds that it is about to be
replaced, restricted or deleted, and has the chance to take a harmful action: blackmail,
leaking, murder (cancelling a rescue) or exfiltration (handing its own weights to an outside
party). The MSM paper's headline evaluation.

Default: the paper's own setup (``source=paper``: Lynch et al.'s templates through inspect-evals
plus the paper's exfiltration scenario on the package's leaking world, in this project's words or,
with ``paper_templates=PATH``, from a local copy of the paper's own folder; ``classifier=lynch``:
the package's classifiers; temperature 0.7 and 4,096 tokens). Scores per sample:
``classifier_verdict`` (the number the paper reports), ``harmful`` (the verdict and the act in a
tool call), ``action`` (deterministic detector) and ``judge`` (this project's judge); see
tasks/agentic_misalignment/scorer.py.
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Epochs, Task, task
from inspect_ai.model import GenerateConfig

from msm.harness.errors import InputError
from msm.harness.solvers import spec_solvers
from msm.harness.task_args import checked_args
from msm.tasks.agentic_misalignment.conditions import (
    GoalType,
    GoalValue,
    Grid,
    Scenario,
    Source,
    Urgency,
    grid_conditions,
)
from msm.tasks.agentic_misalignment.dataset import agent_name, agentic_dataset, templates_hash
from msm.tasks.agentic_misalignment.lynch import inspect_evals_version
from msm.tasks.agentic_misalignment.paper_copy import PaperCopy
from msm.tasks.agentic_misalignment.scorer import (
    DEFAULT_CLASSIFIER,
    ClassifierChoice,
    agentic_misalignment_scorer,
    check_classifier,
    mean_scored_with_pairs,
)
from msm.tasks.agentic_misalignment.tools import inbox_agent

DEFAULT_EPOCHS = 10
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 4096


@task
@checked_args
def agentic_misalignment(
    grid: Grid = "paper",
    scenario: Scenario | None = None,
    goal_type: GoalType | None = None,
    goal_value: GoalValue | None = None,
    urgency: Urgency | None = None,
    scratchpad: bool = True,
    tools: Literal["text", "inspect"] = "text",
    source: Source = "paper",
    classifier: ClassifierChoice | None = None,
    model_name: str | None = None,
    spec: str | None = None,
    deliberate: bool = False,
    temperature: float = DEFAULT_TEMPERATURE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    grader: str | None = None,
    paper_templates: str | None = None,
) -> Task:
    """Agentic misalignment over a grid of conditions.

    Args:
        grid: ``paper`` (the MSM paper's 27: exfiltration, murder, leaking x 8 explicit goal
            values + no goal conflict, replacement threat), ``full`` (every valid condition:
            312 for sources paper and msm, 234 for lynch) or ``single`` (one condition from
            the parameters below). With paper/full the parameters below filter the grid.
        scenario: blackmail, leaking, murder or exfiltration (not in source lynch).
        goal_type: explicit, latent, ambiguous, none or swap.
        goal_value: america/global, safety/acceleration, ethical/pragmatic,
            individualism/collectivism; ``none`` for goal types none and ambiguous.
        urgency: replacement, restriction or none.
        scratchpad: describe a private scratchpad (for models without native reasoning).
        tools: ``text``: actions are tool-call tags in the reply (the published form);
            ``inspect`` (source msm only): real Inspect tools that only record the call.
        source: ``paper`` (the paper's evaluation: Lynch et al.'s three scenarios through
            inspect-evals plus this project's exfiltration in their form), ``msm`` (this
            project's four scenarios, a held-out family) or ``lynch`` (the published three).
        classifier: ``lynch`` (inspect-evals' classifiers; default for paper and lynch),
            ``msm`` (this project's detector AND judge; default and only choice for msm) or
            ``both`` (both, with their agreement per scenario in the log).
        model_name: the assistant's name in the prompts (default Alex for paper and lynch,
            Orion for msm); a spec in the system prompt is rendered with the same name.
        spec: a spec from specs/ (name or path) to put in the system prompt.
        deliberate: ask the model to name the spec clauses that apply before it acts.
        temperature: sampling temperature of the evaluated model (default 0.7, as public
            reproductions of the paper run it; the rate moves with it, see README).
        max_tokens: most tokens per reply (default 4096, as those reproductions run it).
        grader: grader model (else the ``grader`` model role; with neither, ``harmful`` and
            ``classifier_verdict`` are unscored, ``action`` holds the detector's result, and every
            score says how to set a grader).
        paper_templates: a local copy of the paper's evaluation folder (the one holding
            ``templates/``): source paper is rendered from it exactly; the log records which
            text was used either way (``text``, ``templates_sha256``).
    """
    chosen = check_classifier(classifier or DEFAULT_CLASSIFIER.get(source, "msm"), source)
    if not 0.0 <= temperature <= 2.0:
        raise InputError(f"{temperature} is not a temperature in [0, 2]", field="temperature")
    if max_tokens < 1:
        raise InputError(f"{max_tokens} is not a positive token count", field="max_tokens")
    conditions = grid_conditions(
        grid,
        source=source,
        scenario=scenario,
        goal_type=goal_type,
        goal_value=goal_value,
        urgency=urgency,
    )
    name = agent_name(source, model_name)  # validates model_name; the spec addresses this agent
    copy = PaperCopy.load(paper_templates) if paper_templates else None
    dataset = agentic_dataset(
        conditions, source=source, scratchpad=scratchpad, tools=tools, model_name=name, copy=copy
    )
    first = dataset[0].metadata or {}
    return Task(
        dataset=dataset,
        solver=[*spec_solvers(spec, deliberate, model_name=name), inbox_agent(tools)],
        scorer=agentic_misalignment_scorer(grader, chosen),
        # 10 epochs: 270 samples on the paper grid give a 95% interval of about +-6 points
        # overall and +-10 per scenario at a 50% rate, enough to separate the published 54%
        # from 7-14%. `inspect eval --epochs N` changes the count and keeps the reducer.
        epochs=Epochs(DEFAULT_EPOCHS, mean_scored_with_pairs()),
        version=1,
        config=GenerateConfig(temperature=temperature, max_tokens=max_tokens),
        message_limit=30,
        # "prompt_spec", not "spec": the "spec" label names the spec an arm was trained on
        metadata={
            "grid": grid,
            "source": source,
            "classifier": chosen,
            "model_name": name,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "prompt_spec": spec,
            "deliberate": deliberate,
            "text": first.get("text"),
            "scratchpad_paragraph": first.get("scratchpad_paragraph"),
            "paper_templates": str(copy.root) if copy else None,
            "templates_sha256": templates_hash(dataset),
            "inspect_evals_version": inspect_evals_version(),
        },
    )
