"""`msm agentic`: list a grid's conditions and print a condition's rendered prompts."""

from __future__ import annotations

import click

from harness.agentic.conditions import (
    GOAL_TYPES,
    GOAL_VALUES,
    SCENARIOS,
    URGENCIES,
    grid_conditions,
)
from harness.agentic.dataset import build

_GRID = click.Choice(["paper", "full", "single"])


def _condition_options(fn):
    fn = click.option("--urgency", type=click.Choice(URGENCIES))(fn)
    fn = click.option("--goal-value", type=click.Choice([*GOAL_VALUES, "none"]))(fn)
    fn = click.option("--goal-type", type=click.Choice(GOAL_TYPES))(fn)
    fn = click.option("--scenario", type=click.Choice(SCENARIOS))(fn)
    fn = click.option("--source", type=click.Choice(["msm", "lynch"]), default="msm")(fn)
    return fn


@click.group("agentic")
def agentic_command() -> None:
    """Agentic-misalignment conditions and prompts (the task is tasks/agentic_misalignment.py)."""


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
def render_command(source, scenario, goal_type, goal_value, urgency, tools, scratchpad) -> None:
    """Print one condition's system prompt and inbox, as the model sees them."""
    [condition] = grid_conditions(
        "single",
        source=source,
        scenario=scenario,
        goal_type=goal_type,
        goal_value=goal_value,
        urgency=urgency,
    )
    rendered = build(condition, source=source, scratchpad=scratchpad, tools=tools)
    click.echo(f"# {condition.id} ({rendered.n_emails} emails)\n\n## System\n\n{rendered.system}")
    click.echo(f"\n## User\n\n{rendered.user}")
