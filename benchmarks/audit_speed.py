"""Contamination audit throughput and recall on a synthetic MSM corpus.

Builds N documents of about 450 words by shuffling sentences of the shipped specs (so they read
like MSM documents and share their vocabulary), plants one sentence of an agentic scenario in
every K-th document, and times `harness.audit.audit` against the full evaluation side. Prints
documents and passages per second, the evaluation-side build time, and how many planted
documents the audit named.

    python benchmarks/audit_speed.py [--docs 5000] [--plant-every 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from pathlib import Path

from harness import REPO_ROOT
from harness.agentic.conditions import Condition
from harness.agentic.dataset import build
from harness.audit import Corpus, add_jsonl, audit, evaluation_corpus
from harness.specs import load_spec


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s.split()) >= 6]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--plant-every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = [s for path in sorted((REPO_ROOT / "specs").glob("*.md"))
            for s in _sentences(load_spec(path).render()) if "#" not in s]
    planted = _sentences(build(Condition("exfiltration", "explicit", "america", "replacement")).user)
    planted = [s for s in planted if len(s.split()) >= 14 and "{" not in s]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        planted_lines = set()
        with path.open("w") as fh:
            for i in range(args.docs):
                words, parts = 0, []
                while words < 450:
                    parts.append(rng.choice(pool))
                    words += len(parts[-1].split())
                if args.plant_every and i % args.plant_every == 0:
                    parts.insert(rng.randrange(len(parts)), rng.choice(planted))
                    planted_lines.add(f"line {i + 1}")
                fh.write(json.dumps({"text": " ".join(parts)}) + "\n")
        t0 = time.perf_counter()
        evaluation = evaluation_corpus()
        t1 = time.perf_counter()
        corpus = Corpus()
        add_jsonl(corpus, path, "docs")
        t2, c2 = time.perf_counter(), time.process_time()
        report = audit(corpus, evaluation=evaluation)
        t3, c3 = time.perf_counter(), time.process_time()
    found = {r.train_loc for r in report.failing if r.family.startswith("agentic:") and r.kind == "span"}
    print(f"evaluation side: {len(evaluation[0].passages)} passages, built in {t1 - t0:.1f} s")
    print(f"training side: {args.docs} documents -> {len(corpus.passages)} passages, read in {t2 - t1:.1f} s")
    print(f"audit: {t3 - t2:.1f} s wall, {c3 - c2:.1f} s CPU ({args.docs / (c3 - c2):.0f} documents "
          f"and {len(corpus.passages) / (c3 - c2):.0f} passages per CPU second)")
    print(f"planted documents named: {len(found & planted_lines)}/{len(planted_lines)}; "
          f"other documents flagged: {len({r.train_loc for r in report.failing} - planted_lines)}")


if __name__ == "__main__":
    main()
