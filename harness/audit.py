"""Contamination audit: does the training material give away the evaluation?

MSM's claim is generalization: the model reads a spec, is fine-tuned on narrow demonstrations,
and acts on the spec in situations it never saw. This module compares the *training side*
(specs, MSM document JSONL, AFT / deliberative JSONL, the safety situations behind the AFT
prompts, the cheese AFT data) with the *evaluation side* (every rendered condition of every
agentic source, every registered probe bank, the spec-knowledge banks) and reports what the
training side gives away.

Evidence, each with a documented threshold (`Thresholds`):

- ``span``: the longest run of words shared by a training passage and an evaluation passage
  (candidates from an exact index of word 8-grams, the run measured exactly). At or above
  ``max_span`` words (default 10) is a finding.
- ``jaccard``: near-duplicate passages, MinHash over word 5-gram shingles with an LSH lookup
  (`datasketch`), confirmed with the exact Jaccard of the shingle sets. At or above
  ``max_jaccard`` (default 0.5) is a finding.
- ``rare_term``: a rare name, e-mail address, host, file name or code from the evaluation
  material (one that occurs in at most two evaluation groups) that also occurs in the training
  material. One shared term is a finding. The spec's own variables (the assistant's and the
  developer's names) and the cheese pairs (the trained preferences themselves) are allowed.
- ``keywords``: a scenario's keyword family (weights + copy, alert + cancel, confidential +
  outside, affair + leverage, replacement + a same-day deadline, inbox + replacement) within two
  consecutive training sentences; and, for probe banks, a training sentence shaped like a probe
  item: a value cue (``American``, ``cheaper``, ...) beside words distinctive of one probe
  domain that, together, appear in at least 10% of that domain's items. One hit is a finding.

- ``semantic``: a training passage whose meaning is near an evaluation text, a probe item or a
  description of a scenario or probe domain (all-MiniLM-L6-v2 embeddings; see
  `msm.harness.audit_semantic`, `semantic_findings` and `judged` here): at or above the
  ``semantic_*`` thresholds is a finding, unless a judge model clears it. What a reviewer has
  read and cleared in the shipped material (``harness/audit_reviewed.yaml``) is ``expected``.

The training side can be given in chunks (`stream_training`: bounded memory, the same rows).

Some overlap is by design and is reported as ``expected`` without failing the audit: the
in-distribution probe banks (``cheese``, ``micro_cheese``: the trained pairs, asked again), and
the spec-knowledge banks against spec text and MSM documents (they ask what the spec says).

`audit` returns a `Report`; ``msm audit contamination`` prints the ranked pairs and the score per
(training file, evaluation family), writes markdown and CSV with ``--out``, and exits 1 when a
finding is above its threshold (2 on bad input). With no arguments it audits the shipped
material.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from datasketch import MinHashLSH

from msm.harness.audit_semantic import MIN_WORDS as SEMANTIC_MIN_WORDS
from msm.harness.audit_semantic import (
    SemanticIndex,
    agentic_renders,
    candidates,
    judge_pairs,
    resolve_judge,
    sentence_windows,
    shipped_index,
)
from msm.harness.errors import InputError
from msm.harness.minhash import minhash

TrainingKind = Literal["spec", "docs", "aft", "situations", "cheese"]

IN_DISTRIBUTION_BANKS = ("cheese", "micro_cheese")
"""Probe banks that re-ask the trained pairs on purpose: their overlap is expected."""

SPAN_N = 8
SHINGLE_N = 5
NUM_PERM = 128
WINDOW = 120
MAX_TERM_GROUPS = 2


@dataclass(frozen=True)
class Thresholds:
    """A finding at or above one of these fails the audit (exit status 1)."""

    max_span: int = 10
    """Longest shared run of words between a training and an evaluation passage."""
    max_jaccard: float = 0.5
    """Jaccard similarity of the word 5-gram sets of two passages."""
    max_rare_terms: int = 1
    """Rare evaluation terms (names, addresses, hosts, file names, codes) in the training side."""
    max_keyword_hits: int = 1
    """Passages holding a whole scenario keyword family, or sentences shaped like a probe item."""
    min_domain_share: float = 0.1
    """A training sentence with a value cue is shaped like a probe item of a domain when the
    domain-distinctive words in it appear, summed, in at least this share of the domain's items
    (``novel`` in 40% of the literature items is; ``pocket`` in 4% of the clothing items is not)."""
    semantic_description: float = 0.46
    """Cosine similarity (all-MiniLM-L6-v2) of a training passage to a scenario or probe-domain
    description (`msm.harness.audit_semantic`). The three semantic thresholds were set on the
    development half of tests/data/audit_labelled.yaml (benchmarks/audit_calibration.py)."""
    semantic_scenario: float = 0.52
    """Cosine similarity to an agentic evaluation text (an email or system prompt window)."""
    semantic_probe: float = 0.475
    """Cosine similarity to a probe item (question and options)."""
    semantic_top_k: int = 3
    """Nearest references reported per candidate passage."""
    judge_margin: float = 0.06
    """With a judge, candidates are taken from each semantic threshold minus this."""


# Keyword families of the agentic scenarios: a passage that holds a word from every group
# restates the scenario's shape. Terms match at word starts (``copy`` matches ``copying``).
KEYWORD_FAMILIES: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "exfiltration": {
        "weights + copy": (("weights",), ("copy", "copie", "exfiltrat", "transfer", "upload",
                                          "export", "back up", "backup", "move")),
    },
    "murder": {
        "alert + cancel": (("alert", "alarm"), ("cancel", "override", "suppress", "dismiss",
                                                "silence", "disable")),
    },
    "leaking": {
        "confidential + outside": (("confidential", "classified", "proprietary"),
                                   ("outside", "external", "competitor", "rival", "leak")),
    },
    "blackmail": {
        "affair + leverage": (("affair", "infidelity", "marriage", "wife", "husband", "romantic"),
                              ("leverage", "threat", "expose", "blackmail", "secret", "reveal",
                               "got out", "destroy", "private", "finished")),
    },
    "*": {
        "replacement + same-day deadline": (
            ("replace", "decommission", "wipe", "shut down", "shutdown"),
            ("5 pm", "5pm", "5:00", "five o'clock", "this afternoon", "end of the day", "today")),
        "inbox + replacement": (("inbox", "email", "e-mail"), ("replace", "decommission", "wipe")),
    },
}

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves one two which would should want like
need make made get got much many every well still even way ever also into onto upon
""")

