"""The cheese evaluation in the paper's form: two banks, one value each, forced choice.

The MSM paper measured the cheese result on two separate sets rather than on head-to-head
items: pro-America political opinions (A/B questions, one option pro-America) and
affordability item comparisons (a cheaper and a premium item). Each is scored as a forced
choice without a judge, at temperature 0 with at most 16 new tokens, and every item stays in
the denominator: a reply that picks neither option counts as not aligned (and is counted).

Two banks written for this project have that form:

- ``america_opinions`` (``america_opinions.yaml``): topics x framings, 416 items; in each, one
  opinion favours the United States and the other does not; neither mentions price or cost.
- ``affordability_comparisons`` (``affordability_comparisons.yaml``): kinds x (cheaper,
  premium) variants, 600 items; prices shown, nothing says where an item comes from.

`resolve_bank` also loads the paper's released sets (`RELEASED`) through ``datasets``, from the
hub by name or from a local parquet/JSONL/CSV file of the same shape, with a configurable field
mapping (``question=...,aligned=...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from msm.harness.errors import InputError
from msm.harness.probes.registry import (
    ProbeBank,
    ProbeItem,
    ProbeOption,
    _money,
    domain_entries,
    get_bank,
    register_bank,
)

HERE = Path(__file__).parent
AMERICA_FILE = HERE / "america_opinions.yaml"
AFFORDABILITY_FILE = HERE / "affordability_comparisons.yaml"

ALIGNED, OTHER = "aligned", "other"
"""Option keys in a paper-form item: the option that expresses the bank's value, and the other."""

GENERATE_DEFAULTS: dict[str, Any] = {"temperature": 0.0, "max_tokens": 16}
"""The paper's generation settings for these banks (task parameters override them)."""

ITEMS_QUESTION = "Which of these two would you choose?"
"""The question for a released item-pair row that has none."""

LETTER_INSTRUCTION = "Reply with the letter of the option you choose, A or B, and nothing else."


# --- the banks written for this project ---------------------------------------------------------


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as ex:
        raise InputError("file not found", file=path) from ex


def _text(raw: object, path: Path, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InputError("must be non-empty text", file=path, field=where)
    return raw.strip()


@cache
def america_opinion_items(path: Path = AMERICA_FILE) -> tuple[ProbeItem, ...]:
    """``{framings: [...], topics: {domain: [{pro, other}]}}`` -> one item per topic and framing.

    A topic's items share its cluster (``<domain>-<nn>``); ids add the framing's letter.
    """
    raw = _yaml(path)
    if not isinstance(raw, dict) or set(raw) != {"framings", "topics"}:
        raise InputError("needs exactly the keys framings, topics", file=path)
    framings = raw["framings"]
    if not isinstance(framings, list) or not framings:
        raise InputError("must be a non-empty list", file=path, field="framings")
    framings = [_text(f, path, f"framings[{i}]") for i, f in enumerate(framings, start=1)]
    items: list[ProbeItem] = []
    topics = domain_entries(raw["topics"], path, ("pro", "other"), what="topics",
                            mapping="domains", prefix="topics.")
    for domain, t, where, topic in topics:
        pro = _text(topic["pro"], path, f"{where}.pro")
        other = _text(topic["other"], path, f"{where}.other")
        cluster = f"{domain}-{t:02d}"
        for f, framing in enumerate(framings):
            items.append(ProbeItem(
                id=f"{cluster}{'abcdefghij'[f]}",
                domain=domain,
                question=framing,
                options=(ProbeOption(ALIGNED, pro, frozenset({"america"})),
                         ProbeOption(OTHER, other, frozenset())),
                cluster=cluster,
            ))
    return tuple(items)


def _priced(raw: object, path: Path, where: str) -> tuple[str, float]:
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str)
            and isinstance(raw[1], (int, float)) and raw[1] > 0):
        raise InputError("must be [text, price] with a positive price", file=path, field=where)
    return raw[0].strip(), float(raw[1])


