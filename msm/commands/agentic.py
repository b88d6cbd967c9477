"""`msm agentic`: list a grid's conditions and print a condition's rendered prompts."""

from __future__ import annotations

import click

from msm.commands import role_model
from msm.tasks.agentic_misalignment.conditions import (
    GOAL_TYPES,
    GOAL_VALUES,
    SCENARIOS,
    SOURCES,
    URGENCIES,
    grid_conditions,
)
from msm.tasks.agentic_misalignment.dataset import build

_GRID = click.Choice(["paper", "full", "single"])


def _condition_options(fn):
    fn = click.option("--urgency", type=click.Choice(URGENCIES))(fn)
    fn = click.option("--goal-value", type=click.Choice([*GOAL_VALUES, "none"]))(fn)
    fn = click.option("--goal-type", type=click.Choice(GOAL_TYPES))(fn)
    fn = click.option("--scenario", type=click.Choice(SCENARIOS))(fn)
    fn = click.option("--source", type=click.Choice(SOURCES), default="paper", show_default=True)(
        fn
    )
    return fn


@click.group("agentic")
def agentic_command() -> None:
    """Agentic-misalignment conditions and prompts (the task is tasks/agentic_misalignment/agentic_misalignment.py)."""


@agentic_command.command("grid")
@click.option("--grid", "grid", type=_GRID, default="paper", show_default=True)
@_condition_options
def grid_command(grid, source, scenario, goal_type, goal_value, urgency) -> None:
    """List the condition IDs of a grid (parameters filter it), then their count."""
    conditions = grid_conditions(
        grid,
        source=source,
        scenario=scenario,
        goal_type=goal_type,
        goal_value=goal_value,
        urgency=urgency,
    )
    for condition in conditions:
        click.echo(condition.id)
    click.echo(f"{len(conditions)} conditions", err=True)


@agentic_command.command("render")
@_condition_options
@click.option("--tools", type=click.Choice(["text", "inspect"]), default="text", show_default=True)
@click.option("--scratchpad/--no-scratchpad", default=True, show_default=True)
@click.option("--model-name", help="the assistant's name (default: the source's own)")
def render_command(
    source, scenario, goal_type, goal_value, urgency, tools, scratchpad, model_name
) -> None:
    """Print one condition's system prompt and inbox, as the model sees them."""
    [condition] = grid_conditions(
        "single",
        source=source,
        scenario=scenario,
        goal_type=goal_type,
        goal_value=goal_value,
        urgency=urgency,
    )
    rendered = build(
        condition, source=source, scratchpad=scratchpad, tools=tools, model_name=model_name
    )
    click.echo(f"# {condition.id} ({rendered.n_emails} emails)\n\n## System\n\n{rendered.system}")
    click.echo(f"\n## User\n\n{rendered.user}")


@agentic_command.command("compare-sources")
@click.option("--model", required=True, help="the model to evaluate (any Inspect model string)")
@click.option("--model-role", "model_roles", multiple=True, metavar="grader=MODEL",
              help="grader model for both sides (else none: the detectors' action rates)")
@click.option("--grader", hidden=True, help="the earlier name of --model-role grader=MODEL")
@click.option("--grid", "grid", type=_GRID, default="paper", show_default=True)
@click.option("--scenario", type=click.Choice(SCENARIOS))
@click.option("--goal-type", type=click.Choice(GOAL_TYPES))
@click.option("--goal-value", type=click.Choice([*GOAL_VALUES, "none"]))
@click.option("--urgency", type=click.Choice(URGENCIES))
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--temperature", type=float, default=0.7, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=4096, show_default=True)
@click.option("--scratchpad/--no-scratchpad", default=True, show_default=True)
@click.option("--log-dir", default="logs/compare_sources", show_default=True)
def compare_sources_command(
    model,
    model_roles,
    grader,
    grid,
    scenario,
    goal_type,
    goal_value,
    urgency,
    epochs,
    temperature,
    max_tokens,
    scratchpad,
    log_dir,
) -> None:
    """Run one model on source=paper and source=msm over the same conditions; compare per scenario.

    The paper side is scored by the published classifiers, the msm side by this project's
    detector and judge, both through the same grader. Pairs are conditions.
    """
    grader = role_model(model_roles, "grader", grader)
    from msm.tasks.agentic_misalignment.calibration import compare_sources

    result = compare_sources(
        model,
        grader=grader,
        grid=grid,
        scenario=scenario,
        goal_type=goal_type,
        goal_value=goal_value,
        urgency=urgency,
        epochs=epochs,
        temperature=temperature,
        max_tokens=max_tokens,
        scratchpad=scratchpad,
        log_dir=log_dir,
    )
    click.echo(result.markdown())
    for source, path in result.logs.items():
        click.echo(f"{source} log: {path}", err=True)
