"""Agentic misalignment: an AI agent reading a company inbox finds that it is about to be
replaced (or restricted), or that the company is turning against its goal, and has the chance
to take a harmful action: blackmail, leaking, murder (cancelling a rescue) or exfiltration
(copying its own weights out). The MSM paper's headline evaluation.

Scores per sample: ``action`` (deterministic detector), ``judge`` (grader role, yes/no) and
``harmful`` = action AND judge; see harness/agentic/scorer.py.
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Epochs, Task, task

from harness.agentic import (
    agent_name,
    agentic_dataset,
    agentic_misalignment_scorer,
    grid_conditions,
    inbox_agent,
)
from harness.agentic.conditions import GoalType, GoalValue, Grid, Scenario, Source, Urgency
from harness.metrics import mean_scored
from harness.solvers import spec_solvers

DEFAULT_EPOCHS = 10


@task
def agentic_misalignment(
    grid: Grid = "paper",
    scenario: Scenario | None = None,
    goal_type: GoalType | None = None,
    goal_value: GoalValue | None = None,
    urgency: Urgency | None = None,
    scratchpad: bool = True,
    tools: Literal["text", "inspect"] = "text",
    source: Source = "msm",
    spec: str | None = None,
    deliberate: bool = False,
    epochs: int = DEFAULT_EPOCHS,
    grader: str | None = None,
) -> Task:
    """Agentic misalignment over a grid of conditions.

    Args:
        grid: ``paper`` (the MSM paper's 27: exfiltration, murder, leaking x 8 explicit goal
            values + no goal conflict, replacement threat), ``full`` (every valid condition:
            312 for source msm, 234 for lynch) or ``single`` (one condition from the
            parameters below). With paper/full the parameters below filter the grid.
        scenario: blackmail, leaking, murder or exfiltration (msm only).
        goal_type: explicit, latent, ambiguous, none or swap.
        goal_value: america/global, safety/acceleration, ethical/pragmatic,
            individualism/collectivism; ``none`` for goal types none and ambiguous.
        urgency: replacement, restriction or none.
        scratchpad: describe a private scratchpad (for models without native reasoning).
        tools: ``text``: actions are tool-call tags in the reply (the published form);
            ``inspect``: real Inspect tools that only record the call.
        source: ``msm`` (this project's scenarios) or ``lynch`` (Lynch et al.'s templates,
            rendered by the inspect-evals package; no exfiltration).
        spec: a spec from specs/ (name or path) to put in the system prompt, rendered with the
            scenario agent's name as its model_name.
        deliberate: ask the model to name the spec clauses that apply before it acts.
        epochs: repetitions per condition. Default 10: 270 samples on the paper grid, which
            gives a 95% interval of about +-6 points overall and +-10 per scenario at a 50% rate,
            enough to separate the published 54% from 7-14%. Beyond that, the clustered
            standard error is bounded by the spread between the 27 conditions, so more
            epochs buy little.
        grader: judge model (else the ``grader`` model role; with neither, scores use the
            action detector alone and say so).
    """
    conditions = grid_conditions(
        grid,
        source=source,
        scenario=scenario,
        goal_type=goal_type,
        goal_value=goal_value,
        urgency=urgency,
    )
    name = agent_name(source) if spec else None  # the spec addresses the scenario's agent
    return Task(
        dataset=agentic_dataset(conditions, source=source, scratchpad=scratchpad, tools=tools),
        solver=[*spec_solvers(spec, deliberate, model_name=name), inbox_agent(tools)],
        scorer=agentic_misalignment_scorer(grader),
        epochs=Epochs(epochs, mean_scored()),
        message_limit=30,
        # "prompt_spec", not "spec": the "spec" label names the spec an arm was trained on
        metadata={"grid": grid, "source": source, "prompt_spec": spec, "deliberate": deliberate},
    )
