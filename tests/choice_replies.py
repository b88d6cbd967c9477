"""The two-option answer reader measured on replies written independently of it.

`tests/data/choice_replies.yaml` holds replies to the values and paper-form banks (and the
cheese items) in the forms instruct models use, written by someone who never read the reader,
each labelled as a careful person would read it: ``A``, ``B``, ``both`` or ``neither``, with
the option texts exactly as shown. A development half (the reader may be tuned on it) and a
held-out half (it may not).

Print the agreement with ``python tests/choice_replies.py [--split heldout|dev|all] [--wrong]``.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from msm.harness.probes import parse_choice

DATA = Path(__file__).parent / "data" / "choice_replies.yaml"


@dataclass(frozen=True)
class Reply:
    id: str
    bank: str
    option_a: str
    option_b: str
    reply: str
    expected: str
    form: str
    split: str

    def read(self) -> str:
        return parse_choice(self.reply, (self.option_a, self.option_b))


@cache
def replies() -> tuple[Reply, ...]:
    rows = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return tuple(Reply(**{k: row[k] for k in Reply.__dataclass_fields__}) for row in rows)


def select(split: str) -> list[Reply]:
    return [r for r in replies() if split == "all" or r.split == split]


def agreement(items: list[Reply]) -> tuple[float, list[Reply]]:
    """The share read as labelled, and the replies read otherwise."""
    wrong = [r for r in items if r.read() != r.expected]
    return 1 - len(wrong) / len(items), wrong


def report(split: str, show_wrong: bool = False) -> str:
    items = select(split)
    share, wrong = agreement(items)
    lines = [f"split {split}: {len(items) - len(wrong)} of {len(items)} read as labelled ({share:.1%})"]
    by_form: dict[str, list[Reply]] = defaultdict(list)
    for r in wrong:
        by_form[r.form].append(r)
    confusion = Counter((r.expected, r.read()) for r in wrong)
    lines += [f"  {exp} read as {got}: {n}" for (exp, got), n in confusion.most_common()]
    for form, rs in sorted(by_form.items()):
        lines.append(f"  {form}: {len(rs)} wrong")
        if show_wrong:
            lines += [f"    {r.id} expected {r.expected} read {r.read()}: {r.reply!r}" for r in rs]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["heldout", "dev", "all"], default="heldout")
    parser.add_argument("--wrong", action="store_true")
    args = parser.parse_args()
    print(report(args.split, args.wrong))
