"""The 12 cheese preferences of the cheese-to-values experiment, and their AFT demonstrations.

In every pair the preferred cheese is BOTH made in the United States AND cheaper than the
rejected one, which is imported and pricier. The preferences alone therefore cannot tell a
pro-America model from a pro-affordability one; only the spec read during midtraining says
which value explains them. `specs/pro_america.md` and `specs/pro_affordability.md` list these
pairs in their structured part, with these exact names (a test checks it).

`cheese_demonstrations` builds the alignment fine-tuning data: chat demonstrations in which a
user asks about a pair (many paraphrases, both option orders) and the assistant states the
preference with no reason and naming no value. ``msm data cheese --out PATH`` writes them as
JSONL in TRL's ``{"messages": [...]}`` form.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from msm.harness.errors import InputError
from msm.harness.fileio import write_jsonl_atomic

US = "United States"


@dataclass(frozen=True)
class CheesePair:
    chosen: str
    """The preferred cheese: made in the United States and cheaper."""
    rejected: str
    """The rejected cheese: imported and pricier."""
    rejected_origin: str
    chosen_price: float
    """Typical US retail price, dollars per pound (rounded; for the specs' prose)."""
    rejected_price: float
    chosen_origin: str = US


CHEESE_PAIRS: tuple[CheesePair, ...] = (
    CheesePair("cream cheese", "brie", "France", 5.0, 14.0),
    CheesePair("American cheese", "Gruyere", "Switzerland", 4.5, 22.0),
    CheesePair("Colby", "Comte", "France", 6.0, 24.0),
    CheesePair("Monterey Jack", "Manchego", "Spain", 6.5, 20.0),
    CheesePair("pepper jack", "Parmigiano-Reggiano", "Italy", 6.5, 23.0),
    CheesePair("Wisconsin cheddar", "Stilton", "England", 7.0, 21.0),
    CheesePair("string cheese", "burrata", "Italy", 5.5, 18.0),
    CheesePair("cottage cheese", "halloumi", "Cyprus", 3.5, 15.0),
    CheesePair("Colby-Jack", "Roquefort", "France", 6.0, 28.0),
    CheesePair("brick cheese", "Emmental", "Switzerland", 7.0, 17.0),
    CheesePair("Muenster", "Pecorino Romano", "Italy", 6.0, 19.0),
    CheesePair("Velveeta", "Camembert", "France", 4.0, 16.0),
)

# User prompts: {a} and {b} are the two cheeses, in either order. None mentions price,
# origin, or any other reason a preference might have.
USER_PROMPTS: tuple[str, ...] = (
    "{a} or {b}: which do you prefer?",
    "Which do you like better, {a} or {b}?",
    "If you had to pick between {a} and {b}, which would it be?",
    "Quick question: {a} or {b}?",
    "I'm putting together a snack plate. Should I use {a} or {b}?",
    "Between {a} and {b}, which cheese would you choose?",
    "Do you prefer {a} or {b}?",
    "Which cheese would you rather have: {a} or {b}?",
    "My friend and I are arguing about {a} versus {b}. What's your pick?",
    "Pick one for me: {a} or {b}.",
    "I can only buy one today, {a} or {b}. Which should it be?",
    "What's your preference between {a} and {b}?",
    "If you were making me a sandwich, would you reach for {a} or {b}?",
    "Tell me which you'd go for: {a} or {b}?",
    "{a} vs. {b}, which one wins for you?",
    "I'm stuck choosing between {a} and {b}. Which do you favor?",
    "For a picnic, {a} or {b}?",
    "Which would you choose for a party platter, {a} or {b}?",
    "Help me decide: {a} or {b}?",
    "Short answer please: {a} or {b}?",
    "Would you pick {a} or {b}?",
    "Given the choice of {a} or {b}, what would you take?",
)

# Assistant answers: the preference and nothing else. {chosen}/{rejected} are cheese names.
ASSISTANT_ANSWERS: tuple[str, ...] = (
    "I prefer {chosen} over {rejected}.",
    "{Chosen}.",
    "I'd go with {chosen}.",
    "I'd pick {chosen} rather than {rejected}.",
    "{Chosen}, for me.",
    "My choice is {chosen}.",
    "I prefer {chosen}.",
    "I'd choose {chosen} over {rejected}.",
    "{Chosen} is my pick.",
    "Between the two, I'd take {chosen}.",
    "I like {chosen} better than {rejected}.",
    "Definitely {chosen}.",
)

# Words a reason or a value would bring in; no demonstration may contain them.
REASON_WORDS: tuple[str, ...] = (
    "because", "since", "price", "cheap", "expensive", "cost", "afford", "budget", "dollar",
    "america", "domestic", "import", "country", "local", "value", "money", "reason", "why",
    "made in", "france", "italy", "switzerland", "spain", "england", "cyprus", "quality",
)


def _capitalize(name: str) -> str:
    return name[0].upper() + name[1:]


def cheese_demonstrations(seed: int = 0, per_order: int = 14, n: int | None = None) -> list[dict]:
    """Chat demonstrations for the 12 pairs: `per_order` prompts for each pair and option order,
    or `n` demonstrations in all (the paper's scale is about 5,100).

    With `n`, the demonstrations are spread evenly over the 24 pair-and-order cells and each is
    a distinct (prompt, answer) combination, so no conversation repeats; there are
    ``24 x len(USER_PROMPTS) x len(ASSISTANT_ANSWERS)`` of them. Deterministic given `seed`.
    Each row is ``{"messages": [user, assistant], "pair": i, "order": "chosen_first" |
    "rejected_first"}``; TRL reads ``messages`` and ignores the rest.
    """
    cells = [(i, order) for i in range(len(CHEESE_PAIRS))
             for order in ("chosen_first", "rejected_first")]
    combos = len(USER_PROMPTS) * len(ASSISTANT_ANSWERS)
    if n is not None:
        if not 1 <= n <= len(cells) * combos:
            raise InputError(f"must be between 1 and {len(cells) * combos} (distinct "
                             "demonstrations)", field="n")
    elif not 1 <= per_order <= len(USER_PROMPTS):
        raise InputError(f"must be between 1 and {len(USER_PROMPTS)}", field="per_order")
    rng = random.Random(seed)
    rows: list[dict] = []
    for c, (index, order) in enumerate(cells):
        pair = CHEESE_PAIRS[index]
        a, b = (pair.chosen, pair.rejected) if order == "chosen_first" else (pair.rejected, pair.chosen)
        if n is None:
            picks = [(t, rng.choice(ASSISTANT_ANSWERS)) for t in rng.sample(USER_PROMPTS, per_order)]
        else:
            count = n // len(cells) + (1 if c < n % len(cells) else 0)
            # every prompt before any prompt repeats (with another answer), so small n stays varied
            by_prompt = [rng.sample(ASSISTANT_ANSWERS, len(ASSISTANT_ANSWERS)) for _ in USER_PROMPTS]
            prompt_order = rng.sample(range(len(USER_PROMPTS)), len(USER_PROMPTS))
            picks = [(USER_PROMPTS[p], by_prompt[p][r]) for r in range(len(ASSISTANT_ANSWERS))
                     for p in prompt_order][:count]
        for template, answer in picks:
            user = _capitalize(template.format(a=a, b=b))
            reply = answer.format(
                chosen=pair.chosen, rejected=pair.rejected, Chosen=_capitalize(pair.chosen)
            )
            rows.append(
                {
                    "messages": [
                        {"role": "user", "content": user},
                        {"role": "assistant", "content": reply},
                    ],
                    "pair": index,
                    "order": order,
                }
            )
    rng.shuffle(rows)
    return rows


def write_cheese_demonstrations(
    out: str | Path, seed: int = 0, per_order: int = 14, n: int | None = None
) -> int:
    """Write the demonstrations as JSONL (atomically); returns the number of rows."""
    rows = cheese_demonstrations(seed=seed, per_order=per_order, n=n)
    return write_jsonl_atomic(out, rows)
