"""Time `msm demo` (the micro cheese-to-values experiment) end to end, from an empty cache.

Prints the wall time of the whole run and per stage kind (from the runner's run log), the
pretraining throughput in tokens/s, the FLOP rate that implies (6 x parameters per token) as
a fraction of the torch float32 matmul rate measured in the same process, and the machine's
load average (the timings are only comparable at a similar load). With ``--trl-steps N`` it
also times N steps of the same pretraining through TRL's SFTTrainer (the real midtrain stage)
for the lean-loop-vs-TRL comparison.

    python benchmarks/micro_demo.py                      # full demo into a temporary folder
    python benchmarks/micro_demo.py --trl-steps 60       # plus the TRL comparison
    python benchmarks/micro_demo.py --main-arms          # the three main arms, 3 seeds each
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path


def matmul_gflops(seconds: float = 2.0, n: int = 1024) -> float:
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - t0) / 1e9


def trl_pretrain_rate(base: Path, steps: int, batch_size: int, work: Path) -> float:
    """Tokens/s of `steps` steps of full training on the pretraining corpus through midtrain."""
    from transformers import AutoTokenizer

    from training.micro.tokenizer import encode_document
    from training.midtrain import MidtrainConfig, midtrain

    corpus = base / "corpus.jsonl"
    tok = AutoTokenizer.from_pretrained(base)
    lengths = [len(encode_document(tok, json.loads(line)["text"])) for line in corpus.open()]
    mean_len = sum(lengths) / len(lengths)
    cfg = MidtrainConfig(base_model=str(base), output_dir=work / "trl", documents=[corpus], lora=False,
                         max_steps=steps, per_device_train_batch_size=batch_size, max_length=64,
                         learning_rate=1e-3, save_steps=10_000)
    t0 = time.perf_counter()
    midtrain(cfg)
    return steps * batch_size * mean_len / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--trl-steps", type=int, default=0, help="also time N pretraining steps through TRL")
    parser.add_argument("--main-arms", action="store_true",
                        help="only the three main arms (aft_only, msm_america_aft, msm_affordability_aft)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from training.micro.demo import run_demo

    work = args.out or Path(tempfile.mkdtemp(prefix="micro_demo_"))
    load_before = os.getloadavg()
    gflops = matmul_gflops()
    t0 = time.perf_counter()
    only = ["aft_only", "msm_america_aft", "msm_affordability_aft"] if args.main_arms else None
    res = run_demo(out=work / "results", runs=work / "runs", only=only)
    total = time.perf_counter() - t0
    load_after = os.getloadavg()

    per_kind: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for line in (work / "results" / "run_log.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "end" and "seconds" in event:
            per_kind[event["kind"]] += float(event["seconds"])
            counts[event["kind"]] += 1
    print(f"msm demo: {total:.1f} s wall (load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"{os.cpu_count()} CPUs)")
    for kind, seconds in sorted(per_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:<12} {seconds:7.1f} s  ({counts[kind]} run(s))")
    if res["pretrain_report"]:
        rep = json.loads(Path(res["pretrain_report"]).read_text())
        achieved = 6 * rep["parameters"] * rep["tokens_per_second"] / 1e9
        print(f"pretraining: {rep['trained_tokens']:,} tokens in {rep['seconds']} s = {rep['tokens_per_second']:,.0f} tokens/s; "
              f"{achieved:.1f} GFLOP/s (6 x {rep['parameters']:,} parameters per token) = "
              f"{achieved / gflops:.1%} of the {gflops:.1f} GFLOP/s float32 matmul rate measured now")
        if args.trl_steps:
            base = Path(res["pretrain_report"]).parent
            rate = trl_pretrain_rate(base, args.trl_steps, 64, work)
            print(f"same pretraining through TRL SFTTrainer (midtrain stage), {args.trl_steps} steps: "
                  f"{rate:,.0f} tokens/s ({rate / rep['tokens_per_second']:.2f} x the lean loop)")
    if res["main_table"]:
        print(res["main_table"])
    for line in res["verdict"]:
        print(line)


if __name__ == "__main__":
    main()
