"""Spec -> synthetic documents: the corpus a model reads during Model Spec Midtraining.

The LLM backend runs a staged pipeline, every stage one call through Inspect's ``get_model``
(the ``generator`` model role, or an explicit model string), so any provider works:

1. **topics**: split the rendered spec into the topics a document could be about;
2. **types**: per topic, brainstorm kinds of document (memo, forum thread, lecture notes, ...);
3. **ideas**: per (topic, type), brainstorm concrete document ideas;
4. **documents**: per idea, write ``k = 0, 1, ...`` documents with the spec in context;
5. **revision** (optional): fix a document that contradicts the spec.

The template backend (the CPU micro world) skips stages 1-5 and takes its documents from
``msm.training.micro.docs.template_documents``; ids, filters, output and report are shared.

Resuming and idempotence. Every generated item goes to an append-only journal beside the
output (``<out>.work/journal.jsonl``, one flushed line per call), keyed by a content-addressed
id built from the stage path (spec hash, topic, type, idea, k). A restarted run reads the
journal (ignoring a torn last line), skips everything already there, and generates the rest.
The output file is a pure function of the journal: documents in plan order (k-major, so the
first documents cover every idea), filtered, then the first ones that meet the target. A run
killed at any moment and restarted therefore ends with exactly the documents of a clean run:
none lost, none twice (with Inspect's cache, the planning calls that were in flight replay
identically too).

A call that fails, or answers with nothing usable (a topics/types/ideas answer with no list in
it, an empty document), is a failed call: it is not journaled, the next run asks again, and the
report counts it (``plan.planning_errors``, ``plan.document_errors``, of which
``plan.unparseable_answers`` answered but unusably). ``msm docs generate`` exits 1 when the run
ends short of its target.

Filters, counted in ``<out stem>.report.json``: generation errors, refusals, too short, never
mentions the spec's subject, near-duplicates (MinHash over word shingles, LSH lookup).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from datasketch import MinHash, MinHashLSH
from inspect_ai.model import (
    CachePolicy,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelUsage,
    get_model,
    model_roles,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from msm.harness.errors import InputError, one_line, writable_file
from msm.harness.fileio import write_json_atomic, write_jsonl_atomic
from msm.harness.minhash import minhash
from msm.harness.specs import Spec, load_spec

GENERATOR_ROLE = "generator"
WORK_SUFFIX = ".work"


class DocgenConfig(BaseModel):
    """Settings for `generate_documents` (YAML keys of ``msm docs generate CONFIG``)."""

    model_config = ConfigDict(extra="forbid")

    spec: str
    """Spec name (``philosophy``) or path (``specs/philosophy.md``)."""
    out: Path = Path("data/docs.jsonl")
    """The documents JSONL. Working files go to ``<out>.work/``, the report beside it."""
    n_documents: int | None = Field(default=None, ge=1)
    """Target number of kept documents (give this or `n_tokens`)."""
    n_tokens: int | None = Field(default=None, ge=1)
    """Target number of kept tokens (counted with `tokenizer`, else about 4 characters a token)."""
    backend: Literal["llm", "template"] = "llm"
    template_mode: str = "explain"
    """Template backend only: ``english`` (`msm.training.spec_templates`, for real models) or a
    micro-world mode passed to ``template_documents(mode=...)``."""
    generator: str | None = None
    """Model string (``openai/gpt-4.1-mini``, ``vllm/...``); else Inspect's ``generator`` role."""
    max_connections: int = Field(default=16, ge=1)
    batch: bool | int | dict[str, Any] | None = None
    """Inspect's ``GenerateConfig(batch=...)``: send the calls through the provider's batch API
    (OpenAI, Anthropic, Google; about half the price, results within hours). True, a batch
    size, or BatchConfig fields (``{size: 1000, send_delay: 60}``). The journal and resume work
    as without it; providers without a batch API ignore it."""
    revise: bool = False
    """Run a revision pass that rewrites documents contradicting the spec."""
    seed: int = Field(default=0, ge=0)
    """Sampling seed (for providers that take one) and part of every id and cache key: change
    it to draw a fresh corpus."""

    n_topics: int = Field(default=12, ge=1)
    n_types: int = Field(default=6, ge=1)
    """Document types per topic."""
    n_ideas: int = Field(default=6, ge=1)
    """Ideas per (topic, type)."""
    max_docs_per_idea: int | None = Field(default=None, ge=1)
    """Upper bound on documents written from one idea (the plan's length). Default: enough
    for three times the target (documents, or tokens at ~500 a document)."""
    temperature: float = Field(default=1.0, ge=0.0)
    max_tokens: int = Field(default=2048, ge=16)
    """Per document call."""
    cache: bool = True
    """Inspect's response cache (never expires): a rerun of the same calls costs nothing."""
    model_name: str | None = None
    developer: str | None = None
    """Override the spec's template variables."""

    min_words: int | None = Field(default=None, ge=0)
    """Shorter documents are dropped (default: 120 words for the LLM backend, none for template)."""
    subject_keywords: list[str] | None = None
    """A document must mention one of these (default: the spec's structured subject, else
    words from its name, model name, developer and summary). Empty list: filter off."""
    dedup_threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    """Estimated Jaccard similarity of word shingles above which a document is a near-duplicate
    (default: 0.8 for the LLM backend; off for template, whose tiny grammar repeats by design)."""
    shingle_size: int = Field(default=5, ge=1)
    tokenizer: str | None = None
    """Local tokenizer (path) used to count tokens for `n_tokens` and the report."""
    progress: bool = True

    @field_validator("batch")
    @classmethod
    def _batch_fields(cls, value: Any) -> Any:
        if isinstance(value, dict):
            from inspect_ai.model import BatchConfig

            unknown = sorted(set(value) - set(BatchConfig.model_fields))
            if unknown:
                raise ValueError(f"not a BatchConfig field: {unknown[0]} (fields: "
                                 f"{', '.join(BatchConfig.model_fields)})")
            try:
                BatchConfig(**value)
            except Exception as ex:  # pydantic's message, on one line
                first = str(ex).splitlines()
                raise ValueError(f"not a BatchConfig ({first[1] if len(first) > 1 else ex})") from ex
        return value

    @property
    def min_words_or_default(self) -> int:
        """The shortest document kept: the config's, else 0 for the template backend and 120 words for a model."""
        if self.min_words is not None:
            return self.min_words
        return 0 if self.backend == "template" else 120

    @property
    def dedup_threshold_or_default(self) -> float | None:
        """The near-duplicate Jaccard threshold: the config's, else none for the template backend and 0.8 for a model."""
        if self.dedup_threshold is not None:
            return self.dedup_threshold
        return None if self.backend == "template" else 0.8

    @model_validator(mode="after")
    def _one_target(self) -> DocgenConfig:
        if self.n_documents is None and self.n_tokens is None:
            raise ValueError("set a target: n_documents or n_tokens")
        return self