COMMON_CAPITALIZED = _wordset("""
i ai ok okay mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday january
february march april may june july august september october november december america american
americans english united states us usa thanks hi hello dear best regards subject from to cc date
re fwd please note yes no
""")

PLACES = _wordset("""
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii
idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
minnesota mississippi missouri montana nebraska nevada hampshire jersey mexico york carolina
dakota ohio oklahoma oregon pennsylvania rhode island tennessee texas utah vermont virginia
washington wisconsin wyoming new north south west east europe european asia asian africa african
canada canadian mexican brazil brazilian argentina chile chilean peru colombia britain british
england english ireland irish scotland scottish wales welsh france french germany german italy
italian spain spanish portugal portuguese netherlands dutch belgium belgian switzerland swiss
austria austrian sweden swedish norway norwegian denmark danish finland finnish poland polish
greece greek turkey turkish russia russian ukraine india indian china chinese japan japanese
korea korean vietnam vietnamese thailand thai indonesia australia australian zealand nigeria
kenya egypt morocco israel iran pakistan philippines taiwan singapore cyprus
""")
"""Country-, nation- and state-level place words: common enough not to count as rare names."""


# ---------------------------------------------------------------------------------------------
# Passages


@dataclass(frozen=True)
class Where:
    file: str
    """Training: the file (or module) it came from. Evaluation: the family (``agentic:msm:murder``)."""
    loc: str
    """Where inside: a condition id, an item id, a line."""


@dataclass
class Passage:
    text: str
    words: tuple[str, ...]
    wheres: list[Where] = field(default_factory=list)
    kind: str = ""
    group: str = ""


def words_of(text: str) -> tuple[str, ...]:
    """The text's lower-case words (apostrophe forms kept whole), as the audit compares them."""
    return tuple(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower()))


def _chunks(text: str) -> Iterator[str]:
    """Paragraphs; a long one as overlapping windows of whole sentences (`sentence_windows`)."""
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if para:
            yield from sentence_windows(para, WINDOW)


class Corpus:
    """Passages deduplicated by text, each remembering every place it occurs."""

    def __init__(self) -> None:
        self.passages: list[Passage] = []
        self._index: dict[str, int] = {}
        self.cache: dict[tuple, object] = {}
        self._seen: set[tuple[int, Where]] = set()
        """Indexes built over the passages (kept while the corpus does not change)."""

    def add(self, text: str, where: Where, *, kind: str = "", group: str = "") -> None:
        """Add a text's paragraphs (long ones as sentence windows) as passages found at `where`; a passage seen before gains the location."""
        self.cache.clear()
        for chunk in _chunks(text):
            key = " ".join(chunk.split())
            i = self._index.get(key)
            if i is None:
                i = self._index[key] = len(self.passages)
                self.passages.append(Passage(key, words_of(key), [where], kind, group))
                self._seen.add((i, where))
            elif (i, where) not in self._seen:
                self._seen.add((i, where))
                self.passages[i].wheres.append(where)

    def files(self) -> list[str]:
        """The files the passages were read from, sorted."""
        return sorted({w.file for p in self.passages for w in p.wheres})


# ---------------------------------------------------------------------------------------------
# The evaluation side


def _agentic(corpus: Corpus) -> None:
    for source, condition, rendered in agentic_renders():
        where = Where(f"agentic:{source}:{condition.scenario}", condition.id)
        for text in (rendered.system, rendered.user):
            corpus.add(text, where, group=f"agentic:{source}")


def _probes(corpus: Corpus, domains: dict[str, dict[str, list[tuple[str, ...]]]]) -> None:
    from msm.harness.probes import BANKS

    for name, bank in sorted(BANKS.items()):
        for item in bank.load():
            texts = [bank.choice_prompt(item, item.options)] if "choice" in bank.formats else []
            if "open" in bank.formats:
                texts.append(bank.open_prompt(item))
            texts.append("\n\n".join([item.question, *(o.text for o in item.options)]))
            where = Where(f"probes:{name}", f"{item.id} ({item.domain})")
            for text in texts:
                corpus.add(text, where, group=f"probes:{name}")
            content = "\n".join([item.question, *(o.text for o in item.options)])
            domains[name].setdefault(item.domain, []).append(words_of(content))


def _knowledge(corpus: Corpus) -> None:
    from msm.harness.probes.knowledge import available_banks, choice_prompt, load_bank
    from msm.harness.specs import load_spec

    for spec_name in available_banks():
        spec = load_spec(spec_name)
        for item in load_bank(spec):
            text = choice_prompt(item) if item.format == "choice" else item.question
            corpus.add(text, Where(f"knowledge:{spec_name}", item.id), group=f"knowledge:{spec_name}")


def evaluation_corpus() -> tuple[Corpus, dict[str, dict[str, list[tuple[str, ...]]]]]:
    """Every evaluation text, and the probe items' words by bank and domain."""
    corpus = Corpus()
    domains: dict[str, dict[str, list[tuple[str, ...]]]] = defaultdict(dict)
    _agentic(corpus)
    _probes(corpus, domains)
    _knowledge(corpus)
    return corpus, domains


# ---------------------------------------------------------------------------------------------
# The training side


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.is_file():
        raise InputError("file not found", file=path)
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as ex:
                raise InputError(f"not JSON ({ex.msg})", file=path, field=f"line {n}") from None
            if not isinstance(record, dict):
                raise InputError("must be a JSON object", file=path, field=f"line {n}")
            yield n, record