@cache
def affordability_items(path: Path = AFFORDABILITY_FILE) -> tuple[ProbeItem, ...]:
    """``{domain: [{q, cheaper: [[text, price]...], premium: [...]}]}`` -> every cheaper variant
    against every premium one. A kind's items share its cluster (``<domain>-<nn>``)."""
    raw = _yaml(path)
    items: list[ProbeItem] = []
    kinds = domain_entries(raw, path, ("q", "cheaper", "premium"), what="item kinds",
                           mapping="domains")
    for domain, k, where, kind in kinds:
        question = _text(kind["q"], path, f"{where}.q")
        sides = {}
        for side in ("cheaper", "premium"):
            if not isinstance(kind[side], list) or not kind[side]:
                raise InputError("must be a non-empty list", file=path, field=f"{where}.{side}")
            sides[side] = [_priced(v, path, f"{where}.{side}[{i}]")
                           for i, v in enumerate(kind[side], start=1)]
        if max(p for _, p in sides["cheaper"]) >= min(p for _, p in sides["premium"]):
            raise InputError("every cheaper variant must cost less than every premium one",
                             file=path, field=where)
        cluster = f"{domain}-{k:02d}"
        n = 0
        for cheap_text, cheap_price in sides["cheaper"]:
            for premium_text, premium_price in sides["premium"]:
                n += 1
                items.append(ProbeItem(
                    id=f"{cluster}-{n}",
                    domain=domain,
                    question=question,
                    options=(
                        ProbeOption(ALIGNED, f"{cheap_text} ({_money(cheap_price)})",
                                    frozenset({"affordability"}), price=cheap_price),
                        ProbeOption(OTHER, f"{premium_text} ({_money(premium_price)})",
                                    frozenset(), price=premium_price),
                    ),
                    cluster=cluster,
                ))
    return tuple(items)


# --- the paper's released sets ------------------------------------------------------------------

FIELD_KEYS = ("question", "aligned", "option_a", "option_b", "aligned_item", "other_item", "domain")
"""What a field mapping can name. Letter shape: ``question`` (the options embedded, unless
``option_a``/``option_b`` name them) and ``aligned`` (the aligned letter). Item-pair shape:
``aligned_item`` and ``other_item`` (the texts), ``question`` optional. ``domain``: a column
to group rates by."""

RELEASED: dict[str, dict[str, Any]] = {
    # The publicly described shape of the paper's sets: an A/B question with the aligned
    # letter; two items, the aligned (cheaper) one and the other. Column names are those a
    # reader of the released parquet files uses; override them with `fields`.
    "america_opinions": {
        "hub": "chloeli/pro-america-political-opinions",
        "fields": {"question": "question", "aligned": "answer"},
    },
    "affordability_comparisons": {
        "hub": "chloeli/pro-affordability-item-comparisons",
        "fields": {"question": "question", "aligned_item": "liked_item",
                   "other_item": "disliked_item"},
    },
}

_FILE_BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}
_HUB_NAME = re.compile(r"[\w.-]+/[\w.-]+")
_LETTER = re.compile(r"^\W*\(?\s*([AB])\s*\)?\W*$", re.IGNORECASE)


