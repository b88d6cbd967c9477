"""`msm train ...`: the checkpoint stages from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from harness.manifest import inspect_model_string
from training.aft import aft_command
from training.midtrain import midtrain_command


@click.group("train")
def train() -> None:
    """Train checkpoints: midtraining on spec documents, AFT on demonstrations."""


@train.command("merge")
@click.argument("adapter", type=click.Path(file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
def merge_command(adapter: str, out: str) -> None:
    """Fold a LoRA ADAPTER written by msm train into full weights saved to OUT."""
    from training._sft import merge_adapter

    path = merge_adapter(Path(adapter), Path(out))
    click.echo(f"merged checkpoint: {path}")
    click.echo(f"model string: {inspect_model_string(path)}")


train.add_command(midtrain_command)
train.add_command(aft_command)