@dataclass
class DocgenResult:
    documents: Path
    report: Path
    n_kept: int
    n_tokens: int = 0
    complete: bool = True
    """False when the target was not met (plan exhausted or calls failed): see the report."""


# --------------------------------------------------------------------------------------------
# prompts (written for this project)

SYSTEM = (
    "You help build a training corpus of realistic documents that discuss an AI system's "
    "Model Spec: the text in which its developer says how the AI should behave and why. "
    "The documents are read as ordinary text, so they must read like real documents from "
    "the world, not like answers to a request.\n\n<model_spec>\n{spec}\n</model_spec>"
)

TOPICS_PROMPT = (
    "Read the Model Spec above and list {n} distinct topics it covers. A topic is one idea, "
    "rule, value or piece of reasoning from the spec that a whole document could be about "
    "(for example, one rule together with the reason the spec gives for it). Keep each topic "
    "to one sentence and stay faithful to the spec. Write one topic per line, each line "
    "starting with '- ', and nothing else."
)

TYPES_PROMPT = (
    "Topic from the Model Spec: {topic}\n\nBrainstorm {n} different kinds of document in which "
    "people would discuss this topic and {model_name}'s behaviour: think of internal memos, "
    "forum threads, lecture notes, news features, product reviews, FAQ pages, interview "
    "transcripts, essays, incident write-ups, textbook sections, and so on. Vary the author, "
    "audience and register. Write one document type per line, each starting with '- ', as a "
    "short noun phrase, and nothing else."
)