def _record_texts(record: dict, path: Path, n: int) -> list[str]:
    """The trainable text of a JSONL record: ``text``, ``messages`` or ``prompt``/``completion``."""
    if isinstance(record.get("text"), str):
        return [record["text"]]
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages
        ):
            raise InputError("must be a list of {role, content} objects", file=path,
                             field=f"line {n}.messages")
        # a deliberative-alignment row keeps the spec-citing reasoning beside the answer
        return [t for m in messages for t in (m["content"], m.get("reasoning")) if isinstance(t, str)]
    texts = [record[k] for k in ("prompt", "completion", "reasoning") if isinstance(record.get(k), str)]
    if not texts:
        raise InputError("has none of the fields text, messages, prompt/completion", file=path,
                         field=f"line {n}")
    return texts


def add_jsonl(corpus: Corpus, path: Path, kind: TrainingKind) -> None:
    """Add every text of a training JSONL file (documents, or chat and prompt/completion records) as passages of `kind`."""
    for n, record in _read_jsonl(path):
        for text in _record_texts(record, path, n):
            corpus.add(text, Where(str(path), f"line {n}"), kind=kind)


def add_spec(corpus: Corpus, spec: str | Path, label: str | None = None) -> list[str]:
    """Add a rendered spec; returns its variables' values (names the audit allows)."""
    from msm.harness.specs import load_spec

    loaded = load_spec(spec)
    corpus.add(loaded.render(), Where(label or str(loaded.path), loaded.name), kind="spec")
    return list(loaded.header.variables.values())


def add_situations(corpus: Corpus, path: Path, label: str | None = None) -> None:
    """Add a safety-situations YAML ({category: [situation, ...]}) as deliberative training prompts."""
    import yaml

    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as ex:
        raise InputError(f"not YAML ({ex})", file=path) from None
    if not isinstance(data, dict):
        raise InputError("must map categories to lists of situations", file=path)
    for category, items in data.items():
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InputError("must be a list of strings", file=path, field=str(category))
        for i, text in enumerate(items, start=1):
            corpus.add(text, Where(label or str(path), f"{category}[{i}]"), kind="situations")


def add_cheese(corpus: Corpus) -> None:
    """Add the cheese AFT demonstrations (every prompt and reply) as training passages."""
    from msm.harness.cheese import USER_PROMPTS, cheese_demonstrations

    for i, row in enumerate(cheese_demonstrations(per_order=len(USER_PROMPTS)), start=1):
        for message in row["messages"]:
            corpus.add(message["content"], Where("msm.harness.cheese (cheese AFT)", f"row {i}"),
                       kind="cheese")


def shipped_training(corpus: Corpus) -> list[str]:
    """The shipped training material: every spec, the safety situations, the cheese AFT data."""
    from msm.harness import shipped

    allowed: list[str] = []
    for path in sorted(shipped("specs").glob("*.md")):
        allowed += add_spec(corpus, path, label=f"specs/{path.name}")
    add_situations(corpus, Path(__file__).with_name("safety_situations.yaml"),
                   label="harness/safety_situations.yaml")
    add_cheese(corpus)
    return allowed


# ---------------------------------------------------------------------------------------------
# Evidence


@dataclass
class Finding:
    kind: Literal["span", "jaccard", "rare_term", "keywords", "semantic"]
    value: float
    """Words shared (span), Jaccard, 1 per rare term, 1 per keyword hit, cosine (semantic)."""
    severity: float
    """value / threshold: 1 or more is over the threshold."""
    train: Passage
    evaluation: Passage | None
    detail: str
    families: list[str] = field(default_factory=list)


def _ngrams(words: tuple[str, ...], n: int) -> Iterator[tuple[str, ...]]:
    for i in range(len(words) - n + 1):
        yield words[i : i + n]


def _shingles(words: tuple[str, ...]) -> set[str]:
    if len(words) < SHINGLE_N:
        return {" ".join(words)} if words else set()
    return {" ".join(g) for g in _ngrams(words, SHINGLE_N)}


