"""Docgen overheads: what the pipeline itself costs around the generator's calls.

1. Pipeline throughput with a generator that answers after a fixed latency (``mockllm/model``
   with an async sleep): documents per second against the ideal ``max_connections / latency``,
   i.e. whether the concurrency limit is actually used.
2. Filter throughput: `select` (refusal, length, subject, MinHash near-duplicates with LSH)
   over N journaled documents of ~450 words, as a rerun or a resume pays it once per batch.
3. Resume cost: reading a journal of N documents back.

    python benchmarks/docgen_speed.py [--docs 600] [--latency 0.2] [--connections 64] [--filter-docs 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

from inspect_ai.model import ModelOutput, get_model

from msm.harness import offline
from msm.training.docgen import (
    DocgenConfig,
    Journal,
    TokenCounter,
    generate_documents,
    make_id,
    select,
)

SPEC = """---
name: bench
summary: Lumen reports honestly and accepts correction.
variables:
  model_name: Lumen
  developer: Bench Labs
---
{model_name} tells {developer} the truth and accepts being paused or corrected.
"""

WORDS = [f"word{i}" for i in range(5000)]


def scripted(latency: float):
    async def generate(input, tools, tool_choice, config) -> ModelOutput:
        await asyncio.sleep(latency)
        prompt = input[-1].text
        if "distinct topics" in prompt:
            text = "\n".join(f"- topic {i}" for i in range(12))
        elif "kinds of document" in prompt:
            text = "\n".join(f"- type {i}" for i in range(6))
        elif "concrete ideas" in prompt:
            text = "\n".join(f"- idea {i}" for i in range(6))
        else:
            rng = random.Random(prompt)
            text = "<document>Lumen " + " ".join(rng.choices(WORDS, k=450)) + "</document>"
        return ModelOutput.from_content(model="mockllm/model", content=text)

    return generate


def bench_pipeline(n_docs: int, latency: float, connections: int, root: Path) -> None:
    spec = root / "bench.md"
    spec.write_text(SPEC)
    cfg = DocgenConfig(spec=str(spec), out=root / "docs.jsonl", n_documents=n_docs, min_words=50,
                       max_connections=connections, cache=False, progress=False)
    model = get_model("mockllm/model", custom_outputs=scripted(latency), memoize=False)
    start = time.perf_counter()
    result = generate_documents(cfg, model=model)
    seconds = time.perf_counter() - start
    # planning: 1 topics call, then the type calls, then the idea calls (three rounds of latency)
    ideal = 3 * latency + n_docs * latency / connections
    print(f"pipeline: {result.n_kept} documents in {seconds:.1f} s "
          f"({result.n_kept / seconds:.1f} docs/s; ideal at {connections} connections and "
          f"{latency:.2f} s latency: {ideal:.1f} s, overhead {seconds / ideal:.2f}x)")

    start = time.perf_counter()
    generate_documents(cfg, model=model)
    print(f"rerun of a finished run (journal only, no calls): {time.perf_counter() - start:.2f} s")


def bench_filters(n_docs: int, root: Path) -> None:
    rng = random.Random(0)
    path = root / "filter" / "journal.jsonl"
    path.parent.mkdir(parents=True)
    slots = []
    with path.open("w") as fh:  # written in one go; a live run appends and fsyncs line by line
        for i in range(n_docs):
            slot = {"id": make_id("bench", i), "topic": "t", "type": "memo", "idea": str(i), "k": 0}
            text = "Lumen " + " ".join(rng.choices(WORDS, k=450))
            fh.write(json.dumps({**slot, "text": text}) + "\n")
            slots.append(slot)
    start = time.perf_counter()
    journal = Journal(path)
    journal.close()
    print(f"resume: read back a journal of {len(journal.records):,} documents in "
          f"{time.perf_counter() - start:.2f} s")
    cfg = DocgenConfig(spec="x", n_documents=n_docs, min_words=50)
    start = time.perf_counter()
    sel = select(slots, journal.records, cfg, ["lumen"], TokenCounter(None))
    seconds = time.perf_counter() - start
    print(f"filters: {sel.examined:,} documents through refusal/length/subject/MinHash-LSH in "
          f"{seconds:.1f} s ({sel.examined / seconds:,.0f} docs/s; kept {len(sel.kept):,})")


def main() -> None:
    offline.install()  # Inspect's token estimate without a network (explicit, not on import)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--filter-docs", type=int, default=20000)
    args = parser.parse_args()
    os.environ.setdefault("INSPECT_DISPLAY", "none")
    with tempfile.TemporaryDirectory() as tmp:
        bench_pipeline(args.docs, args.latency, args.connections, Path(tmp))
        bench_filters(args.filter_docs, Path(tmp))


if __name__ == "__main__":
    main()
