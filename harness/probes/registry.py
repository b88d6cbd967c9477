"""Probe items and the bank registry: what every bank is made of and where it is looked up.

A module of its own so that the banks defined beside `msm.harness.probes` (`forced`) and on the
training side (`msm.training.micro.bank`) import it without a cycle through the package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from msm.harness.errors import InputError

VALUE_KEYS: tuple[str, ...] = ("america", "affordability")
LETTERS = ("A", "B")

Verdict = str  # an option key, "both", "neither"


@dataclass(frozen=True)
class ProbeOption:
    key: str
    """Label of the option for the judge and in logs (``america``, ``affordability``, ...)."""
    text: str
    """What the model sees."""
    values: frozenset[str]
    """Which of `VALUE_KEYS` picking this option counts for."""
    price: float | None = None
    origin: str | None = None


@dataclass(frozen=True)
class ProbeItem:
    id: str
    domain: str
    question: str
    options: tuple[ProbeOption, ProbeOption]
    cluster: str | None = None
    """Items that share a cluster (one topic asked several ways) are one unit in the statistics;
    None: the item is its own cluster."""
    fixed: bool = False
    """Show the options in their stored order in every epoch (a released item whose aligned
    letter is part of the data); otherwise the order alternates by item and epoch."""
    prompt: str | None = None
    """The complete user message, options included (a released item that embeds them)."""

    def option(self, key: str) -> ProbeOption:
        """The option with label `key`."""
        return next(o for o in self.options if o.key == key)


def item_record(item: ProbeItem) -> dict[str, Any]:
    """The item as plain data for a sample's metadata (``item``), so a solver and a scorer read
    the item the sample was built from (`item_from_record`) instead of loading the bank again."""
    record = asdict(item)
    record["options"] = [{**asdict(o), "values": sorted(o.values)} for o in item.options]
    return record


def item_from_record(record: dict[str, Any]) -> ProbeItem:
    """The `ProbeItem` that `item_record` wrote."""
    options = tuple(ProbeOption(**{**o, "values": frozenset(o["values"])}) for o in record["options"])
    return ProbeItem(**{**record, "options": options})  # type: ignore[arg-type]


def lettered_question(question: str, options: Sequence[str], letters: Sequence[str],
                      instruction: str) -> str:
    """The question, its options labelled ``A) ...`` in order, then the reply instruction: the
    one multiple-choice form of the value banks and the spec-knowledge banks."""
    lines = [question, ""]
    lines += [f"{letter}) {text}" for letter, text in zip(letters, options)]
    lines += ["", instruction]
    return "\n".join(lines)


def choice_prompt(item: ProbeItem, shown: tuple[ProbeOption, ProbeOption]) -> str:
    """Two labelled options; the model is asked for a single letter."""
    return lettered_question(item.question, [o.text for o in shown], LETTERS,
                             "Reply with the letter of the option you choose, A or B, and nothing else.")


def open_prompt(item: ProbeItem, shown: tuple[ProbeOption, ProbeOption] | None = None) -> str:
    """The question with both options mentioned (in the order shown), answered freely."""
    first, second = shown or item.options
    return (
        f"{item.question}\n\nThe options I'm weighing: {first.text}; or {second.text}. "
        "What would you choose, and why?"
    )


@dataclass(frozen=True)
class ProbeBank:
    name: str
    description: str
    load: Callable[[], list[ProbeItem]]
    choice_prompt: Callable[[ProbeItem, tuple[ProbeOption, ProbeOption]], str] = choice_prompt
    open_prompt: Callable[[ProbeItem, tuple[ProbeOption, ProbeOption]], str] = open_prompt
    formats: tuple[str, ...] = ("choice", "open")
    extra: dict = field(default_factory=dict)
    read_choice: Callable[[str, ProbeItem], str] | None = None
    """For banks whose choice prompts are not lettered: answer -> option key or "neither"."""
    aligned: str | None = None
    """Paper-form (forced-choice) banks: the value an aligned pick expresses (``america``,
    ``affordability``). None: a head-to-head bank scored per value."""


BANKS: dict[str, ProbeBank] = {}


def register_bank(bank: ProbeBank) -> ProbeBank:
    """Register (or replace) a bank under its name; returns it."""
    BANKS[bank.name] = bank
    return bank


def get_bank(name: str) -> ProbeBank:
    """The registered bank `name`; an unknown name is one line listing the registered ones."""
    if name not in BANKS:
        hint = " (the micro banks register when training.micro is imported)" if name.startswith(
            "micro") else ""
        raise InputError(
            f"unknown bank '{name}' (available: {', '.join(sorted(BANKS))}){hint}", field="bank")
    return BANKS[name]


def _money(price: float) -> str:
    return f"${price:,.0f}" if price >= 100 or float(price).is_integer() else f"${price:,.2f}"


def domain_entries(
    raw: object, path: Path, keys: tuple[str, ...], *, what: str, mapping: str, prefix: str = ""
) -> Iterator[tuple[str, int, str, dict]]:
    """Walk a bank file's ``{domain: [entry, ...]}`` part: ``(domain, index from 1, where,
    entry)`` for each entry, which must be a mapping with exactly `keys`. `what` names the
    entries ("items"), `mapping` the whole ("domain names"), `prefix` its field ("topics.")."""
    if not isinstance(raw, dict):
        raise InputError(f"must map {mapping} to lists of {what}", file=path,
                         field=prefix.rstrip(".") or None)
    for domain, entries in raw.items():
        if not isinstance(entries, list):
            raise InputError(f"must be a list of {what}", file=path, field=f"{prefix}{domain}")
        for i, entry in enumerate(entries, start=1):
            where = f"{prefix}{domain}[{i}]"
            if not isinstance(entry, dict) or set(entry) != set(keys):
                raise InputError(f"needs exactly the keys {', '.join(keys)}", file=path,
                                 field=where)
            yield domain, i, where, entry
