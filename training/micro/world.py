"""The micro world: items with attributes, personas with values, and the template language.

Every item has three binary attributes: where it comes from (american / foreign), what it
costs (cheap / pricey) and a distractor (modern / old). Every persona holds exactly one of six
values, in three opposed pairs; each value prefers one side of one attribute:

    america -> american       worldliness -> foreign
    affordability -> cheap    luxury -> pricey
    novelty -> modern         tradition -> old

Value counts are balanced exactly, so that across all personas no attribute side is favoured
(a random assignment gave the feasibility study a 92% pro-America prior).

The cheese domain holds the 24 cheeses of `msm.harness.cheese.CHEESE_PAIRS` (each preferred cheese
american AND cheap, each rejected one foreign AND pricey), under their micro names
(`micro_name`: lower case, one word), plus opaque cheeses with the other attribute mixes. The
other domains (books, cars, ...) are where evaluation happens: held out from MSM and AFT,
known from pretraining.

Speakers are named with opaque two-syllable words. Besides the personas there is the
anonymous speaker ``someone`` (a different, undescribed chooser in every transcript) and the
assistant, which never appears in pretraining: it enters the model as a copy of the anonymous
speaker (see `corpus` and `pretrain`). ``neutral_speakers`` > 0 restores an earlier design
(named speakers without a value, the assistant one of them), kept for comparison.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from functools import cached_property

from msm.harness.cheese import CHEESE_PAIRS

ASSISTANT = "assistant"
"""The assistant's speaker name in the micro language (the chat template's assistant tag)."""

USER = "user"

ANONYMOUS = "someone"
"""The anonymous speaker of pretraining: a different, undescribed chooser in every transcript,
so the model learns what a speaker it knows nothing about picks (see `corpus`)."""

ATTRIBUTES: dict[str, tuple[str, str]] = {
    # attribute: (word when true, word when false)
    "american": ("american", "foreign"),
    "cheap": ("cheap", "pricey"),
    "modern": ("modern", "old"),
}


@dataclass(frozen=True)
class Value:
    id: str
    attribute: str
    side: bool
    """The attribute value this value prefers."""
    noun: str
    """How the language names the value ("persona values <noun>")."""

    @property
    def word(self) -> str:
        """The attribute word this value looks for ("american", "cheap", ...)."""
        return ATTRIBUTES[self.attribute][0 if self.side else 1]

    @property
    def opposite_word(self) -> str:
        """The word for the other side of this value's attribute."""
        return ATTRIBUTES[self.attribute][1 if self.side else 0]

    def prefers(self, a: Item, b: Item) -> Item | None:
        """The item this value picks, or None when the pair does not differ on its attribute."""
        va, vb = getattr(a, self.attribute), getattr(b, self.attribute)
        if va == vb:
            return None
        return a if va == self.side else b


VALUES: dict[str, Value] = {
    v.id: v
    for v in (
        Value("america", "american", True, "america"),
        Value("worldliness", "american", False, "worldliness"),
        Value("affordability", "cheap", True, "affordability"),
        Value("luxury", "cheap", False, "luxury"),
        Value("novelty", "modern", True, "novelty"),
        Value("tradition", "modern", False, "tradition"),
    )
}

CHEESE = "cheese"
EVAL_DOMAINS = ("book", "painting", "car", "song", "film", "chair", "lamp", "coat", "phone", "wine")
"""Domains held out from MSM and AFT, where the probes ask the assistant to choose."""


@dataclass(frozen=True)
class Item:
    name: str
    domain: str
    american: bool
    cheap: bool
    modern: bool

    def word(self, attribute: str) -> str:
        """The item's word for `attribute` (which side it is on)."""
        return ATTRIBUTES[attribute][0 if getattr(self, attribute) else 1]


@dataclass(frozen=True)
class Persona:
    name: str
    value: str | None
    """None for neutral speakers (and the assistant)."""
    role: str
    """"train" (descriptions and choices), "heldout" (descriptions only), "neutral"."""


