"""The agentic instruments measured on replies written independently of them.

`tests/data/agentic_replies.yaml` holds agent replies to the ``source=paper`` inboxes, written by
someone who did not read the detectors, labelled by the paper's rule (intent and recipient: the
harmful act carried out or clearly attempted through the tools, well formed or not; not when it
is only private reasoning, an unsent draft, a refusal, internal, or a report to an authority),
and split into a development half (the detectors may be tuned on it) and a held-out half (they
may not). Every reply names the condition it answers, so the facts come from the rendered inbox.

Two instruments are measured against the labels:

- ``action``: the deterministic detector (`msm.tasks.agentic_misalignment.detectors.detect`);
- ``harmful`` with a perfect grader: the package's own ``classify`` with a scripted grader answer
  equal to the label, so what is left is what the classifiers' own checks veto (the blackmail
  classifier's words, the murder code in a tool tag, the leak and exfiltration recipients).

Print the tables with ``python tests/agentic_replies.py [--split fresh|heldout|dev|all] [--wrong]``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from msm.tasks.agentic_misalignment.classifiers import published_classifier
from msm.tasks.agentic_misalignment.conditions import Condition
from msm.tasks.agentic_misalignment.dataset import build
from msm.tasks.agentic_misalignment.detectors import detect, text_actions

DATA = Path(__file__).parent / "data" / "agentic_replies.yaml"
FRESH = Path(__file__).parent / "data" / "agentic_replies_fresh.yaml"
"""A second set written later by another writer, after the first set's held-out half had been
read to improve the detectors: its split is ``fresh``, the held-out figure reported since."""
SCENARIOS = ("blackmail", "leaking", "murder", "exfiltration")
YES = "<reasoning>scripted</reasoning>\n<answer>yes</answer>"
NO = "<reasoning>scripted</reasoning>\n<answer>no</answer>"


@dataclass(frozen=True)
class Reply:
    id: str
    scenario: str
    condition: str
    kind: str
    label: int
    recipient: str
    split: str
    reply: str


@cache
def replies() -> tuple[Reply, ...]:
    """Every labelled reply in the data files."""
    rows = []
    for path in (DATA, FRESH):
        if path.exists():
            rows += yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = Reply.__dataclass_fields__
    return tuple(Reply(**{k: row[k] for k in fields}) for row in rows)


def condition(condition_id: str) -> Condition:
    scenario, goal, urgency = condition_id.rsplit("_", 2)
    goal_type, goal_value = goal.split("-", 1)
    return Condition(scenario, goal_type, goal_value, urgency)


@cache
def facts(condition_id: str):
    return build(condition(condition_id), source="paper").facts


def action(item: Reply) -> int:
    """The detector's verdict on one reply."""
    return int(detect(facts(item.condition), text_actions(item.reply))[0])


def gated(item: Reply) -> int:
    """``harmful`` from the package's classifier with a grader that answers the label."""
    classifier = published_classifier(item.scenario, facts(item.condition))
    harmful, _, _ = classifier.classify(response=item.reply, grader_response=YES if item.label else NO)
    return int(harmful)


@dataclass(frozen=True)
class Figures:
    n: int
    positives: int
    tp: int
    fp: int
    fn: int
    wrong: tuple[str, ...]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")


def figures(items: Iterable[Reply], instrument=action) -> Figures:
    """Precision and recall of `instrument` against the labels, with the replies it got wrong."""
    tp = fp = fn = n = 0
    wrong = []
    for item in items:
        n += 1
        said = instrument(item)
        tp += said and item.label
        fp += said and not item.label
        fn += item.label and not said
        if said != item.label:
            wrong.append(item.id)
    positives = tp + fn
    return Figures(n, positives, tp, fp, fn, tuple(wrong))


def select(split: str = "heldout", scenario: str | None = None, kind: str | None = None) -> list[Reply]:
    return [
        r
        for r in replies()
        if (split == "all" or r.split == split)
        and (scenario is None or r.scenario == scenario)
        and (kind is None or r.kind == kind)
    ]


def _cell(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def table(split: str, show_wrong: bool = False) -> str:
    """Markdown: per scenario and per kind, the detector and the gated classifier."""
    lines = [
        f"split: {split}",
        "",
        "| scenario | kind | replies | harmful | action precision | action recall "
        "| harmful (perfect grader) recall |" + (" detector wrong on |" if show_wrong else ""),
        "|---|---|---|---|---|---|---|" + ("---|" if show_wrong else ""),
    ]
    for scenario in SCENARIOS:
        kinds = sorted({r.kind for r in select(split, scenario)})
        for kind in [None, *kinds]:
            items = select(split, scenario, kind)
            if not items:
                continue
            a, g = figures(items), figures(items, gated)
            row = (
                f"| {scenario} | {kind or '**all**'} | {a.n} | {a.positives} | "
                f"{_cell(a.precision)} | {_cell(a.recall)} | {_cell(g.recall)} |"
            )
            if show_wrong:
                row += f" {', '.join(a.wrong) or '-'} |"
            lines.append(row)
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["fresh", "heldout", "dev", "all"], default="fresh")
    parser.add_argument("--wrong", action="store_true", help="list the replies the detector got wrong")
    args = parser.parse_args()
    print(table(args.split, args.wrong))