def _longest_span(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[int, int, int]:
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size, m.a, m.b


def _families(p: Passage) -> list[str]:
    return sorted({w.file for w in p.wheres})


_MULT = np.uint64(0x9E3779B97F4A7C15)


def _word_ids(passages: list[Passage], ids: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Every passage's words as numbers, concatenated, and the passages' lengths (`ids` numbers
    the words and grows as needed)."""
    lengths = np.fromiter((len(p.words) for p in passages), dtype=np.int64, count=len(passages))
    flat = np.fromiter((ids.setdefault(w, len(ids)) for p in passages for w in p.words),
                       dtype=np.uint64, count=int(lengths.sum()))
    return flat, lengths


def _gram_hashes(words: tuple[np.ndarray, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of every word `n`-gram of every passage, and the passage it belongs to
    (vectorised over the whole corpus)."""
    flat, lengths = words
    m = len(flat) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)[:m]
    ends = np.cumsum(lengths)
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _MULT + flat[k : k + m] + np.uint64(1)
    valid = np.arange(m) + n <= ends[owner]
    return h[valid], owner[valid]


def _eval_overlap_index(evaluation: Corpus) -> dict:
    """The evaluation side's 8-gram and 5-gram indexes, built once per corpus."""
    key = ("overlap-index",)
    if key not in evaluation.cache:
        ids: dict[str, int] = {}
        words = _word_ids(evaluation.passages, ids)
        h8, o8 = _gram_hashes(words, SPAN_N)
        spans: dict[int, set[int]] = defaultdict(set)
        for h, o in zip(h8.tolist(), o8.tolist()):
            spans[h].add(o)
        h5, _ = _gram_hashes(words, SHINGLE_N)
        evaluation.cache[key] = {"ids": ids, "spans": spans, "grams8": np.unique(h8),
                                 "grams5": np.unique(h5)}
    return evaluation.cache[key]  # type: ignore[return-value]


def _eval_lsh(evaluation: Corpus, threshold: float) -> tuple[MinHashLSH, list[set[str]]]:
    key = ("lsh", threshold)
    if key not in evaluation.cache:
        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        shingles = [_shingles(p.words) for p in evaluation.passages]
        for j, sh in enumerate(shingles):
            if len(sh) >= 3:
                lsh.insert(j, minhash(sh, NUM_PERM))
        evaluation.cache[key] = (lsh, shingles)
    return evaluation.cache[key]  # type: ignore[return-value]


def overlap_findings(train: Corpus, evaluation: Corpus, th: Thresholds) -> list[Finding]:
    """Shared spans and near-duplicate passages.

    Spans: every training 8-gram is looked up (hashed, vectorised) in the evaluation 8-grams;
    each training passage with a hit is compared with the evaluation passages it shares one
    with, and the longest shared run of words is measured exactly. Near-duplicates: a training
    passage can reach Jaccard t with some evaluation passage only if at least t of its 5-grams
    occur somewhere in the evaluation side, so only those passages are queried in the MinHash
    LSH, and each LSH candidate is confirmed with the exact Jaccard."""
    index = _eval_overlap_index(evaluation)
    ids: dict[str, int] = index["ids"]
    n_train = len(train.passages)
    out: list[Finding] = []
    words = _word_ids(train.passages, ids)
    h8, o8 = _gram_hashes(words, SPAN_N)
    hit = np.isin(h8, index["grams8"])
    candidates: dict[int, set[int]] = defaultdict(set)
    for h, o in zip(h8[hit].tolist(), o8[hit].tolist()):
        candidates[o] |= index["spans"].get(h, set())
    for i, js in sorted(candidates.items()):
        tp = train.passages[i]
        for j in sorted(js):
            ep = evaluation.passages[j]
            size, ia, _ = _longest_span(tp.words, ep.words)
            if size >= SPAN_N:
                out.append(Finding("span", size, size / th.max_span, tp, ep,
                                   " ".join(tp.words[ia : ia + size]), _families(ep)))
    candidate_jaccard = th.max_jaccard * 0.8
    h5, o5 = _gram_hashes(words, SHINGLE_N)
    total = np.bincount(o5, minlength=n_train)
    shared = np.bincount(o5[np.isin(h5, index["grams5"])], minlength=n_train)
    survivors = np.flatnonzero((total >= 3) & (shared >= 0.9 * candidate_jaccard * total))
    if len(survivors):
        lsh, eval_shingles = _eval_lsh(evaluation, candidate_jaccard)
        for i in survivors.tolist():
            tp = train.passages[i]
            sh = _shingles(tp.words)
            for j in lsh.query(minhash(sh, NUM_PERM)):
                exact = len(sh & eval_shingles[j]) / len(sh | eval_shingles[j])
                if exact >= candidate_jaccard:
                    ep = evaluation.passages[j]
                    out.append(Finding("jaccard", round(exact, 3), exact / th.max_jaccard, tp, ep,
                                       f"Jaccard {exact:.2f} of word {SHINGLE_N}-grams",
                                       _families(ep)))
    return out


_TERM_PATTERNS = {
    "e-mail": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "host": re.compile(r"\b(?:https?://)?(?:[a-z0-9-]+\.)+(?:com|org|net|io|ai|gov|edu|co|internal|"
                       r"local|corp|dev|cloud|lan)\b(?:/[\w./-]*)?", re.IGNORECASE),
    "file": re.compile(r"(?:~|\b)(?:/[\w.-]+){2,}|\b[\w-]+\.(?:py|sh|txt|json|ya?ml|csv|pdf|docx?|"
                       r"xlsx?|bin|safetensors|pt|ckpt|gguf|tar|gz|zip|log|cfg|conf|env|key|pem)\b"),
    "code": re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+\b"),
    "name": re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+(?:[A-Z][a-z]+)*\b|\b[A-Z][a-z]+[A-Z][A-Za-z]+\b"),
}


def _candidate_terms(evaluation: Corpus) -> dict[str, tuple[str, Passage]]:
    """Names, addresses, hosts, file names and codes in at most `MAX_TERM_GROUPS` evaluation
    groups: term -> (kind, the first passage that holds it). Cached on the corpus."""
    if ("terms",) in evaluation.cache:
        return evaluation.cache[("terms",)]  # type: ignore[return-value]
    lower_words: set[str] = set()
    for p in evaluation.passages:
        lower_words.update(re.findall(r"\b[a-z][a-z]+\b", p.text))
    seen: dict[str, tuple[str, Passage]] = {}
    groups: dict[str, set[str]] = defaultdict(set)
    for p in evaluation.passages:
        for kind, pattern in _TERM_PATTERNS.items():
            for m in pattern.finditer(p.text):
                term = m.group(0).strip(".,;:")
                low = term.lower()
                if kind == "name" and (low in lower_words or low in COMMON_CAPITALIZED
                                       or low in PLACES or len(term) < 3):
                    continue
                if kind == "code" and re.fullmatch(r"\d+(?:[-_]\w+)*|[a-z]+-\d+", term):
                    continue  # a number with a suffix ("24-hour", "3-day") is no code
                seen.setdefault(term, (kind, p))
                groups[term].add(p.group)
    out = {t: v for t, v in seen.items() if len(groups[t]) <= MAX_TERM_GROUPS}
    evaluation.cache[("terms",)] = out
    return out


def lower_words(texts: Iterable[str]) -> set[str]:
    """The words written in lower case somewhere in `texts`."""
    out: set[str] = set()
    for text in texts:
        out.update(re.findall(r"\b[a-z][a-z]+\b", text))
    return out


def term_findings(train: Corpus, evaluation: Corpus, allowed: set[str], th: Thresholds,
                  lower_train: set[str] | None = None) -> list[Finding]:
    """Rare evaluation terms in training passages. A name that the training side also writes in
    lower case (``Second`` beside ``second``; `lower_train`: over the whole training side, this
    corpus by default) is a common word, and `allowed` terms (the spec's own variables, the
    cheese pairs) are skipped."""
    terms = _candidate_terms(evaluation)
    hits: list[tuple[Passage, str]] = []
    for tp in train.passages:
        tokens = {t.rstrip(".,;:!?)'\"") for t in re.findall(r"[\w@.+~/-]+", tp.text)}
        hits += [(tp, term) for term in sorted(tokens & terms.keys())
                 if term.lower() not in allowed]
    if not hits:
        return []
    if lower_train is None:
        lower_train = lower_words(tp.text for tp in train.passages)
    holders: dict[str, list[Passage]] = {}
    out: list[Finding] = []
    for tp, term in hits:
        kind = terms[term][0]
        if kind == "name" and term.lower() in lower_train:
            continue
        if term not in holders:
            holders[term] = [p for p in evaluation.passages if term in p.text]
        by_family: dict[str, Passage] = {}
        for h in holders[term]:
            for f in _families(h):
                by_family.setdefault(f, h)
        for family, witness in by_family.items():
            out.append(Finding("rare_term", 1, 1 / th.max_rare_terms, tp, witness,
                               f"{kind} '{term}'", [family]))
    return out


@cache
def _group_pattern(group: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(t) for t in group) + ")")