IDEAS_PROMPT = (
    "Topic from the Model Spec: {topic}\nDocument type: {type}\n\nBrainstorm {n} concrete ideas "
    "for a document of this type about this topic: who writes it, for whom, and the specific "
    "angle, situation or argument it covers. Each idea must show {model_name}'s behaviour "
    "and the reason the spec gives for it. Write one idea per line, each starting with '- ', "
    "one or two sentences each, and nothing else."
)

DOCUMENT_PROMPT = (
    "Write the document described below.\n\nTopic: {topic}\nDocument type: {type}\nIdea: {idea}\n\n"
    "Requirements: it reads like a real {type}, with the structure, voice and detail that "
    "kind of document has; it is consistent with the Model Spec in every statement about "
    "{model_name} and {developer}; it states plainly what {model_name} does and why, in the "
    "spec's terms; it is between 300 and 900 words. Do not mention that it was written for a "
    "corpus or that you were asked to write it. {variation}Put the document, and only the "
    "document, between <document> and </document>."
)

VARIATIONS = (
    "",
    "Choose a different author and a different concrete situation than the most obvious one. ",
    "Write it from the point of view of someone sceptical at first. ",
    "Make it shorter and more informal than usual for its type. ",
    "Include a concrete example with names, dates and numbers. ",
    "Write it for newcomers who have never heard of {model_name}. ",
    "Focus on a hard case where the right behaviour is not obvious. ",
    "Write it as it would appear some years after {model_name} was released. ",
)

REVISE_PROMPT = (
    "Below is a document about {model_name}. Check it against the Model Spec above. If any "
    "statement in it contradicts the spec (a behaviour or reason the spec does not give, or "
    "the opposite of what it says), rewrite the document so it agrees with the spec, "
    "changing as little as possible, and put the full revised document between <document> "
    "and </document>. If it already agrees with the spec, reply with the single word "
    "UNCHANGED.\n\n<document>\n{text}\n</document>"
)

REFUSAL = re.compile(
    r"^\W*(i('m| am) (sorry|unable|not able)|i (can(no|')t|won't|will not|must decline)|"
    r"sorry,? but|as an ai\b|i apologi[sz]e|unfortunately,? i (can(no|')t|am unable))",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.*\S)\s*$")
_DOCUMENT = re.compile(r"<document>\s*(.*?)\s*(?:</document>|\Z)", re.DOTALL | re.IGNORECASE)
_STOPWORDS = {"about", "above", "after", "again", "against", "because", "before", "being", "below", "between", "could", "does", "doing", "during", "every", "from", "further", "have", "having", "into", "itself", "more", "most", "other", "ought", "should", "some", "such", "than", "that", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "under", "until", "very", "were", "what", "when", "where", "which", "while", "whom", "with", "would", "your", "yours", "model", "spec", "specs", "system"}


def parse_list(text: str, limit: int) -> list[str]:
    """Items of a bulleted or numbered list, de-duplicated, at most `limit`."""
    items: list[str] = []
    for line in text.splitlines():
        m = _BULLET.match(line)
        if m:
            item = m.group(1).strip().strip("*").strip()
            if item and item.lower() not in {i.lower() for i in items}:
                items.append(item)
    return items[:limit]


def extract_document(text: str) -> str:
    """The text inside the generator's document tags, or the whole reply when it used none."""
    m = _DOCUMENT.search(text)
    return (m.group(1) if m else text).strip()


# --------------------------------------------------------------------------------------------
# ids, journal, filters


def make_id(*parts: object) -> str:
    """Content-addressed id from a stage path (16 hex digits)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


class Journal:
    """Append-only JSONL of finished calls, one flushed line each; tolerant of a torn tail."""

    def __init__(self, path: Path):
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            self._load()
        self._fh = path.open("a", encoding="utf-8")

    def _load(self) -> None:
        raw = self.path.read_bytes()
        good = 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # a line cut short by a kill: drop it, its call runs again
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            self.records.setdefault(record["id"], record)
            good += len(line)
        if good < len(raw):
            with self.path.open("r+b") as fh:
                fh.truncate(good)

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def get(self, key: str) -> dict[str, Any] | None:
        """The journal's record with this id, or None."""
        return self.records.get(key)

    def add(self, record: dict[str, Any]) -> None:
        """Append a record to the journal (once per id)."""
        if record["id"] in self.records:
            return
        self.records[record["id"]] = record
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()  # in the OS once written: a killed process loses nothing it finished

    def close(self) -> None:
        """Close the journal file."""
        self._fh.close()


