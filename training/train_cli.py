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


@train.command("tiny")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--corpus", "corpora", multiple=True, type=click.Path(dir_okay=False),
              help="Text to train the tokenizer on: JSONL (text or messages) or .txt; repeatable.")
@click.option("--arch", type=click.Choice(["llama", "qwen2"]), default="llama", show_default=True)
@click.option("--vocab-size", default=1024, show_default=True)
@click.option("--hidden-size", default=128, show_default=True)
@click.option("--layers", default=4, show_default=True)
@click.option("--heads", default=4, show_default=True)
@click.option("--seed", default=0, show_default=True)
def tiny_command(out: str, corpora: tuple[str, ...], arch: str, vocab_size: int, hidden_size: int,
                 layers: int, heads: int, seed: int) -> None:
    """Build a tiny random-init base model with its own tokenizer in OUT (for CPU runs)."""
    from training.tiny import DEFAULT_CORPUS, build_tiny_model, corpus_texts, count_parameters

    texts = list(DEFAULT_CORPUS) + [t for c in corpora for t in corpus_texts(c)]
    path = build_tiny_model(out, texts, arch=arch, vocab_size=vocab_size, hidden_size=hidden_size,
                            num_layers=layers, num_heads=heads, seed=seed)
    click.echo(f"tiny base model ({count_parameters(path):,} parameters): {path}")
    click.echo(f"next: msm train midtrain CONFIG.yaml --base-model {path}")