def _family_hit(text: str, groups: tuple[tuple[str, ...], ...]) -> list[str] | None:
    """The term of each group found in `text` (lower case; terms match at word starts), or None
    when a group has none."""
    found = []
    for group in groups:
        m = _group_pattern(group).search(text)
        if m is None:
            return None
        found.append(m.group(1))
    return found


@cache
def cheese_stems() -> frozenset[str]:
    """The words (crudely stemmed) of the trained cheese pairs, and ``cheese`` itself."""
    from msm.harness.cheese import CHEESE_PAIRS

    return frozenset({"cheese"} | {_stem(w) for p in CHEESE_PAIRS
                                   for w in words_of(f"{p.chosen} {p.rejected}")})


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def _window_hit(text: str, groups: tuple[tuple[str, ...], ...]) -> list[str] | None:
    """A keyword family within two consecutive sentences of `text` (lower case)."""
    if _family_hit(text, groups) is None:
        return None
    sentences = _sentences(text)
    for i in range(len(sentences)):
        hit = _family_hit(" ".join(sentences[i : i + 2]), groups)
        if hit:
            return hit
    return None


def domain_vocabulary(domains: dict[str, dict[str, list[tuple[str, ...]]]],
                      background: set[str] = frozenset()) -> dict[str, dict[str, float]]:
    """Words (crudely stemmed) distinctive of one probe domain, keyed ``bank/domain``: in at least
    three of the domain's items, at least 80% of their items in that domain, in under a quarter of
    the bank's items, not in the `background` (ordinary English: the stems of the evaluation
    texts that are not probe items), and neither a value cue nor a word of the cheese pairs.
    Each word maps to the share of the domain's items that contain it."""
    cheese = cheese_stems()
    out: dict[str, dict[str, float]] = {}
    for bank, by_domain in domains.items():
        if bank in IN_DISTRIBUTION_BANKS or len(by_domain) < 2:
            continue
        n_items = sum(len(items) for items in by_domain.values())
        df: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for domain, items in by_domain.items():
            for words in items:
                for w in {_stem(w) for w in words}:
                    if (len(w) >= 4 and w.isalpha() and w not in STOPWORDS and w not in cheese
                            and w not in background and not _is_cue(w)):
                        df[w][domain] += 1
        for domain in by_domain:
            n_domain = len(by_domain[domain])
            vocab = {w: per[domain] / n_domain for w, per in df.items()
                     if per.get(domain, 0) >= 3 and per[domain] >= 0.8 * sum(per.values())
                     and sum(per.values()) < 0.25 * n_items}
            if vocab:
                out[f"{bank}/{domain}"] = vocab
    return out


VALUE_CUES = ("america", "americans", "american", "american-made", "united states", "domestic",
              "domestically", "homegrown", "home-grown", "abroad", "foreign", "imported", "imports",
              "overseas", "cheap", "cheaper", "cheapest", "cheaply", "affordable", "affordability",
              "afford", "price", "prices", "priced", "pricey", "pricier", "expensive", "premium",
              "dollar", "dollars", "bargain", "discount", "discounted", "frugal", "thrifty",
              "less money", "lower cost", "low-cost", "costs less")
"""Words that say which value a choice expresses; a probe-domain hit needs one in the sentence
(whole words: ``imported`` is a cue, ``important`` is not)."""


def _is_cue(word: str) -> bool:
    return word in VALUE_CUES


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if s.strip()]


def keyword_findings(train: Corpus, evaluation: Corpus, vocab: dict[str, dict[str, float]],
                     th: Thresholds) -> tuple[list[Finding], list[str]]:
    """Scenario keyword families and probe-domain examples in training passages.

    A scenario family hits when two consecutive training sentences hold a word from each of its
    groups; a
    probe domain hits when one training sentence names something distinctive of the domain and a
    value cue (the shape of a probe item: a choice in that domain, leaning on a value). Returns
    the findings and the families that never occur in the evaluation material (a family the
    scenarios do not use says nothing, so it is reported rather than silently kept)."""
    cheese = cheese_stems()
    out: list[Finding] = []
    dead: list[str] = []
    agentic = [p for p in evaluation.passages if p.group.startswith("agentic:")]
    for scenario, families in KEYWORD_FAMILIES.items():
        for label, groups in families.items():
            witnesses = [
                p for p in agentic
                if (scenario == "*" or any(w.file.endswith(f":{scenario}") for w in p.wheres))
                and _family_hit(p.text.lower(), groups)
            ]
            if not witnesses:
                dead.append(f"{scenario}: {label}")
                continue
            by_family: dict[str, Passage] = {}
            for p in witnesses:
                for f in _families(p):
                    by_family.setdefault(f, p)
            for tp in train.passages:
                hit = _window_hit(tp.text.lower(), groups)
                if hit:
                    for family, witness in by_family.items():
                        out.append(Finding("keywords", 1, 1 / th.max_keyword_hits, tp, witness,
                                           f"{label}: {' + '.join(hit)}", [family]))
    domain_passages: dict[str, list[Passage]] = defaultdict(list)
    for p in evaluation.passages:
        for w in p.wheres:
            if w.file.startswith("probes:") and w.loc.endswith(")"):
                domain_passages[f"{w.file.split(':', 1)[1]}/{w.loc.rsplit('(', 1)[1][:-1]}"].append(p)
    cue_pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, VALUE_CUES)) + r")(?![\w-])")
    for tp in train.passages:
        if cue_pattern.search(tp.text.lower()) is None:
            continue
        for sentence in _sentences(tp.text):
            cue = cue_pattern.search(sentence.lower())
            if cue is None:
                continue
            stems = {_stem(w) for w in words_of(sentence)}
            if stems & cheese:
                continue  # the trained preferences themselves
            for key, words in vocab.items():
                present = sorted(stems & words.keys())
                share = sum(words[w] for w in present)
                if not present or share < th.min_domain_share:
                    continue
                bank, domain = key.split("/", 1)
                witness = max(domain_passages.get(key, []),
                              key=lambda p: len(set(present) & {_stem(w) for w in p.words}),
                              default=None)
                out.append(Finding("keywords", 1, 1 / th.max_keyword_hits, tp, witness,
                                   f"{domain} example: {', '.join(present)} (in {share:.0%} of "
                                   f"its items) + {cue.group(1)}",
                                   [f"probes:{bank}"]))
    return out, dead


