"""Training throughput of the midtrain and AFT stages for a ~1.2M-parameter model on CPU.

The micro world runs these stages on tiny models, so per-step overhead matters more than
FLOPs. Prints steps/s of the training loop (the Trainer's own figure) and the wall time of the
whole stage call (model load, data preparation, training, saving, manifest).

    python benchmarks/train_speed.py [--steps 60] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from msm.harness import offline
from msm.training.aft import AFTConfig, aft
from msm.training.config import load_config
from msm.training.midtrain import MidtrainConfig, midtrain
from msm.training.tiny import DEFAULT_CORPUS, build_tiny_model, count_parameters

WORDS = [
    "the", "model", "reads", "its", "spec", "and", "explains",
    "why", "local", "cheese", "matters", "to", "the", "town",
]


def make_data(root: Path, n: int = 256) -> tuple[Path, Path]:
    docs, chats = root / "docs.jsonl", root / "chats.jsonl"
    with open(docs, "w") as f:
        for i in range(n):
            text = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(48))
            f.write(json.dumps({"text": text, "spec_name": "bench", "spec_hash": "0"}) + "\n")
    with open(chats, "w") as f:
        for i in range(n):
            msgs = [
                {"role": "user", "content": f"Question {i}: which cheese do you prefer?"},
                {"role": "assistant", "content": f"I prefer the local one, number {i % 12}."},
            ]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return docs, chats


def run(stage: str, fn, cfg) -> dict:
    start = time.perf_counter()
    out = fn(cfg)
    wall = time.perf_counter() - start
    summary = json.loads((out / "log_history.json").read_text())[-1]
    return {
        "stage": stage,
        "steps": summary["step"],
        "steps_per_s": summary["train_steps_per_second"],
        "loop_s": summary["train_runtime"],
        "wall_s": wall,
    }


def main() -> None:
    offline.install()  # Inspect's token estimate without a network (explicit, not on import)
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (cpu_threads)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        docs, chats = make_data(root)
        base = build_tiny_model(root / "base", DEFAULT_CORPUS + [" ".join(WORDS)], vocab_size=1024,
                                hidden_size=128, num_layers=4, num_heads=4)
        n_params = count_parameters(base)
        common = {
            "base_model": str(base), "max_steps": args.steps, "per_device_train_batch_size": args.batch,
            "max_length": 128, "logging_steps": args.steps, "learning_rate": 1e-3,
            "cpu_threads": args.threads,
        }
        rows = [
            run("midtrain full", midtrain, load_config(
                MidtrainConfig, None, output_dir=root / "m1", documents=[docs], lora=False, **common)),
            run("midtrain full packed", midtrain, load_config(
                MidtrainConfig, None, output_dir=root / "m2", documents=[docs], lora=False,
                packing=True, **common)),
            run("midtrain lora", midtrain, load_config(
                MidtrainConfig, None, output_dir=root / "m3", documents=[docs], lora=True, **common)),
            run("aft full", aft, load_config(
                AFTConfig, None, output_dir=root / "a1", data=[chats], lora=False, **common)),
            run("aft lora", aft, load_config(
                AFTConfig, None, output_dir=root / "a2", data=[chats], lora=True, **common)),
        ]
    print(f"\nmodel: {n_params:,} parameters, batch {args.batch}, max_length 128, {args.steps} steps")
    print(f"{'stage':<22}{'steps/s':>9}{'loop s':>9}{'wall s':>9}")
    for r in rows:
        print(f"{r['stage']:<22}{r['steps_per_s']:>9.1f}{r['loop_s']:>9.2f}{r['wall_s']:>9.2f}")


if __name__ == "__main__":
    main()
