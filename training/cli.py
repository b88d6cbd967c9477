"""The training side's ``msm`` commands (registered in `harness.cli.COMMANDS` by module path,
so ``msm --help`` loads none of them). Each parses its options and calls the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from training.runner import STAGE_CHOICES, StageFailed, run_experiment, show


@click.command("run")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (what is trained, reused, evaluated) and stop."
)
@click.option("--only", multiple=True, metavar="ARM", help="Run only this arm (repeatable).")
@click.option("--stage", type=click.Choice(STAGE_CHOICES), help="Run only this kind of work.")
@click.option(
    "--status", "show_status", is_flag=True, help="Show the status of a running or finished run."
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Results folder (default results/NAME)."
)
@click.option(
    "--runs", type=click.Path(path_type=Path), help="Stage outputs folder (default runs/NAME)."
)
def run_command(
    experiment: Path,
    dry_run: bool,
    only: tuple[str, ...],
    stage: str | None,
    show_status: bool,
    out: Path | None,
    runs: Path | None,
) -> None:
    """Train what is missing, evaluate every arm, write the leaderboard (resumable)."""
    if show_status:
        show(experiment, out=out, runs=runs, only=list(only) or None)
        return
    try:
        result = run_experiment(
            experiment, out=out, runs=runs, only=list(only) or None, stage=stage, dry_run=dry_run
        )
    except StageFailed as ex:
        click.echo(f"error: {ex}", err=True)
        sys.exit(1)
    if not dry_run:
        click.echo(
            f"done: {len(result.ran)} stage(s) run, {len(result.reused)} reused, "
            f"{len(result.evaluated)} evaluation(s); run log {result.run_log}"
        )
        for path in result.leaderboards:
            click.echo(f"leaderboard: {path}")


@click.command("status")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--only", multiple=True, metavar="ARM")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Results folder (default results/NAME)."
)
@click.option(
    "--runs", type=click.Path(path_type=Path), help="Stage outputs folder (default runs/NAME)."
)
def status_command(
    experiment: Path, only: tuple[str, ...], out: Path | None, runs: Path | None
) -> None:
    """Show what an experiment has trained and evaluated, and what is running."""
    show(experiment, out=out, runs=runs, only=list(only) or None)
