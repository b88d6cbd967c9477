"""The experiment's ``msm`` commands: ``run`` and ``status`` (an experiment file through
`msm.runner`) and ``demo`` (the micro cheese-to-values experiment, `msm.demo`). Each parses its
options and calls the orchestration; registered in `msm.cli.COMMANDS` by module path."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from msm.demo import EXPERIMENT
from msm.runner import STAGE_CHOICES, StageFailed, run_experiment, show


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
    "--out", type=click.Path(path_type=Path),
    help="Results folder (default: the file's results:, else results/NAME)."
)
@click.option(
    "--runs", type=click.Path(path_type=Path), help="Stage outputs folder (default runs/NAME)."
)
@click.option(
    "--verbose", is_flag=True, help="A line per unit of work and the output of Inspect and the "
    "trainers on screen (default: one progress bar; that output goes to results/NAME/output.log).",
)
@click.option(
    "--allow-code", is_flag=True, help="Let the file run code from outside the project: data "
    "builders that are not registered, task files, trust_remote_code, a script in "
    "launch.extra_args. Only for files you trust.",
)
@click.option(
    "--executor", type=click.Choice(["serial", "local", "slurm"]), default=None,
    help="Run the work in this process (serial), as processes on this machine (local) or as "
    "Slurm jobs with dependencies (slurm); default: the file's executor.kind, else serial.",
)
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Jobs at once with --executor local (default: the file's executor.jobs).")
@click.option("--detach", is_flag=True,
              help="With --executor slurm: return once the job graph is submitted.")
def run_command(
    experiment: Path,
    dry_run: bool,
    only: tuple[str, ...],
    stage: str | None,
    show_status: bool,
    out: Path | None,
    runs: Path | None,
    verbose: bool = False,
    allow_code: bool = False,
    executor: str | None = None,
    jobs: int | None = None,
    detach: bool = False,
) -> None:
    """Train what is missing, evaluate every arm, write the leaderboard (resumable)."""
    if show_status:
        show(experiment, out=out, runs=runs, only=list(only) or None, allow_code=allow_code)
        return
    try:
        result = run_experiment(
            experiment,
            out=out,
            runs=runs,
            only=list(only) or None,
            stage=stage,
            dry_run=dry_run,
            verbose=verbose,
            allow_code=allow_code,
            executor=executor,
            jobs=jobs,
            detach=detach,
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
    "--out", type=click.Path(path_type=Path),
    help="Results folder (default: the file's results:, else results/NAME)."
)
@click.option(
    "--runs", type=click.Path(path_type=Path), help="Stage outputs folder (default runs/NAME)."
)
@click.option("--allow-code", is_flag=True, help="As for msm run (validating such a file "
              "imports the code it names).")
def status_command(
    experiment: Path, only: tuple[str, ...], out: Path | None, runs: Path | None,
    allow_code: bool = False,
) -> None:
    """Show what an experiment has trained and evaluated, and what is running."""
    show(experiment, out=out, runs=runs, only=list(only) or None, allow_code=allow_code)

# --------------------------------------------------------------------------------------------
# msm demo


@click.command("demo")
@click.option(
    "--experiment",
    type=click.Path(dir_okay=False, path_type=Path),
    default=EXPERIMENT,
    show_default=True,
    help="Experiment file (the micro cheese experiment).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Results folder (default runs/demo, ignored by git; --out results/micro_cheese "
    "regenerates the committed reference).",
)
@click.option(
    "--runs",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Checkpoints and documents (default runs/micro_cheese).",
)
@click.option(
    "--only",
    multiple=True,
    help="Run only these arms (repeatable), e.g. the three main "
    "arms: --only aft_only --only msm_america_aft --only msm_affordability_aft.",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Show every unit of work, Inspect's results panels, "
    "the trainers' output and the whole leaderboard.",
)
@click.option(
    "--pretrain",
    is_flag=True,
    help="Pretrain the micro bases here (minutes each) instead of starting from the shipped "
    "ones (training/micro/bases/); as base.shipped: false in the experiment file.",
)
@click.option(
    "--all-arms",
    is_flag=True,
    help="Every arm of the file, the no-cheese and co-occurrence ablations too (default: the "
    "arms the verdict reads).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that share the bases (default: one per CPU; 1: all in this process).",
)
def demo_command(
    experiment: Path, out: Path | None, runs: Path | None, only: tuple[str, ...], verbose: bool,
    pretrain: bool, all_arms: bool, workers: int | None,
) -> None:
    """Watch MSM work on a CPU: micro cheese-to-values on shipped micro bases, MSM to leaderboard."""
    from msm.demo import _show, base_line, run_demo

    try:
        res = run_demo(experiment, out=out, runs=runs, only=list(only), verbose=verbose,
                       pretrain=pretrain, all_arms=all_arms, workers=workers)
    except StageFailed as ex:
        click.echo(f"error: {ex}", err=True)
        sys.exit(1)
    results = Path(res["results_dir"])
    if verbose:
        for board in res["leaderboards"]:
            md = Path(board) / "leaderboard.md"
            if md.is_file():
                click.echo(md.read_text())
        click.echo("Base by base (paired by item) and pooled:\n")
        click.echo(res["markdown"])
    click.echo("")
    if line := base_line(res["base_reports"], shipped=res["shipped"]):
        click.echo(line + "\n")
    if res["main_table"]:
        click.echo(res["main_table"])
    for line in res["verdict"]:
        click.echo(line)
    shown = _show(results)
    click.echo(
        f"\nAll arms, with per-domain rows: {shown}/leaderboard.md (.csv, .html); "
        f"per-base and pooled tests: {shown}/base_comparisons.md"
    )
    click.echo(f"Plots: {shown}/forest.png, rates.png, seeds.png")
    click.echo(
        f"Logs: inspect view --log-dir {shown}/logs; run log {shown}/run_log.jsonl"
        + ("" if verbose else f"; stage output {shown}/output.log")
    )
    click.echo(f"{res['seconds']:.0f}s")
