"""Calibrate and measure the contamination audit on the labelled set.

tests/data/audit_labelled.yaml holds planted leaks at four levels (verbatim, names, paraphrase,
probe_item) and clean passages on the same spec themes, split dev / heldout. This script

1. embeds every case and prints, per kind of semantic reference, the threshold the dev half
   gives under the rule: the highest cosine a dev CLEAN passage reaches, plus `MARGIN`, rounded
   up to 0.005 (no dev clean passage flagged, with a margin for unseen ones); the shipped
   thresholds (`msm.harness.audit.Thresholds`) were set this way, on dev only;
2. runs the whole audit (lexical evidence and the semantic pass, no judge) on every case as one
   document, with the shipped thresholds, and prints recall per level and the false-positive
   rate on clean passages for each split, the semantic pass alone and the lexical evidence alone
   beside the whole audit, and whether a flagged leak names its target.

    python benchmarks/audit_calibration.py [--labelled PATH]
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

import msm.tasks.agentic_misalignment  # noqa: F401  registers its prompts with the audit
from msm.harness import REPO_ROOT
from msm.harness.audit import Corpus, Where, _shipped_evaluation, audit
from msm.harness.audit_semantic import MIN_WORDS, embed, shipped_index

LEVELS = ("verbatim", "names", "paraphrase", "probe_item", "clean")
MARGIN = 0.02


def load_cases(path: Path) -> list[dict]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    for c in cases:
        assert {"id", "level", "target", "split", "text"} <= set(c), c
    return cases


def corpus_of(cases: list[dict]) -> Corpus:
    corpus = Corpus()
    for c in cases:
        corpus.add(c["text"], Where("labelled", c["id"]), kind="docs")
    return corpus


def suggested_thresholds(cases: list[dict]) -> dict[str, float]:
    """Per reference kind: the highest score of a dev clean passage, plus MARGIN."""
    index = shipped_index()
    corpus = corpus_of([c for c in cases if c["split"] == "dev" and c["level"] == "clean"])
    passages = [p for p in corpus.passages if len(p.words) >= MIN_WORDS]
    sims = embed([p.text for p in passages]) @ index.vectors.T
    out = {}
    for kind in ("description", "scenario", "probe"):
        mask = np.array([r.kind == kind for r in index.refs])
        out[kind] = math.ceil((float(sims[:, mask].max()) + MARGIN) * 200) / 200
    return out


def flagged(rows: list, kinds: set[str]) -> dict[str, set[str]]:
    """Case id -> families of the failing rows whose evidence is in `kinds`."""
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.kind in kinds:
            out[row.train_loc].add(row.family)
    return out


def _hits_target(target: str, families: set[str]) -> bool:
    return any(f.endswith(f":{target}") for f in families)


def table(cases: list[dict], split: str, hits: dict[str, dict[str, set[str]]]) -> list[str]:
    lines = [f"| level ({split}) | n | whole audit | semantic pass | lexical evidence | names its target |",
             "|---|---|---|---|---|---|"]
    for level in LEVELS:
        group = [c for c in cases if c["split"] == split and c["level"] == level]
        cells = []
        for name in ("all", "semantic", "lexical"):
            k = sum(1 for c in group if hits[name].get(c["id"]))
            cells.append(f"{k}/{len(group)} ({k / len(group):.0%})")
        named = sum(1 for c in group if _hits_target(c["target"], hits["all"].get(c["id"], set())))
        caught = sum(1 for c in group if hits["all"].get(c["id"]))
        lines.append(f"| {level}{' (flagged = false positive)' if level == 'clean' else ''} "
                     f"| {len(group)} | {' | '.join(cells)} | "
                     f"{'-' if level == 'clean' else f'{named}/{caught}'} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, default=REPO_ROOT / "tests" / "data" / "audit_labelled.yaml")
    args = parser.parse_args()
    cases = load_cases(args.labelled)
    print("thresholds from the dev half (highest dev clean score + margin):",
          suggested_thresholds(cases))
    rows = audit(corpus_of(cases), evaluation=_shipped_evaluation()).failing
    lexical = {"span", "jaccard", "rare_term", "keywords"}
    hits = {"all": flagged(rows, lexical | {"semantic"}), "semantic": flagged(rows, {"semantic"}),
            "lexical": flagged(rows, lexical)}
    for split in ("dev", "heldout"):
        print()
        print("\n".join(table(cases, split, hits)))
    missed = [c["id"] for c in cases if c["level"] != "clean" and not hits["all"].get(c["id"])]
    false = [c["id"] for c in cases if c["level"] == "clean" and hits["all"].get(c["id"])]
    print(f"\nleaks missed: {', '.join(missed) or 'none'}")
    print(f"clean passages flagged: {', '.join(false) or 'none'}")


if __name__ == "__main__":
    main()