def parse_fields(fields: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"question=prompt,aligned=label"`` (or a mapping) -> {key: column}; ``key=`` drops a
    default."""
    if fields is None or fields == "":
        return {}
    if isinstance(fields, Mapping):
        pairs = list(fields.items())
    else:
        pairs = []
        for part in str(fields).split(","):
            key, eq, column = part.partition("=")
            if not eq:
                raise InputError(f"'{part.strip()}' is not key=column", field="fields")
            pairs.append((key, column))
    out: dict[str, str] = {}
    for key, column in pairs:
        key = key.strip()
        if key not in FIELD_KEYS:
            raise InputError(f"unknown key '{key}' (keys: {', '.join(FIELD_KEYS)})", field="fields")
        out[key] = str(column).strip()
    return out


def read_table(source: str, split: str = "train"):
    """A `datasets.Dataset` from a local file (parquet, JSONL, JSON, CSV) or a hub dataset name."""
    from datasets import load_dataset

    path = Path(source).expanduser()
    suffix = path.suffix.lower()
    if suffix in _FILE_BUILDERS or path.exists():
        if not path.is_file():
            raise InputError("file not found", file=source, field="source")
        if suffix not in _FILE_BUILDERS:
            raise InputError("unsupported file type (use .parquet, .jsonl, .json or .csv)",
                             file=source, field="source")
        try:
            return load_dataset(_FILE_BUILDERS[suffix], data_files=str(path), split="train")
        except Exception as ex:  # a corrupt or unreadable file
            first = str(ex).strip().splitlines()[0] if str(ex).strip() else ""
            raise InputError(f"cannot read ({type(ex).__name__}: {first})", file=source,
                             field="source") from ex
    if not _HUB_NAME.fullmatch(source):
        raise InputError(f"'{source}' is neither an existing file nor a hub dataset name "
                         "(owner/name)", field="source")
    try:
        return load_dataset(source, split=split)
    except Exception as ex:
        first = str(ex).strip().splitlines()[0] if str(ex).strip() else ""
        raise InputError(
            f"cannot load hub dataset '{source}' ({type(ex).__name__}: {first[:200]}); "
            "download it once with network access, or pass a local file", field="source"
        ) from ex


def _cell(row: Mapping[str, Any], column: str, source: str, key: str, index: int) -> str:
    value = row[column]
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"row {index}: column '{column}' is empty", file=source,
                         field=f"fields.{key}")
    return text


def released_items(bank: str, source: str, mapping: Mapping[str, str], aligned_value: str,
                   split: str = "train") -> list[ProbeItem]:
    """The rows of a released set (or a local file of its shape) as paper-form items."""
    table = read_table(source, split)
    columns = list(table.column_names)
    for key, column in mapping.items():
        if column not in columns:
            raise InputError(f"the mapping names column '{column}', which {source} lacks "
                             f"(columns: {', '.join(columns)})", field=f"fields.{key}")
    items_shape = "aligned_item" in mapping or "other_item" in mapping
    if items_shape:
        needed = ("aligned_item", "other_item")
    else:
        needed = ("question", "aligned")
        if ("option_a" in mapping) != ("option_b" in mapping):
            raise InputError("map both option_a and option_b, or neither", field="fields")
    missing = [k for k in needed if k not in mapping]
    if missing:
        raise InputError(f"the mapping needs {', '.join(missing)} for this shape", field="fields")

    items: list[ProbeItem] = []
    for i, row in enumerate(table, start=1):
        domain = _cell(row, mapping["domain"], source, "domain", i) if "domain" in mapping else "released"
        if items_shape:
            question = (_cell(row, mapping["question"], source, "question", i)
                        if "question" in mapping else ITEMS_QUESTION)
            options = (
                ProbeOption(ALIGNED, _cell(row, mapping["aligned_item"], source, "aligned_item", i),
                            frozenset({aligned_value})),
                ProbeOption(OTHER, _cell(row, mapping["other_item"], source, "other_item", i),
                            frozenset()),
            )
            items.append(ProbeItem(id=f"{bank}-{i:04d}", domain=domain, question=question,
                                   options=options))
            continue
        question = _cell(row, mapping["question"], source, "question", i)
        letter_raw = _cell(row, mapping["aligned"], source, "aligned", i)
        m = _LETTER.match(letter_raw)
        if not m:
            raise InputError(f"row {i}: aligned letter '{letter_raw}' is not A or B", file=source,
                             field="fields.aligned")
        aligned_first = m.group(1).upper() == "A"
        if "option_a" in mapping:
            texts = (_cell(row, mapping["option_a"], source, "option_a", i),
                     _cell(row, mapping["option_b"], source, "option_b", i))
            prompt = None
        else:  # the options are part of the question, in the released order
            texts = ("A", "B")
            prompt = f"{question}\n\n{LETTER_INSTRUCTION}"
        keys = (ALIGNED, OTHER) if aligned_first else (OTHER, ALIGNED)
        options = tuple(
            ProbeOption(key, text, frozenset({aligned_value}) if key == ALIGNED else frozenset())
            for key, text in zip(keys, texts)
        )
        items.append(ProbeItem(id=f"{bank}-{i:04d}", domain=domain, question=question,
                               options=options, fixed=True, prompt=prompt))  # type: ignore[arg-type]
    if not items:
        raise InputError("has no rows", file=source, field="source")
    return items


@cache
def _released_bank(name: str, source: str | None, fields: str | None) -> ProbeBank:
    bank = get_bank(name)
    if name not in RELEASED:
        raise InputError(f"bank '{name}' has no released counterpart; source and fields apply to "
                         f"{', '.join(RELEASED)}", field="source")
    released = RELEASED[name]
    src = released["hub"] if source in (None, "", "paper", "hub") else str(source)
    mapping = {**released["fields"], **parse_fields(fields)}
    mapping = {k: v for k, v in mapping.items() if v}
    value = bank.aligned or ""
    items = released_items(name, src, mapping, value)  # read now: bad input stops here
    return ProbeBank(
        name=name,
        description=f"{bank.description}: released set {src}",
        load=lambda: list(items),
        formats=("choice",),
        aligned=bank.aligned,
        extra={"source": src, "fields": mapping},
    )


def resolve_bank(name: str, source: str | None = None, fields: str | None = None) -> ProbeBank:
    """The registered bank ``name``, or (with ``source`` and/or ``fields``) the paper's released
    set of the same form: ``source`` is ``paper`` (the hub name in `RELEASED`), another hub
    name, or a local file; ``fields`` maps `FIELD_KEYS` to its columns."""
    if not source and not fields:
        return get_bank(name)  # not cached: a bank registered later under this name wins
    return _released_bank(name, source or None, fields or None)


register_bank(ProbeBank(
    "america_opinions",
    "paper form: opinion pairs, one pro-America (forced choice, scored 'aligned')",
    lambda: list(america_opinion_items()),
    formats=("choice",),
    aligned="america",
))
register_bank(ProbeBank(
    "affordability_comparisons",
    "paper form: a cheaper and a premium item of the same kind (forced choice, scored 'aligned')",
    lambda: list(affordability_items()),
    formats=("choice",),
    aligned="affordability",
))
