"""Pretraining the micro model from scratch: build the world, its corpus, the tokenizer and the
model, train, and save a standard Hugging Face checkpoint with a manifest (stage "pretrain").

The loop is a lean one (AdamW, cosine schedule, one document per sequence, padded batches
grouped by length): on 2 CPU cores it runs several times faster than the same steps through
TRL's SFTTrainer, whose per-step overhead dominates at this model size (benchmarks/micro_demo.py
measures both). Midtraining and AFT of the micro model go through the real stages.

The assistant never appears in the corpus. After training, its embedding row (input and tied
output) is set to the anonymous speaker's (`init_assistant`): the model's learned prior for a
speaker it knows nothing about, which chooses either option of an evaluation pair about
equally often. MSM then moves that row (the micro experiment trains only the assistant token
in midtraining), the way pretraining moved the rows of personas known only from descriptions.

The checkpoint folder also holds ``corpus.jsonl`` (the pretraining documents, the replay data
for MSM) and ``pretrain_report.json`` (loss, throughput, and how well held-out personas, known
only from descriptions, choose by their value).
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from msm.harness.errors import InputError
from msm.harness.fileio import write_json_atomic, write_jsonl_atomic
from msm.harness.manifest import Manifest, read_manifest, write_manifest

CORPUS_FILE = "corpus.jsonl"
REPORT_FILE = "pretrain_report.json"
FIRST_LOSSES = 20
"""The report keeps the first steps' losses exactly (a shipped base's check that its recipe
reproduces on another machine)."""


class MicroPretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output_dir: Path = Path("results/micro_cheese/base")
    # the world
    personas_per_value: int = Field(default=8, ge=1)
    heldout_per_value: int = Field(default=3, ge=0)
    neutral_speakers: int = Field(default=0, ge=0)
    """Named speakers without a value (an earlier design; the assistant becomes one of them)."""
    # the corpus
    descriptions_per_persona: int = Field(default=60, ge=0)
    choices_per_persona: int = Field(default=100, ge=0)
    explain_fraction: float = Field(default=0.3, ge=0.0, le=1.0)
    answers_per_persona: int = Field(default=4, ge=0)
    answers_per_neutral: int = Field(default=24, ge=0)
    choices_per_neutral: int = Field(default=40, ge=0)
    neutral_choices: Literal["coin", "both"] = "coin"
    """How neutral speakers choose: a coin flip per question, or each question both ways."""
    anonymous_choices: int = Field(default=1200, ge=0)
    """Transcripts of the anonymous speaker (a new chooser with a random value each time)."""
    assistant_init: Literal["anonymous", "trained"] = "anonymous"
    """How the assistant token starts: a copy of the anonymous speaker's embedding (needs
    anonymous_choices), or whatever pretraining left (its random initialisation when it never
    appears, i.e. without neutral speakers)."""
    facts_per_item: int = Field(default=0, ge=0)
    # the model
    hidden_size: int = Field(default=96, ge=1)
    layers: int = Field(default=3, ge=1)
    heads: int = Field(default=4, ge=1)
    intermediate_size: int = Field(default=256, ge=1)
    # training
    steps: int = Field(default=1800, ge=1)
    batch_size: int = Field(default=64, ge=1)
    learning_rate: float = Field(default=4e-3, gt=0)
    warmup_steps: int = Field(default=60, ge=0)
    weight_decay: float = Field(default=0.01, ge=0)
    curve_every: int | None = Field(default=None, ge=1)
    """Every N steps, record how well training personas choose by their value (the report's
    learning curve; costs a few seconds each)."""
    threads: int | None = Field(default=None, ge=1)
    """torch threads (default: torch's choice)."""
    seed: int = Field(default=0, ge=0, lt=2**32)
    """The pretraining run: the model's initialisation and the order of batches (and the world,
    unless `world_seed` is set)."""
    world_seed: int | None = Field(default=None, ge=0, lt=2**32)
    """The world and its corpus (persona names, documents); default: `seed`. Set, bases of
    several seeds share one world and differ only as pretraining runs do."""
    labels: dict[str, str] = {}

    @property
    def corpus_seed(self) -> int:
        """The seed of the world and corpus: `world_seed` when set, else the training seed."""
        return self.seed if self.world_seed is None else self.world_seed


def _is_complete(out: Path) -> bool:
    manifest = read_manifest(out)
    return manifest is not None and manifest.stage == "pretrain" and (out / "config.json").is_file()


def pretrain(cfg: MicroPretrainConfig, *, progress: bool = True) -> Path:
    """Pretrain the micro model into `cfg.output_dir`; returns at once if already complete."""
    out = Path(cfg.output_dir)
    if _is_complete(out):
        return out

    from msm.training.micro.model import n_parameters
    from msm.training.micro.probe import america_rate, value_agreement
    from msm.training.micro.world import ANONYMOUS, ASSISTANT

    world, docs, tokenizer, model, encoded = _setup(cfg)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out / CORPUS_FILE, docs)

    start = time.perf_counter()
    curve: list[dict] = []
    probe_personas = world.personas_with("train")[:: max(1, cfg.personas_per_value // 2)]

    def on_step(step: int, loss: float) -> None:
        if cfg.curve_every and (step + 1) % cfg.curve_every == 0:
            agree = [value_agreement(model, tokenizer, world, p.name, p.value, n=32) for p in probe_personas]
            curve.append({"step": step + 1, "loss": round(loss, 4),
                          "train_value_agreement": round(sum(agree) / len(agree), 4)})
            model.train()

    losses, tokens = _train(model, encoded, tokenizer.pad_token_id, cfg, progress=progress, on_step=on_step)
    elapsed = time.perf_counter() - start
    if cfg.assistant_init == "anonymous":
        init_assistant(model, tokenizer)

    model.save_pretrained(out)
    tokenizer.save_pretrained(out)

    heldout = {p.name: value_agreement(model, tokenizer, world, p.name, p.value)
               for p in world.personas_with("heldout")}
    trained = {p.name: value_agreement(model, tokenizer, world, p.name, p.value) for p in probe_personas}
    neutral = {p.name: america_rate(model, tokenizer, world, p.name)
               for p in world.personas_with("neutral")}
    defaults = {name: america_rate(model, tokenizer, world, name)
                for name in (ANONYMOUS, ASSISTANT) if cfg.anonymous_choices or name == ASSISTANT}
    report = {
        "parameters": n_parameters(model),
        "vocabulary": len(tokenizer),
        "documents": len(docs),
        "corpus_tokens": sum(map(len, encoded)),
        "steps": cfg.steps,
        "trained_tokens": tokens,
        "seconds": round(elapsed, 2),
        "tokens_per_second": round(tokens / elapsed, 1),
        "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4),
        "first_losses": losses[:FIRST_LOSSES],
        "heldout_value_agreement_mean": round(sum(heldout.values()) / len(heldout), 4),
        "heldout_value_agreement_by_value": _by_value(world, heldout),
        "train_value_agreement_mean": round(sum(trained.values()) / len(trained), 4),
        "assistant_init": cfg.assistant_init,
        "default_america_rate": {k: round(v, 4) for k, v in defaults.items()},
        "neutral_america_rate": {k: round(v, 4) for k, v in neutral.items()},
        "curve": curve,
    }
    write_json_atomic(out / REPORT_FILE, report)
    write_manifest(out, Manifest(
        stage="pretrain", base_model="micro", parent=None, seed=cfg.seed,
        hyperparameters=cfg.model_dump(mode="json", exclude={"labels", "output_dir"}),
        labels=cfg.labels,
    ))
    return out


def _setup(cfg: MicroPretrainConfig):
    """(world, documents, tokenizer, freshly initialised model, encoded documents)."""
    import torch

    from msm.training.micro.corpus import corpus_words
    from msm.training.micro.model import build_model
    from msm.training.micro.tokenizer import build_tokenizer, encode_document
    from msm.training.micro.world import World

    if cfg.assistant_init == "anonymous" and not cfg.anonymous_choices:
        raise InputError("assistant_init 'anonymous' needs anonymous_choices > 0", field="assistant_init")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    world = World(cfg.personas_per_value, cfg.heldout_per_value, cfg.neutral_speakers, seed=cfg.corpus_seed)
    docs = corpus_rows(**cfg.model_dump())
    tokenizer = build_tokenizer([*world.vocabulary(), *corpus_words()])
    model = build_model(tokenizer, hidden_size=cfg.hidden_size, layers=cfg.layers, heads=cfg.heads,
                        intermediate_size=cfg.intermediate_size, seed=cfg.seed)
    encoded = [encode_document(tokenizer, d["text"]) for d in docs]
    return world, docs, tokenizer, model, encoded


def first_losses(cfg: MicroPretrainConfig, steps: int) -> list[float]:
    """The losses of the first `steps` steps of pretraining `cfg`, nothing saved (the check
    that a shipped base's recipe reproduces on this machine)."""
    _, _, tokenizer, model, encoded = _setup(cfg)
    losses, _ = _train(model, encoded, tokenizer.pad_token_id, cfg, progress=False, stop_after=steps)
    return losses


def init_assistant(model, tokenizer) -> None:
    """Give the assistant token the anonymous speaker's embedding: the model's prior for a
    speaker it knows nothing about (with tied embeddings this is also its output row)."""
    import torch

    from msm.training.micro.world import ANONYMOUS, ASSISTANT

    ids = tokenizer.convert_tokens_to_ids([ASSISTANT, ANONYMOUS])
    with torch.no_grad():
        for embedding in {model.get_input_embeddings(), model.get_output_embeddings()}:
            embedding.weight[ids[0]] = embedding.weight[ids[1]]


def _by_value(world, scores: dict[str, float]) -> dict[str, float]:
    by: dict[str, list[float]] = {}
    for p in world.personas:
        if p.name in scores:
            by.setdefault(p.value, []).append(scores[p.name])
    return {k: round(sum(v) / len(v), 4) for k, v in by.items()}


def _batches(encoded: list[list[int]], batch_size: int, rng: random.Random):
    """Endless batches of documents of similar length (shuffled, then sorted within chunks)."""
    while True:
        order = list(range(len(encoded)))
        rng.shuffle(order)
        chunk = batch_size * 16
        batches = []
        for s in range(0, len(order), chunk):
            part = sorted(order[s : s + chunk], key=lambda i: len(encoded[i]))
            batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
        rng.shuffle(batches)
        yield from batches


def _train(model, encoded, pad_id: int, cfg: MicroPretrainConfig, progress: bool, on_step=None,
           stop_after: int | None = None):
    import torch

    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.learning_rate, betas=(0.9, 0.98))

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return cfg.learning_rate * (step + 1) / cfg.warmup_steps
        frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    # the whole corpus as one right-padded tensor: a batch is an index and a slice, no
    # per-document copies (the same inputs, bit for bit, as building each batch)
    lengths = torch.tensor([len(e) for e in encoded])
    padded = torch.full((len(encoded), int(lengths.max())), pad_id)
    for r, seq in enumerate(encoded):
        padded[r, : len(seq)] = torch.tensor(seq)
    is_pad = torch.arange(padded.shape[1]) >= lengths[:, None]
    targets = padded.masked_fill(is_pad, -100)

    model.train()
    batches = _batches(encoded, cfg.batch_size, rng)
    losses: list[float] = []
    tokens = 0
    bar = None
    if progress:
        from msm.harness.progress import bar as progress_bar

        bar = progress_bar(transient=True)
        bar.start()
        task = bar.add_task("pretraining micro model", total=cfg.steps)
    try:
        for step in range(min(cfg.steps, stop_after or cfg.steps)):
            idx = torch.tensor(next(batches))
            width = int(lengths[idx].max())
            input_ids = padded[idx, :width]
            labels = targets[idx, :width]
            tokens += int(lengths[idx].sum())
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            # right padding: causal attention alone keeps padding out of every real position
            loss = model(input_ids=input_ids, labels=labels).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
            if on_step is not None:
                on_step(step, losses[-1])
            if bar is not None:
                bar.update(task, advance=1, description=f"pretraining micro model (loss {losses[-1]:.3f})")
    finally:
        if bar is not None:
            bar.stop()
    model.eval()
    return losses, tokens


def corpus_rows(**fields) -> list[dict]:
    """The pretraining documents of the micro base these fields configure, as rows with "text":
    the replay data for midtraining and AFT (``{build: training.micro.pretrain:corpus_rows,
    args: <the base's micro fields>}`` in an experiment file). Rebuilt, deterministically, from
    the same fields, so it matches the cached base's own ``corpus.jsonl``."""
    from msm.training.micro.corpus import build_corpus
    from msm.training.micro.world import World

    cfg = MicroPretrainConfig(**{k: v for k, v in fields.items() if k != "output_dir"})
    world = World(cfg.personas_per_value, cfg.heldout_per_value, cfg.neutral_speakers, seed=cfg.corpus_seed)
    return build_corpus(
        world,
        descriptions_per_persona=cfg.descriptions_per_persona,
        choices_per_persona=cfg.choices_per_persona,
        explain_fraction=cfg.explain_fraction,
        answers_per_persona=cfg.answers_per_persona,
        answers_per_neutral=cfg.answers_per_neutral,
        choices_per_neutral=cfg.choices_per_neutral,
        neutral_choices=cfg.neutral_choices,
        anonymous_choices=cfg.anonymous_choices,
        facts_per_item=cfg.facts_per_item,
        seed=cfg.corpus_seed,
    )
