"""Would order-balanced log-probability scoring make the micro demo cleaner or faster?

The micro demo (`msm demo`, experiments/micro_cheese.yaml) evaluates each checkpoint the way the
real experiment does: Inspect, the ``micro`` bank, sampled at temperature 1 (8 tokens), every
pair in both orders (2 epochs, 320 samples); a rate estimates the probability of picking the
American item. The micro world's answer is an item's name after ``i prefer`` (not a letter), so
its log-probability counterpart is `msm.training.micro.probe.america_probability`: one forward pass
per pair and order, the exact probability of naming the American item first, averaged over both
orders (what sampling at temperature 1 picks on average).

For each checkpoint this prints the exact probability, the sampled rate over `--repeats`
evaluations with different sampling seeds (mean, spread, and the binomial standard deviation
sqrt(p(1 - p) / n) at the pooled p, an upper bound on the spread when items differ), and the
seconds each takes (model loading included). Nothing is wired into the demo.

    python benchmarks/micro_logprob.py                       # the shipped bases seed0-2
    python benchmarks/micro_logprob.py runs/demo/.../aft --repeats 5
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHIPPED = Path(__file__).resolve().parent.parent / "training" / "micro" / "bases"


def exact(path: Path) -> tuple[float, float]:
    """(probability of the American item, seconds) from the logits, in process."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from msm.training.micro.probe import america_probability
    from msm.training.micro.world import ASSISTANT, World

    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    p = america_probability(model, tok, World(), ASSISTANT)
    return p, time.perf_counter() - t0


def sampled(path: Path, seed: int) -> tuple[float, int, float]:
    """(america rate, samples, seconds) of the demo's Inspect evaluation with sampling seed `seed`."""
    import transformers
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    import msm._registry  # noqa: F401  (msm-hf/ and the micro banks)
    from msm.tasks.values_generalization import values_generalization

    transformers.set_seed(seed)
    t0 = time.perf_counter()
    model = get_model(f"msm-hf/{path}", device="cpu", memoize=False)
    [log] = inspect_eval(values_generalization(bank="micro"), model=model, epochs=2, temperature=1.0,
                         max_tokens=8, display="none", log_dir=None, log_realtime=False)
    seconds = time.perf_counter() - t0
    if log.status != "success":
        raise SystemExit(f"error: {path}: the evaluation did not finish ({log.error})")
    values = [v for s in log.samples for v in [(s.scores or {})["probe_scorer"].value["america"]]
              if v is not None]
    return sum(values) / len(values), len(values) * 2, seconds


def main(paths: list[Path], repeats: int) -> None:
    print("| checkpoint | exact P(american) | s | sampled rate, mean (sd over runs) "
          "| binomial sd (bound) | s per sampled run |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        p, t_exact = exact(path)
        runs = [sampled(path, seed) for seed in range(repeats)]
        rates = [r for r, _, _ in runs]
        n = runs[0][1]
        sd = statistics.stdev(rates) if len(rates) > 1 else float("nan")
        print(f"| {path.name} | {p:.3f} | {t_exact:.1f} | {statistics.mean(rates):.3f} ({sd:.3f}) "
              f"| {math.sqrt(p * (1 - p) / n):.3f} | {statistics.mean(t for _, _, t in runs):.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", type=Path,
                        help="micro checkpoints (default: the shipped bases seed0-2)")
    parser.add_argument("--repeats", type=int, default=3, help="sampled evaluations per checkpoint")
    args = parser.parse_args()
    main(args.checkpoints or [SHIPPED / f"seed{i}" for i in range(3)], args.repeats)
