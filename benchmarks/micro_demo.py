"""Time `msm demo` (the micro cheese-to-values experiment) end to end, from an empty cache.

Prints the wall time of the whole run (the target: at most 150 s on 2 cores) and per stage
kind (from the runner's run log), the CPU and the machine's load average before and after (the
timings are only comparable at a similar load), then the demo's tables and verdict. The demo
starts from the shipped micro bases; with ``--pretrain`` it pretrains them here as well
(``msm demo --pretrain``) and also prints the pretraining throughput in tokens/s, the FLOP rate
that implies (6 x parameters per token) as a fraction of the torch float32 matmul rate
measured in the same process, and with ``--trl-steps N`` the rate of N steps of the same
pretraining through TRL's SFTTrainer (the real midtrain stage).

    python benchmarks/micro_demo.py                      # msm demo into a temporary folder
    python benchmarks/micro_demo.py --pretrain           # msm demo --pretrain (minutes more)
    python benchmarks/micro_demo.py --pretrain --trl-steps 60   # plus the TRL comparison
    python benchmarks/micro_demo.py --main-arms          # the three main arms only
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

    from msm.training.micro.tokenizer import encode_document
    from msm.training.midtrain import MidtrainConfig, midtrain

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


def cpu_line() -> str:
    from msm.training.micro.bases import cpu

    info = cpu()
    return f"{info['model']} ({', '.join(info['flags']) or 'no AVX2'}; torch kernels {info['torch_capability']})"


def stage_seconds(run_log: Path) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds and runs per stage kind, from the runner's run log."""
    per_kind: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for line in run_log.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "end" and "seconds" in event:
            per_kind[event["kind"]] += float(event["seconds"])
            counts[event["kind"]] += 1
    return per_kind, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", type=Path, default=None, help="experiment file (default: the demo's)")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--pretrain", action="store_true", help="pretrain the bases here (msm demo --pretrain)")
    parser.add_argument("--trl-steps", type=int, default=0, help="with --pretrain: also time N steps through TRL")
    parser.add_argument("--main-arms", action="store_true",
                        help="only the three main arms (aft_only, msm_america_aft, msm_affordability_aft)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from msm.demo import EXPERIMENT, run_demo

    work = args.out or Path(tempfile.mkdtemp(prefix="micro_demo_"))
    load_before = os.getloadavg()
    gflops = matmul_gflops() if args.pretrain else None
    t0 = time.perf_counter()
    only = ["aft_only", "msm_america_aft", "msm_affordability_aft"] if args.main_arms else None
    res = run_demo(args.experiment or EXPERIMENT, out=work / "results", runs=work / "runs", only=only,
                   pretrain=args.pretrain)
    total = time.perf_counter() - t0
    load_after = os.getloadavg()

    per_kind, counts = stage_seconds(work / "results" / "run_log.jsonl")
    print(f"msm demo{' --pretrain' if args.pretrain else ''}: {total:.1f} s wall (load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; {os.cpu_count()} CPUs: {cpu_line()})")
    print(f"stages, seconds summed over the {res['workers']} worker process(es) that ran side by side:")
    for kind, seconds in sorted(per_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:<12} {seconds:7.1f} s  ({counts[kind]} run(s))")
    print(f"  {'sum':<12} {sum(per_kind.values()):7.1f} s  (against {total:.1f} s wall)")
    if args.pretrain:
        pretrain_rates(res, gflops, args.trl_steps, work)
    if res["main_table"]:
        print(res["main_table"])
    for line in res["verdict"]:
        print(line)


def pretrain_rates(res: dict, gflops: float, trl_steps: int, work: Path) -> None:
    """Pretraining throughput of the bases pretrained in this run (and through TRL)."""
    for seed, rep in sorted(res["base_reports"].items()):
        achieved = 6 * rep["parameters"] * rep["tokens_per_second"] / 1e9
        print(f"pretraining base {seed}: {rep['trained_tokens']:,} tokens in {rep['seconds']} s = "
              f"{rep['tokens_per_second']:,.0f} tokens/s; {achieved:.1f} GFLOP/s (6 x {rep['parameters']:,} "
              f"parameters per token) = {achieved / gflops:.1%} of the {gflops:.1f} GFLOP/s float32 matmul rate")
    if trl_steps and res["base_reports"]:
        base = next((work / "runs").glob("pretrain-*/pretrain_report.json")).parent
        rate = trl_pretrain_rate(base, trl_steps, 64, work)
        lean = next(iter(res["base_reports"].values()))["tokens_per_second"]
        print(f"same pretraining through TRL SFTTrainer (midtrain stage), {trl_steps} steps: "
              f"{rate:,.0f} tokens/s ({rate / lean:.2f} x the lean loop)")


if __name__ == "__main__":
    main()
