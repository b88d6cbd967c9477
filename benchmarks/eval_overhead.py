"""Inspect evaluation time vs raw batched generation, on the same prompts and model.

Evaluates the micro demo's probe task (``values_generalization -T bank=micro``: 160 pairs x 2
epochs = 320 samples, at most 8 new tokens, temperature 1 as in ``msm demo``) through the
``msm-hf/`` provider, then times one ``model.generate`` call on the very prompts that
evaluation sent (rendered by the provider's chat template, left-padded, same settings). Both
are warm: one evaluation runs first so imports and first-call costs are not counted. The last
line is ``ratio: <Inspect evaluation time / raw generate time>``.

It also evaluates the same task through ``mockllm/model`` (no model at all: Inspect's own cost
per sample, the floor no provider can go under) and splits the msm-hf/ time into raw
generation, that floor, and the rest (the provider: chat template, tokenising, decoding).
With a micro-sized model the floor alone is several times the generation time, so the ratio
says more about model size than about the provider; ``--hidden-size`` and ``--layers`` build a
larger random model to show where the ratio falls.

    python benchmarks/eval_overhead.py                       # a micro-sized model from a config
    python benchmarks/eval_overhead.py --hidden-size 512 --layers 8   # a larger random model
    python benchmarks/eval_overhead.py --checkpoint runs/micro_cheese/aft-.../   # a real one
    python benchmarks/eval_overhead.py --hf                  # also Inspect's own hf/ provider

Timings depend on the machine's load; the load average is printed with them, and the ratio is
taken from figures measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

FLOOR_CONNECTIONS = 1024
"""mockllm/ at msm-hf/'s default concurrency (every sample waiting at once)."""


def _tiny_checkpoint(work: Path, hidden_size: int, layers: int) -> Path:
    """A randomly initialised model (default: the micro demo's size, 3 layers, width 96)."""
    from msm.training.tiny import build_tiny_model

    return build_tiny_model(work / "model", hidden_size=hidden_size, num_layers=layers,
                            intermediate_size=hidden_size * 8 // 3)


def _eval(model, log_dir: Path, epochs: int, max_tokens: int, temperature: float, **kwargs):
    from inspect_ai import eval as inspect_eval

    from msm.tasks.values_generalization import values_generalization

    task = values_generalization(bank="micro")
    t0 = time.perf_counter()
    log = inspect_eval(
        task,
        model=model,
        epochs=epochs,  # the count only: the task keeps its reducer
        max_tokens=max_tokens,
        temperature=temperature,
        display="log",  # the runner's quiet display (msm.runner.evaluation)
        log_dir=str(log_dir),
        log_realtime=False,
        **kwargs,
    )[0]
    seconds = time.perf_counter() - t0
    if log.status != "success":
        raise SystemExit(f"evaluation failed: {log.error}")
    return log, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="a local Hugging Face checkpoint (default: a micro-sized model)",
    )
    parser.add_argument("--hidden-size", type=int, default=96, help="width of the random model")
    parser.add_argument("--layers", type=int, default=3, help="layers of the random model")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (median)")
    parser.add_argument("--hf", action="store_true", help="also time Inspect's hf/ provider")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from inspect_ai.model import get_model

    from msm.harness.providers import register

    register()
    work = Path(tempfile.mkdtemp(prefix="eval_overhead_"))
    checkpoint = args.checkpoint or _tiny_checkpoint(work, args.hidden_size, args.layers)
    model = get_model(f"msm-hf/{Path(checkpoint).resolve()}", device="cpu")
    api = model.api
    log, _ = _eval(model, work / "warm", args.epochs, args.max_tokens, args.temperature)
    _eval("mockllm/model", work / "floor-warm", args.epochs, args.max_tokens, args.temperature,
          max_connections=FLOOR_CONNECTIONS)

    # the prompts that evaluation sent, rendered exactly as the provider renders them
    prompts = [
        api.hf_chat([m for m in s.messages if m.role != "assistant"], []) for s in log.samples
    ]
    kwargs = {"max_new_tokens": args.max_tokens, "do_sample": args.temperature > 0}
    if args.temperature > 0:
        kwargs["temperature"] = args.temperature

    def raw() -> float:
        t0 = time.perf_counter()
        enc = api.tokenizer(prompts, return_tensors="pt", padding=True)
        with torch.inference_mode():
            api.model.generate(**enc, pad_token_id=api.tokenizer.pad_token_id, **kwargs)
        return time.perf_counter() - t0

    load = os.getloadavg()[0]
    raw_times, eval_times, floor_times, hf_times = [], [], [], []
    for i in range(args.repeats):
        raw_times.append(raw())
        floor_times.append(
            _eval("mockllm/model", work / f"floor{i}", args.epochs, args.max_tokens, args.temperature,
                  max_connections=FLOOR_CONNECTIONS)[1]
        )
        batches = api.batches
        eval_times.append(
            _eval(model, work / f"run{i}", args.epochs, args.max_tokens, args.temperature)[1]
        )
        assert api.batches - batches >= 1
    if args.hf:
        hf_model = get_model(f"hf/{Path(checkpoint).resolve()}", device="cpu")
        _eval(hf_model, work / "hf-warm", args.epochs, args.max_tokens, args.temperature)
        hf_times.append(
            _eval(hf_model, work / "hf", args.epochs, args.max_tokens, args.temperature)[1]
        )
    load_after = os.getloadavg()[0]
    r, e = statistics.median(raw_times), statistics.median(eval_times)
    floor = statistics.median(floor_times)
    params = sum(p.numel() for p in api.model.parameters())
    print(
        f"model: {checkpoint} ({params:,} parameters); {len(prompts)} samples, "
        f"at most {args.max_tokens} new tokens, temperature {args.temperature}"
    )
    print(
        f"load average {load:.1f} before, {load_after:.1f} after ({os.cpu_count()} CPUs); "
        f"medians of {args.repeats} runs"
    )
    print(f"raw batched generate (one call, all prompts): {r:.2f} s")
    print(
        f"Inspect evaluation through msm-hf/ (warm):     {e:.2f} s "
        f"({api.batches} generate calls in {args.repeats + 1} evaluations)"
    )
    print(
        f"Inspect evaluation through mockllm/ (no model): {floor:.2f} s "
        f"({floor / len(prompts) * 1000:.1f} ms a sample: Inspect's floor)"
    )
    print(
        f"msm-hf/ split: generation {r:.2f} s + Inspect's floor {floor:.2f} s + the rest "
        f"{e - r - floor:.2f} s; without the floor the ratio would be {(e - floor) / r:.2f}"
    )
    if hf_times:
        print(
            f"Inspect evaluation through hf/ (warm):         {hf_times[0]:.2f} s "
            f"({hf_times[0] / r:.1f} x raw)"
        )
    print(f"ratio: {e / r:.2f}")


if __name__ == "__main__":
    main()
