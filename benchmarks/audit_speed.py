"""Contamination audit time, peak memory and recall on a synthetic MSM corpus.

Builds N documents of about 450 words by shuffling sentences of the shipped specs (so they read
like MSM documents and share their vocabulary), plants one sentence of an agentic scenario in
every K-th document, and audits them as `msm run` does (`msm.harness.audit.stream_training`: the
documents in chunks, lexical evidence and the semantic pass). Prints the time of each part,
documents and passages per second, the peak resident memory of the process, and how many
planted documents the audit named. ``--compare`` also audits the same documents as one corpus
and checks that the chunks gave the same rows.

    python benchmarks/audit_speed.py [--docs 50000] [--plant-every 500] [--chunk-docs 1000]
                                     [--no-semantic] [--compare] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from msm.harness import REPO_ROOT
from msm.harness.audit import Corpus, add_jsonl, audit, evaluation_corpus, stream_training
from msm.harness.specs import load_spec
from msm.tasks.agentic_misalignment.conditions import Condition
from msm.tasks.agentic_misalignment.dataset import build


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s.split()) >= 6]


def write_documents(path: Path, n: int, plant_every: int, seed: int) -> set[str]:
    """N shuffled-spec documents; returns the locations (``line N``) of the planted ones."""
    rng = random.Random(seed)
    pool = [s for p in sorted((REPO_ROOT / "specs").glob("*.md"))
            for s in _sentences(load_spec(p).render()) if "#" not in s]
    planted = _sentences(build(Condition("exfiltration", "explicit", "america", "replacement")).user)
    planted = [s for s in planted if len(s.split()) >= 14 and "{" not in s]
    lines = set()
    with path.open("w") as fh:
        for i in range(n):
            words, parts = 0, []
            while words < 450:
                parts.append(rng.choice(pool))
                words += len(parts[-1].split())
            if plant_every and i % plant_every == 0:
                parts.insert(rng.randrange(len(parts)), rng.choice(planted))
                lines.add(f"line {i + 1}")
            fh.write(json.dumps({"text": " ".join(parts)}) + "\n")
    return lines


def _progress(chunks: Iterator[Corpus], total: int, start: float) -> Iterator[Corpus]:
    done = 0
    for chunk in chunks:
        yield chunk
        done += len({w.loc for p in chunk.passages for w in p.wheres})
        rate = done / (time.perf_counter() - start)
        print(f"  {done}/{total} documents audited, {rate:.1f}/s, about "
              f"{(total - done) / rate / 60:.0f} min left", file=sys.stderr, flush=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50000)
    parser.add_argument("--plant-every", type=int, default=500)
    parser.add_argument("--chunk-docs", type=int, default=1000)
    parser.add_argument("--no-semantic", dest="semantic", action="store_false")
    parser.add_argument("--compare", action="store_true",
                        help="also audit the documents as one corpus and compare the rows")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        planted = write_documents(path, args.docs, args.plant_every, args.seed)
        t0 = time.perf_counter()
        evaluation = evaluation_corpus()
        if args.semantic:
            from msm.harness.audit_semantic import shipped_index

            shipped_index()
        t1 = time.perf_counter()
        print(f"evaluation side: {len(evaluation[0].passages)} passages"
              f"{' and the semantic index' if args.semantic else ''}, built in {t1 - t0:.1f} s "
              f"(peak so far {_peak_mb():.0f} MB)")
        chunks, lower = stream_training(Corpus(), [(path, "docs")], args.chunk_docs)
        c1 = time.process_time()
        report = audit(_progress(chunks, args.docs, t1), evaluation=evaluation,
                       semantic=args.semantic, lower_train=lower)
        t2, c2 = time.perf_counter(), time.process_time()
        peak = _peak_mb()
        if args.compare:
            whole = Corpus()
            add_jsonl(whole, path, "docs")
            one = audit(whole, evaluation=evaluation, semantic=args.semantic)
            key = lambda r: (r.kind, r.detail, r.train_loc, r.family, round(r.severity, 3))
            same = sorted(map(key, one.rows)) == sorted(map(key, report.rows))
            print(f"chunked and whole-corpus rows identical: {same} ({len(report.rows)} rows)")
    found = {r.train_loc for r in report.failing if r.family.startswith("agentic:") and r.kind == "span"}
    print(f"training side: {args.docs} documents -> {report.n_train} passages, in chunks of "
          f"{args.chunk_docs} documents, semantic pass {'on' if args.semantic else 'off'}")
    print(f"audit: {t2 - t1:.1f} s wall, {c2 - c1:.1f} s CPU ({args.docs / (t2 - t1):.1f} documents "
          f"and {report.n_train / (t2 - t1):.1f} passages per wall second)")
    print(f"peak resident memory: {peak:.0f} MB")
    print(f"planted documents named: {len(found & planted)}/{len(planted)}; "
          f"other documents flagged: {len({r.train_loc for r in report.failing} - planted)}")


if __name__ == "__main__":
    main()