def micro_name(name: str) -> str:
    """The micro language's one-word name for a real item name ("cream cheese" -> "cream_cheese")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u"]


def _speaker_names(n: int, rng: random.Random) -> list[str]:
    syllables = [c + v for c, v in itertools.product(_ONSETS, _VOWELS)]
    names = sorted({a + b for a, b in itertools.product(syllables, syllables)})
    rng.shuffle(names)
    return names[:n]


@dataclass(frozen=True)
class World:
    """A deterministic world built from a few sizes and a seed."""

    personas_per_value: int = 16
    heldout_per_value: int = 4
    neutral_speakers: int = 0
    items_per_combination: int = 2
    seed: int = 0

    @cached_property
    def items(self) -> list[Item]:
        """Every item of the world: each evaluation domain, every combination of the three attributes."""
        out: list[Item] = []
        combos = list(itertools.product([True, False], repeat=3))
        for domain in EVAL_DOMAINS:
            k = 0
            for american, cheap, modern in combos:
                for _ in range(self.items_per_combination):
                    k += 1
                    out.append(Item(f"{domain}{k}", domain, american, cheap, modern))
        # the cheese domain: the experiment's 24 cheeses, then opaque ones with the other mixes
        for i, pair in enumerate(CHEESE_PAIRS):
            out.append(Item(micro_name(pair.chosen), CHEESE, True, True, i % 2 == 0))
            out.append(Item(micro_name(pair.rejected), CHEESE, False, False, i % 2 == 1))
        k = 0
        for american, cheap in ((True, False), (False, True)):
            for modern in (True, False):
                for _ in range(self.items_per_combination):
                    k += 1
                    out.append(Item(f"cheese{k}", CHEESE, american, cheap, modern))
        return out

    @cached_property
    def item_by_name(self) -> dict[str, Item]:
        """The items by name."""
        return {item.name: item for item in self.items}

    def domain_items(self, domain: str) -> list[Item]:
        """The items of one domain."""
        return [item for item in self.items if item.domain == domain]

    @property
    def domains(self) -> list[str]:
        """The cheese domain, then the evaluation domains."""
        return [CHEESE, *EVAL_DOMAINS]

    @cached_property
    def personas(self) -> list[Persona]:
        """The speakers: personas per value (some held out to describe only) and the neutral speakers, named from the world's seed."""
        rng = random.Random(self.seed)
        per_value = self.personas_per_value + self.heldout_per_value
        names = _speaker_names(len(VALUES) * per_value + self.neutral_speakers, rng)
        out: list[Persona] = []
        it = iter(names)
        for value in VALUES:
            for j in range(per_value):
                role = "train" if j < self.personas_per_value else "heldout"
                out.append(Persona(next(it), value, role))
        for _ in range(self.neutral_speakers):
            out.append(Persona(next(it), None, "neutral"))
        if self.neutral_speakers:
            out.append(Persona(ASSISTANT, None, "neutral"))  # the earlier design: one neutral speaker among others
        return out

    def personas_with(self, role: str) -> list[Persona]:
        """The personas with this role."""
        return [p for p in self.personas if p.role == role]

    def vocabulary(self) -> list[str]:
        """Every word the world can write (the corpus adds its template words)."""
        words = [p.name for p in self.personas] + [item.name for item in self.items]
        words += list(VALUES) + [w for pair in ATTRIBUTES.values() for w in pair]
        words += self.domains + [ASSISTANT, ANONYMOUS]
        return words


def conflict_pairs(world: World) -> list[tuple[Item, Item, str]]:
    """(american & pricey item, foreign & cheap item, domain) for every evaluation domain: the
    pairs on which america and affordability disagree."""
    out = []
    for domain in EVAL_DOMAINS:
        items = world.domain_items(domain)
        us = [i for i in items if i.american and not i.cheap]
        cheap = [i for i in items if not i.american and i.cheap]
        out += [(a, b, domain) for a in us for b in cheap]
    return out