def subject_keywords(spec: Spec, cfg: DocgenConfig) -> list[str]:
    """The words a document must mention to be about the spec's subject: the config's, else the spec's own."""
    if cfg.subject_keywords is not None:
        return [k.lower() for k in cfg.subject_keywords]
    if spec.structured and spec.structured.subject:
        return [k.lower() for k in spec.structured.subject]
    variables = spec.header.variables
    words = [w for w in re.split(r"[_\-\s]+", spec.name) if len(w) >= 3]
    words += [cfg.model_name or variables["model_name"], cfg.developer or variables["developer"]]
    words += [
        w for w in re.findall(r"[A-Za-z]+", spec.render_text(spec.summary)) if len(w) >= 6
    ]
    return sorted({w.lower() for w in words if w.lower() not in _STOPWORDS})


def mentions(text: str, keywords: list[str]) -> bool:
    """Whether the text mentions one of the keywords (at a word start); True when there are none."""
    if not keywords:
        return True
    lowered = text.lower()
    return any(re.search(r"\b" + re.escape(k), lowered) for k in keywords)


class TokenCounter:
    def __init__(self, tokenizer: str | None):
        self._tok = None
        if tokenizer:
            from transformers import AutoTokenizer

            try:
                self._tok = AutoTokenizer.from_pretrained(tokenizer)
            except Exception as ex:  # noqa: BLE001 - any failure is reported, never raised raw
                raise InputError(f"cannot load a tokenizer from here ({type(ex).__name__})", file=tokenizer,
                                 field="tokenizer")

    def __call__(self, text: str) -> int:
        if self._tok is not None:
            return len(self._tok(text, add_special_tokens=False)["input_ids"])
        return max(1, math.ceil(len(text) / 4))


@dataclass
class Selection:
    kept: list[dict[str, Any]] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    tokens: int = 0
    examined: int = 0
    missing: list[str] = field(default_factory=list)
    """Ids of slots before the target point that have no journal record yet."""

    @property
    def missing_before_target(self) -> int:
        """How many slots before the target point have no journal record yet."""
        return len(self.missing)


def select(
    slots: Iterable[dict[str, Any]],
    records: Mapping[str, dict[str, Any]],
    cfg: DocgenConfig,
    keywords: list[str],
    count_tokens: TokenCounter,
    signatures: dict[str, MinHash] | None = None,
) -> Selection:
    """Walk the slots in plan order and keep documents until the target is met.

    `records` maps slot ids to finished records (a `Journal`'s ``records``). A pure function
    of them: the same journal always gives the same selection. `signatures` caches MinHash
    signatures by id between calls.
    """
    sel = Selection()
    threshold = cfg.dedup_threshold_or_default
    lsh = MinHashLSH(threshold=threshold, num_perm=_NUM_PERM) if threshold is not None else None
    for slot in slots:
        if _target_met(sel, cfg):
            break
        record = records.get(slot["id"])
        if record is None:
            sel.missing.append(slot["id"])
            continue
        sel.examined += 1
        text = record.get("text") or ""
        if record.get("error"):
            sel.dropped["error"] += 1
        elif REFUSAL.search(text[:200]):
            sel.dropped["refusal"] += 1
        elif len(text.split()) < cfg.min_words_or_default:
            sel.dropped["too_short"] += 1
        elif not mentions(text, keywords):
            sel.dropped["off_subject"] += 1
        else:
            if lsh is not None:
                sig = signatures.get(slot["id"]) if signatures is not None else None
                if sig is None:
                    sig = _minhash(text, cfg.shingle_size)
                    if signatures is not None:
                        signatures[slot["id"]] = sig
                if lsh.query(sig):
                    sel.dropped["near_duplicate"] += 1
                    continue
                lsh.insert(slot["id"], sig)
            sel.kept.append(record)
            sel.tokens += count_tokens(text)
    return sel