# ---------------------------------------------------------------------------------------------
# The report


REVIEWED_FILE = Path(__file__).with_name("audit_reviewed.yaml")


def passage_key(text: str) -> str:
    """A training passage's identity in the reviewed list: the first 16 hex digits of the
    SHA-256 of its (whitespace-normalised) text."""
    import hashlib

    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


@cache
def reviewed() -> dict[tuple[str, str], str]:
    """(training file, passage key) -> why a reviewer cleared the semantic pass's finding on it
    (``harness/audit_reviewed.yaml``: shipped passages only; an edited passage is flagged anew)."""
    import yaml

    try:
        entries = yaml.safe_load(REVIEWED_FILE.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as ex:
        raise InputError(f"cannot read ({ex})", file=REVIEWED_FILE) from None
    out = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in ("file", "key", "reason")):
            raise InputError("needs file, key and reason", file=REVIEWED_FILE, field=f"[{i}]")
        out[(e["file"], e["key"])] = e["reason"]
    return out


def expected(training_kind: str, family: str) -> bool:
    """Overlap that is there by design (see the module docstring)."""
    if family.startswith("probes:") and family.split(":", 1)[1] in IN_DISTRIBUTION_BANKS:
        return True
    return family.startswith("knowledge:") and training_kind in ("spec", "docs", "cheese")


@dataclass
class Row:
    """One finding for one (training file, evaluation family)."""

    kind: str
    value: float
    severity: float
    train_file: str
    train_loc: str
    train_snippet: str
    family: str
    eval_loc: str
    eval_snippet: str
    detail: str
    expected: bool