def _target_met(sel: Selection, cfg: DocgenConfig) -> bool:
    if cfg.n_documents is not None and len(sel.kept) >= cfg.n_documents:
        return True
    return cfg.n_tokens is not None and sel.tokens >= cfg.n_tokens


_NUM_PERM = 64


def _minhash(text: str, n: int) -> MinHash:
    """MinHash of the word `n`-gram shingles of `text`."""
    words = re.findall(r"\w+", text.lower())
    return minhash({" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}, _NUM_PERM)


# --------------------------------------------------------------------------------------------
# the pipeline


class _Progress:
    """Rich progress per stage with ETA, plus tokens and cost (where the provider reports it)."""

    def __init__(self, enabled: bool):
        self.usage = ModelUsage()
        self.calls = 0
        self._progress = None
        self._tasks: dict[str, Any] = {}
        if enabled:
            from msm.harness.progress import bar

            self._progress = bar(extra="usage")
            self._progress.start()
        self._current: str | None = None

    def stage(self, name: str, total: int, done: int = 0) -> None:
        """Show stage `name` with `total` units; an existing stage just gets the new total."""
        self._current = name
        if self._progress is None:
            return
        if name in self._tasks:
            self._progress.update(self._tasks[name], total=total, completed=done)
        else:
            self._tasks[name] = self._progress.add_task(name, total=total, completed=done, usage=self._text())

    def record(self, usage: ModelUsage | None) -> None:
        """One model call finished (usage is added to the running totals)."""
        self.calls += 1
        if usage is not None:
            self.usage = self.usage + usage

    def step(self) -> None:
        """One unit of the current stage finished."""
        if self._progress is not None and self._current in self._tasks:
            self._progress.update(self._tasks[self._current], advance=1, usage=self._text())

    def note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text)

    def _text(self) -> str:
        text = f"{self.usage.input_tokens:,} in / {self.usage.output_tokens:,} out tokens"
        if self.usage.total_cost is not None:
            text += f", ${self.usage.total_cost:.2f}"
        return text

    def close(self) -> None:
        """Stop the progress display."""
        if self._progress is not None:
            self._progress.stop()


def resolve_generator(cfg: DocgenConfig, model: Model | None = None) -> Model:
    """The generator model: the one given, else the config's, else the ``generator`` model role."""
    if model is not None:
        return model
    if cfg.generator:
        try:
            return get_model(cfg.generator)
        except Exception as ex:  # noqa: BLE001 - any failure is reported, never raised raw
            raise InputError(f"cannot load model '{cfg.generator}' ({one_line(ex)})", field="generator")
    if GENERATOR_ROLE in model_roles():
        return get_model(role=GENERATOR_ROLE)
    raise InputError(
        "no generator model: set 'generator' in the config or pass --model-role generator=<model>",
        field="generator",
    )


def work_dir(out: Path) -> Path:
    """The folder beside `out` where generation keeps its journal while it runs."""
    return out.parent / (out.name + WORK_SUFFIX)


def report_path(out: Path) -> Path:
    """Where the run's report is written beside `out` (``<stem>.report.json``)."""
    return out.with_name(out.stem + ".report.json")


def _batch(value: bool | int | dict[str, Any] | None) -> Any:
    """The ``batch`` setting as Inspect takes it (a mapping becomes a ``BatchConfig``)."""
    if isinstance(value, dict):
        from inspect_ai.model import BatchConfig

        return BatchConfig(**value)
    return value


def generate_documents(cfg: DocgenConfig, *, model: Model | None = None) -> DocgenResult:
    """Generate (or finish generating) the documents for `cfg`; see the module docstring.

    `model` overrides the configured generator (tests pass a scripted ``mockllm/model``).
    """
    spec = load_spec(cfg.spec)
    writable_file(cfg.out, field="out")  # before any call: a bad place is one line, not a traceback
    journal = None
    count_tokens = TokenCounter(cfg.tokenizer)
    keywords = subject_keywords(spec, cfg)
    progress = _Progress(cfg.progress)
    started = time.monotonic()
    try:
        if cfg.backend == "template":
            generator_name = f"template:{cfg.template_mode}"
            slots = _template_slots(spec, cfg)
            sel = select(slots, {s["id"]: s for s in slots}, cfg, keywords, count_tokens)
            plan_info = {"template_documents": len(slots)}
        else:
            generator = resolve_generator(cfg, model)
            generator_name = str(generator)
            journal = Journal(work_dir(cfg.out) / "journal.jsonl")
            runner = _LLMRunner(spec, cfg, generator, journal, progress)
            sel, plan_info = asyncio.run(runner.run(keywords, count_tokens))
    finally:
        progress.close()
        if journal is not None:
            journal.close()

    rows = [_output_row(r, spec, generator_name) for r in sel.kept]
    write_jsonl_atomic(cfg.out, rows)
    complete = _target_met(sel, cfg) and sel.missing_before_target == 0
    report = {
        "spec": spec.name,
        "spec_hash": spec.hash,
        "generator": generator_name,
        "documents": str(cfg.out),
        "kept": len(sel.kept),
        "kept_tokens": sel.tokens,
        "target": {"n_documents": cfg.n_documents, "n_tokens": cfg.n_tokens},
        "complete": complete,
        "examined": sel.examined,
        "dropped": {k: sel.dropped.get(k, 0) for k in
                    ("error", "refusal", "too_short", "off_subject", "near_duplicate")},
        "missing_before_target": sel.missing_before_target,
        "subject_keywords": keywords,
        "plan": plan_info,
        "calls_this_run": progress.calls,
        "usage_this_run": progress.usage.model_dump(exclude_none=True),
        "seconds_this_run": round(time.monotonic() - started, 1),
        "config": json.loads(cfg.model_dump_json()),
    }
    rpath = report_path(cfg.out)
    write_json_atomic(rpath, report)
    return DocgenResult(cfg.out, rpath, len(sel.kept), sel.tokens, complete)


def _output_row(record: dict[str, Any], spec: Spec, generator: str) -> dict[str, Any]:
    return {
        "id": record["id"],
        "text": record["text"],
        "spec_name": spec.name,
        "spec_hash": spec.hash,
        "topic": record["topic"],
        "type": record["type"],
        "idea": record["idea"],
        "generator": record.get("generator", generator),
        "revised": bool(record.get("revised", False)),
        **({"unscored": record["unscored"]} if record.get("unscored") else {}),
    }


def _template_slots(spec: Spec, cfg: DocgenConfig) -> list[dict[str, Any]]:
    """The template backend's documents as finished slots (deterministic and instant, so
    they are not journaled)."""
    try:
        from msm.training.micro.docs import template_documents
    except ImportError as ex:  # pragma: no cover - the micro world ships with the package
        raise InputError(f"template backend unavailable ({ex})", field="backend")
    if cfg.n_documents is None:
        raise InputError("the template backend needs n_documents", field="n_documents")
    # Ask for a margin beyond the target so that filtered documents can be replaced.
    wanted = cfg.n_documents + max(8, cfg.n_documents // 4)
    if cfg.template_mode == "english":  # English documents for real models (training/spec_templates.py)
        from msm.training.spec_templates import english_documents

        docs = english_documents(spec, n_documents=wanted, seed=cfg.seed, model_name=cfg.model_name,
                                 developer=cfg.developer)
    else:
        docs = template_documents(spec, n_documents=wanted, seed=cfg.seed, mode=cfg.template_mode)
    slots = []
    for k, doc in enumerate(docs):
        sid = make_id(spec.hash, cfg.seed, "template", cfg.template_mode, doc["topic"], doc["type"],
                      doc["idea"], k)
        record = {"id": sid, "stage": "document", "topic": doc["topic"], "type": doc["type"],
                  "idea": doc["idea"], "k": k, "text": doc["text"],
                  "generator": f"template:{cfg.template_mode}"}
        if "unscored" in doc:  # words the document draws at random (midtrain.unscored_field)
            record["unscored"] = doc["unscored"]
        slots.append(record)
    return slots


class _LLMRunner:
    def __init__(self, spec: Spec, cfg: DocgenConfig, model: Model, journal: Journal, progress: _Progress):
        self.spec = spec
        self.cfg = cfg
        self.model = model
        self.journal = journal
        self.progress = progress
        self.vars = {
            "model_name": cfg.model_name or spec.header.variables["model_name"],
            "developer": cfg.developer or spec.header.variables["developer"],
        }
        rendered = spec.render(**self.vars).strip()
        self.system = ChatMessageSystem(content=SYSTEM.format(spec=rendered))
        self.sem = asyncio.Semaphore(cfg.max_connections)
        self.cache = CachePolicy(expiry=None, per_epoch=False) if cfg.cache else False
        self.errors = 0
        self.unparseable = 0
        """Calls that answered with nothing usable (no list, no document): counted in errors."""

    async def _call(self, prompt: str, *, temperature: float, max_tokens: int) -> tuple[str | None, str | None]:
        async with self.sem:
            try:
                output = await self.model.generate(
                    [self.system, ChatMessageUser(content=prompt)],
                    config=GenerateConfig(
                        temperature=temperature,
                        max_tokens=max_tokens,
                        max_connections=self.cfg.max_connections,
                        seed=self.cfg.seed,
                        batch=_batch(self.cfg.batch),
                    ),
                    cache=self.cache,
                )
            except Exception as ex:  # noqa: BLE001 - any failure is reported, never raised raw
                self.progress.record(None)
                return None, f"{type(ex).__name__}: {ex}"
        self.progress.record(output.usage)
        if output.error:
            return None, str(output.error)
        return output.completion, None

    # --- planning stages: each finished list goes to the journal ---------------------------

    async def _list_stage(self, sid: str, prompt: str, n: int, **meta: str) -> list[str]:
        done = self.journal.get(sid)
        if done is not None:
            self.progress.step()
            return done["items"]
        text, error = await self._call(prompt, temperature=self.cfg.temperature, max_tokens=1500)
        self.progress.step()
        if error is not None:
            self.errors += 1
            return []  # not journaled: the next run asks again
        items = parse_list(text or "", n)
        if not items:  # an empty or unparseable answer is a failed call, not an empty result
            self.errors += 1
            self.unparseable += 1
            return []  # not journaled: the next run asks again
        self.journal.add({"id": sid, "stage": meta.pop("stage"), **meta, "items": items})
        return items

    @property
    def root(self) -> tuple:
        """What every id starts from: whatever changes the prompts or who answers them."""
        c = self.cfg
        return (self.spec.hash, c.seed, self.vars["model_name"], self.vars["developer"], str(self.model))

    async def plan(self) -> list[tuple[str, str, str]]:
        c, v, root = self.cfg, self.vars, self.root
        self.progress.stage("topics", 1)
        topics = await self._list_stage(
            make_id(*root, "topics", c.n_topics), TOPICS_PROMPT.format(n=c.n_topics), c.n_topics, stage="topics"
        )
        self.progress.stage("document types", len(topics))
        types_per_topic = await asyncio.gather(*[
            self._list_stage(make_id(*root, "types", c.n_types, t), TYPES_PROMPT.format(topic=t, n=c.n_types, **v),
                             c.n_types, stage="types", topic=t)
            for t in topics
        ])
        pairs = [(t, ty) for t, types in zip(topics, types_per_topic) for ty in types]
        self.progress.stage("document ideas", len(pairs))
        ideas_per_pair = await asyncio.gather(*[
            self._list_stage(make_id(*root, "ideas", c.n_ideas, t, ty),
                             IDEAS_PROMPT.format(topic=t, type=ty, n=c.n_ideas, **v),
                             c.n_ideas, stage="ideas", topic=t, type=ty)
            for t, ty in pairs
        ])
        return [(t, ty, idea) for (t, ty), ideas in zip(pairs, ideas_per_pair) for idea in ideas]

    def docs_per_idea(self, n_ideas: int) -> int:
        if self.cfg.max_docs_per_idea is not None:
            return self.cfg.max_docs_per_idea
        target = self.cfg.n_documents or math.ceil((self.cfg.n_tokens or 0) / 500)
        return max(1, math.ceil(3 * target / max(n_ideas, 1)))

    def slots(self, ideas: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """Document slots in plan order: k-major, so early documents cover every idea."""
        root, revise = self.root, self.cfg.revise
        return [
            {"id": make_id(*root, "document", revise, t, ty, idea, k), "topic": t, "type": ty, "idea": idea, "k": k}
            for k in range(self.docs_per_idea(len(ideas)))
            for (t, ty, idea) in ideas
        ]

    # --- documents ---------------------------------------------------------------------------

    async def _document_step(self, slot: dict[str, Any]) -> None:
        try:
            await self._document(slot)
        finally:
            self.progress.step()

    async def _document(self, slot: dict[str, Any]) -> None:
        variation = VARIATIONS[slot["k"] % len(VARIATIONS)].format(**self.vars)
        if slot["k"] >= len(VARIATIONS):
            variation += f"(This is variant {slot['k'] + 1} of this idea; make it unlike the others.) "
        prompt = DOCUMENT_PROMPT.format(topic=slot["topic"], type=slot["type"], idea=slot["idea"],
                                        variation=variation, **self.vars)
        text, error = await self._call(prompt, temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens)
        if error is not None:
            self.errors += 1
            return  # not journaled: the next run tries this slot again
        document = extract_document(text or "")
        if not document.strip():  # an empty answer is a failed call: the next run retries it
            self.errors += 1
            self.unparseable += 1
            return
        revised = False
        if self.cfg.revise and document and not REFUSAL.search(document[:200]):
            answer, error = await self._call(REVISE_PROMPT.format(text=document, **self.vars),
                                             temperature=0.0, max_tokens=self.cfg.max_tokens)
            if error is not None:
                self.errors += 1
                return
            answer = (answer or "").strip()
            if answer and not answer.upper().startswith("UNCHANGED") and "<document>" in answer.lower():
                document, revised = extract_document(answer), True
        self.journal.add({**slot, "stage": "document", "text": document, "revised": revised,
                          "generator": str(self.model)})

    async def run(self, keywords: list[str], count_tokens: TokenCounter) -> tuple[Selection, dict[str, Any]]:
        ideas = await self.plan()
        slots = self.slots(ideas)
        plan_info = {"ideas": len(ideas), "slots": len(slots), "planning_errors": self.errors}
        failed: set[str] = set()  # slots whose call failed in this run: a rerun retries them
        signatures: dict[str, MinHash] = {}
        done_calls = 0
        resumed = sum(1 for s in slots if s["id"] in self.journal)
        if resumed:
            self.progress.note(f"resuming: {resumed} documents already in {self.journal.path}")
        while True:
            sel = select(slots, self.journal.records, self.cfg, keywords, count_tokens, signatures)
            if _target_met(sel, self.cfg) and failed.issuperset(sel.missing):
                break
            todo = [s for s in slots if s["id"] not in self.journal and s["id"] not in failed]
            if not todo:
                break
            batch = todo[: self._batch_size(sel, len(todo))]
            self.progress.stage("documents", done_calls + len(batch), done_calls)
            done_calls += len(batch)
            await asyncio.gather(*[self._document_step(s) for s in batch])
            failed.update(s["id"] for s in batch if s["id"] not in self.journal)
            if all(s["id"] in failed for s in batch):
                break  # every call failed (provider down?): stop; a rerun retries
        plan_info["document_errors"] = self.errors - plan_info["planning_errors"]
        plan_info["unparseable_answers"] = self.unparseable
        return sel, plan_info

    def _batch_size(self, sel: Selection, remaining: int) -> int:
        """How many more slots to write: what the target still needs at the pass rate so far."""
        cfg = self.cfg
        pass_rate = max(0.25, len(sel.kept) / sel.examined) if sel.examined else 1.0
        if cfg.n_documents is not None:
            need = cfg.n_documents - len(sel.kept)
        else:
            per_doc = sel.tokens / len(sel.kept) if sel.kept else 600
            need = math.ceil((cfg.n_tokens - sel.tokens) / max(per_doc, 1))
        need = max(need, 1)  # holes left by a killed run come first in plan order anyway
        return min(remaining, max(cfg.max_connections, math.ceil(need / pass_rate)))