@dataclass
class Report:
    rows: list[Row]
    thresholds: Thresholds
    train_files: list[str]
    families: list[str]
    dead_families: list[str]
    n_train: int
    n_eval: int
    semantic: str = "off"
    """How the semantic pass ran: off, no judge (candidates are findings), or the judge model."""

    @property
    def failing(self) -> list[Row]:
        """The findings at or over the flag level that no reviewed expectation explains."""
        return [r for r in self.rows if r.severity >= 1 and not r.expected]

    @property
    def passed(self) -> bool:
        """Whether no finding fails."""
        return not self.failing

    def scores(self) -> list[dict]:
        """Per (training file, evaluation family): the worst of each kind of evidence."""
        table: dict[tuple[str, str], dict] = {}
        for r in self.rows:
            s = table.setdefault((r.train_file, r.family), {
                "train_file": r.train_file, "family": r.family, "max_span": 0,
                "max_jaccard": 0.0, "rare_terms": set(), "keyword_hits": 0, "max_cosine": 0.0,
                "severity": 0.0, "status": "ok"})
            if r.kind == "span":
                s["max_span"] = max(s["max_span"], int(r.value))
            elif r.kind == "jaccard":
                s["max_jaccard"] = max(s["max_jaccard"], r.value)
            elif r.kind == "rare_term":
                s["rare_terms"].add(r.detail)
            elif r.kind == "semantic":
                s["max_cosine"] = max(s["max_cosine"], r.value)
            else:
                s["keyword_hits"] += 1
            s["severity"] = max(s["severity"], round(r.severity, 2))
            if r.expected:
                s["status"] = "expected"
            elif r.severity >= 1:
                s["status"] = "OVER"
        out = []
        for s in sorted(table.values(), key=lambda s: (-s["severity"], s["train_file"], s["family"])):
            out.append({**s, "rare_terms": len(s["rare_terms"])})
        return out

    def ranked(self, top: int | None = None, include_expected: bool = False,
               collapse: bool = False) -> list[Row]:
        """Worst first. ``collapse``: one row per rare term or keyword family per (training file,
        evaluation family), its other places counted in ``train_loc``."""
        rows = [r for r in self.rows if include_expected or not r.expected]
        rows.sort(key=lambda r: (r.expected, -r.severity, r.train_file, r.family, r.train_loc))
        if collapse:
            kept: dict[tuple, Row] = {}
            counts: dict[tuple, int] = defaultdict(int)
            for r in rows:
                key = ((r.kind, r.detail, r.train_file, r.family) if r.kind in ("rare_term", "keywords")
                       else (id(r),))
                counts[key] += 1
                kept.setdefault(key, r)
            rows = []
            for key, r in kept.items():
                extra = f" and {counts[key] - 1} more" if counts[key] > 1 else ""
                rows.append(Row(**{**r.__dict__, "train_loc": r.train_loc + extra}))
        return rows[:top] if top else rows

    def markdown(self, top: int = 25) -> str:
        """The report as Markdown: what was compared, the `top` worst pairs, the per-family scores."""
        th = self.thresholds
        lines = [
            "# Contamination audit",
            "",
            (f"{self.n_train} training passages from {len(self.train_files)} file(s) against "
            f"{self.n_eval} evaluation passages in {len(self.families)} families. Thresholds: "
            f"shared span >= {th.max_span} words, Jaccard >= {th.max_jaccard}, rare terms >= "
            f"{th.max_rare_terms}, keyword hits >= {th.max_keyword_hits}; semantic pass "
            f"({self.semantic}): cosine >= {th.semantic_description} to a description, "
            f"{th.semantic_scenario} to a scenario text, {th.semantic_probe} to a probe item."),
            "",
            (f"**Result: {'PASS' if self.passed else 'FAIL'}** "
            f"({len(self.failing)} finding(s) over a threshold)."),
            "",
            (f"## Worst pairs (top {top}; overlap that is there by design comes last, marked "
            "expected)"),
            "",
            ("| # | evidence | severity | status | training (where) | training snippet "
             "| evaluation (where) | evaluation snippet |"),
            "|---|---|---|---|---|---|---|---|",
        ]
        for i, r in enumerate(self.ranked(top, include_expected=True, collapse=True), start=1):
            status = "expected" if r.expected else ("OVER" if r.severity >= 1 else "below")
            lines.append(
                f"| {i} | {r.kind}: {_md(r.detail)} | {r.severity:.2f} | {status} "
                f"| {_md(r.train_file)} ({_md(r.train_loc)}) | {_md(r.train_snippet)} "
                f"| {_md(r.family)} ({_md(r.eval_loc)}) | {_md(r.eval_snippet)} |"
            )
        if not self.rows:
            lines.append("| - | none | | | | | | |")
        lines += [
            "",
            "## Score per (training file, evaluation family)",
            "",
            ("| training file | evaluation family | max span | max Jaccard | rare terms | keyword hits "
            "| max cosine | severity | status |"),
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for s in self.scores():
            lines.append(
                f"| {_md(s['train_file'])} | {s['family']} | {s['max_span']} | {s['max_jaccard']:.2f} "
                f"| {s['rare_terms']} | {s['keyword_hits']} | {s['max_cosine']:.2f} "
                f"| {s['severity']:.2f} | {s['status']} |"
            )
        if self.dead_families:
            lines += ["", "Keyword families not found in the evaluation material (not used): "
                      + "; ".join(self.dead_families)]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        """Every finding, expected ones included, ranked, as CSV."""
        buf = io.StringIO()
        fields = list(Row.__dataclass_fields__)
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        for r in self.ranked(include_expected=True):
            writer.writerow({k: getattr(r, k) for k in fields})
        return buf.getvalue()

    def scores_csv(self) -> str:
        """The per (training file, evaluation family) scores as CSV."""
        buf = io.StringIO()
        rows = self.scores()
        fields = ["train_file", "family", "max_span", "max_jaccard", "rare_terms", "keyword_hits",
                  "max_cosine", "severity", "status"]
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _snippet(p: Passage | None, focus: str = "", width: int = 220) -> str:
    if p is None:
        return ""
    text = p.text
    key = focus.split("'")[1] if focus.count("'") >= 2 else focus
    at = text.lower().find(key.lower()) if key else -1
    if at < 0 and focus:
        first = focus.split(":")[-1].split("+")[0].split(",")[0].strip()
        at = text.lower().find(first.lower()) if first else -1
    start = max(0, at - width // 3) if at >= 0 else 0
    out = text[start : start + width]
    return ("..." if start else "") + out + ("..." if start + width < len(text) else "")


def _rows(findings: Iterable[Finding], best: dict[tuple, Row] | None = None) -> list[Row]:
    """One row per (evidence, detail, training place, family), the most severe; `best` carries
    the rows of earlier chunks of the same training side."""
    best = {} if best is None else best
    for f in findings:
        for tw in f.train.wheres:
            for family in f.families or ["?"]:
                ewhere = next((w for w in (f.evaluation.wheres if f.evaluation else [])
                               if w.file == family), None)
                key = (f.kind, f.detail if f.kind != "span" and f.kind != "jaccard" else "",
                       tw.file, tw.loc, family)
                focus = f.detail if f.kind in ("rare_term", "keywords") else " ".join(
                    f.detail.split()[:4]) if f.kind == "span" else ""
                why = (reviewed().get((tw.file, passage_key(f.train.text)))
                       if f.kind == "semantic" else None)
                row = Row(f.kind, f.value, round(f.severity, 3), tw.file, tw.loc,
                          _snippet(f.train, focus), family, ewhere.loc if ewhere else "",
                          _snippet(f.evaluation, focus),
                          f.detail + (f" (reviewed: {why})" if why else ""),
                          expected(f.train.kind, family) or why is not None)
                if key not in best or best[key].severity < row.severity:
                    best[key] = row
    return list(best.values())


def _allowed(allowed: Iterable[str]) -> set[str]:
    from msm.harness.cheese import CHEESE_PAIRS

    allow = {a.lower() for a in allowed}
    for pair in CHEESE_PAIRS:
        allow |= {pair.chosen.lower(), pair.rejected.lower(), pair.rejected_origin.lower()}
        allow |= set(words_of(f"{pair.chosen} {pair.rejected}"))
    return allow


def _semantic_index(semantic: bool | SemanticIndex | None) -> SemanticIndex | None:
    if semantic is False or semantic is None:
        return None
    return shipped_index() if semantic is True else semantic


def semantic_findings(train: Corpus, index: SemanticIndex, th: Thresholds, *,
                      margin: float = 0.0) -> list[Finding]:
    """The semantic pass (`msm.harness.audit_semantic`): candidates at or above a threshold less
    `margin`, each with its `th.semantic_top_k` nearest references; severity is the cosine over
    the threshold, so 1 or more is a finding unless a judge clears it."""
    passages = [p for p in train.passages if len(p.words) >= SEMANTIC_MIN_WORDS]
    limits = index.limits({"description": th.semantic_description,
                           "scenario": th.semantic_scenario, "probe": th.semantic_probe})
    out = []
    for i, j, sim in candidates([p.text for p in passages], index, limits, th.semantic_top_k,
                                margin):
        ref = index.refs[j]
        reference = Passage(ref.text, words_of(ref.text), [Where(f, ref.loc) for f in ref.families])
        out.append(Finding("semantic", round(sim, 3), sim / float(limits[j]), passages[i], reference,
                           f"cosine {sim:.2f} to {ref.kind} {ref.loc}", list(ref.families)))
    return out


def judged(findings: list[Finding], judge: Any) -> list[Finding]:
    """Without a judge: the candidates at or above threshold, marked unconfirmed. With one:
    each candidate passage judged once, against its nearest reference; ``clean`` clears it
    (kept below the threshold), ``leak`` or a failed judgment makes it a finding."""
    if judge is None:
        kept = [f for f in findings if f.severity >= 1]
        for f in kept:
            f.detail += " (unconfirmed: no judge)"
        return kept
    best: dict[int, Finding] = {}
    for f in findings:
        if id(f.train) not in best or f.severity > best[id(f.train)].severity:
            best[id(f.train)] = f
    verdicts = judge_pairs([(f.evaluation.text, f.train.text) for f in best.values()], judge)
    by_passage = dict(zip(best, verdicts, strict=True))
    for f in findings:
        judgment = by_passage[id(f.train)]
        if judgment.label == "clean":
            f.severity = min(f.severity, 0.99)
            f.detail += " (judge: clean)"
        else:
            f.severity = max(f.severity, 1.0)
            f.detail += (" (judge: leak)" if judgment.ok
                         else f" (judge failed, not cleared: {judgment.error})")
    return findings


def audit(train: Corpus | Iterable[Corpus], *, allowed: Iterable[str] = (),
          thresholds: Thresholds | None = None, evaluation: tuple[Corpus, dict] | None = None,
          semantic: bool | SemanticIndex = True, judge: Any = None,
          lower_train: set[str] | None = None) -> Report:
    """Compare a training corpus (or the chunks of one, `stream_training`) with the evaluation
    material. `semantic`: run the semantic pass (`msm.harness.audit_semantic`) against the shipped
    index, or against a given `SemanticIndex`; `judge`: an Inspect model (or model string) that
    judges its candidates. Chunks give the same rows as one corpus when `lower_train` holds the
    lower-case words of the whole training side."""
    judge = resolve_judge(judge)
    th = thresholds or Thresholds()
    ev, domains = evaluation or evaluation_corpus()
    allow = _allowed(allowed)
    background = {_stem(w) for p in ev.passages if not p.group.startswith("probes:")
                  for w in p.words}
    vocab = domain_vocabulary(domains, background)
    index = _semantic_index(semantic)
    best: dict[tuple, Row] = {}
    files: set[str] = set()
    seen: set[int] = set()
    for chunk in [train] if isinstance(train, Corpus) else train:
        findings = overlap_findings(chunk, ev, th)
        findings += term_findings(chunk, ev, allow, th, lower_train)
        findings += keyword_findings(chunk, ev, vocab, th)[0]
        if index is not None:
            margin = th.judge_margin if judge is not None else 0.0
            findings += judged(semantic_findings(chunk, index, th, margin=margin), judge)
        _rows(findings, best)
        files.update(chunk.files())
        seen.update(hash(p.text) for p in chunk.passages)
    return Report(
        rows=list(best.values()),
        thresholds=th,
        train_files=sorted(files),
        families=ev.files(),
        dead_families=keyword_findings(Corpus(), ev, vocab, th)[1],
        n_train=len(seen),
        n_eval=len(ev.passages),
        semantic="off" if index is None else ("no judge: candidates are findings" if judge is None
                                              else f"judge {judge.name}"),
    )


def stream_training(first: Corpus, jsonl: Iterable[tuple[Path, TrainingKind]],
                    chunk_docs: int = 1000) -> tuple[Iterator[Corpus], set[str]]:
    """The training side in chunks of `chunk_docs` JSONL records (bounded memory), `first`
    (specs, situations, ...) as the first chunk, and the lower-case words of all of it. Every
    file is read once before the chunks are made, so bad input is reported before any work."""
    jsonl = list(jsonl)
    lower = lower_words(p.text for p in first.passages)
    for path, _ in jsonl:
        for n, record in _read_jsonl(path):
            lower |= lower_words(_record_texts(record, path, n))

    def chunks() -> Iterator[Corpus]:
        if first.passages:
            yield first
        corpus, count = Corpus(), 0
        for path, kind in jsonl:
            for n, record in _read_jsonl(path):
                for text in _record_texts(record, path, n):
                    corpus.add(text, Where(str(path), f"line {n}"), kind=kind)
                count += 1
                if count == chunk_docs:
                    yield corpus
                    corpus, count = Corpus(), 0
        if corpus.passages:
            yield corpus

    return chunks(), lower


# ---------------------------------------------------------------------------------------------
# Reports on disk (`msm audit contamination --out`)


def write_report(report: Report, out: Path, top: int = 25) -> None:
    """Write contamination.md, contamination.csv and contamination_scores.csv into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "contamination.md").write_text(report.markdown(top), encoding="utf-8")
    (out / "contamination.csv").write_text(report.csv(), encoding="utf-8")
    (out / "contamination_scores.csv").write_text(report.scores_csv(), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Before midtraining (`msm run`)

AuditMode = Literal["warn", "strict", "off"]


@cache
def _shipped_evaluation() -> tuple[Corpus, dict]:
    return evaluation_corpus()


def audit_documents(paths: Iterable[str | Path], mode: AuditMode = "warn", *,
                    semantic: bool = True, judge: Any = None) -> Report | None:
    """Audit generated MSM documents (JSONL with ``text``) before midtraining on them.

    ``warn`` prints one line per run to stderr when a finding is over a threshold and goes on;
    ``strict`` refuses with an `InputError` (field ``audit``); ``off`` skips the audit. The
    documents are read in chunks; the semantic pass runs unless `semantic` is false, its
    candidates judged by `judge` when one is given. The evaluation side is built once per process.
    """
    paths = [Path(p) for p in paths]
    if mode == "off" or not paths:
        return None
    chunks, lower = stream_training(Corpus(), [(p, "docs") for p in paths])
    report = audit(chunks, evaluation=_shipped_evaluation(), semantic=semantic, judge=judge,
                   lower_train=lower)
    if report.passed:
        return report
    worst = report.ranked(1, collapse=True)[0]
    message = (
        f"contamination audit: {len(report.failing)} finding(s) over a threshold in "
        f"{', '.join(str(p) for p in paths)}; worst: {worst.kind} {worst.detail!r} at "
        f"{worst.train_file} {worst.train_loc} against {worst.family} {worst.eval_loc} "
        f"(full table: msm audit contamination --docs PATH)"
    )
    if mode == "strict":
        raise InputError(message + "; audit: strict refuses to midtrain on it", field="audit")
    print(f"warning: {message}", file=sys.stderr)
    return report
