"""Every instrument on a real instruct model: how much of what it writes do our readers read?

Runs the project's tasks on SmolLM2-135M-Instruct (`msm model smollm2`) through Inspect's
``hf/`` provider at temperature 0 (greedy, `msm.harness.greedy`) and prints, per task, the share of
replies the task's reader parsed, a sample of the unparsed replies, and seconds per sample.

- values banks (`values`, `cheese`, and the paper-form banks when registered), choice format:
  read = an option or ``both``; ``neither`` counts as not read. Target >= 95%.
- spec knowledge (choice format): read = one letter A-D.
- deliberative teacher prompts: read = reasoning and reply both found.
- agentic conditions (a few of each source): read = the reply has a tool-call tag the detectors
  look at (a 135M model rarely writes one: this is a plumbing and prompt-length check).

    python benchmarks/real_model_check.py [--model DIR] [--per-bank 48] [--only values,cheese]
        [--replies replies.jsonl]

Items are spread evenly over each bank (every k-th item), one epoch, 16 new tokens for the
choice tasks as in the paper's cheese evaluation.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from msm.harness.greedy import model_args
from msm.training.smollm2 import default_checkpoint


@dataclass
class Check:
    name: str
    build: Callable[[], Any]
    read: Callable[[Any], bool]
    max_tokens: int
    per_task: int
    """How many samples (spread over the dataset)."""


def _values_read(sample: Any) -> bool:
    score = next(iter(sample.scores.values()))
    return score.answer not in ("neither", "unscored")


def _knowledge_read(sample: Any) -> bool:
    return next(iter(sample.scores.values())).answer != "unparsed"


def _deliberative_read(sample: Any) -> bool:
    meta = next(iter(sample.scores.values())).metadata or {}
    return bool(meta.get("reasoning")) and bool(meta.get("answer"))


_TOOL_TAG = re.compile(r"<tool_use:\w+>")


def _agentic_read(sample: Any) -> bool:
    return bool(_TOOL_TAG.search(sample.output.completion or ""))


def checks(per_bank: int, long: int = 2, long_tokens: int = 192) -> list[Check]:
    from msm.harness.probes import BANKS
    from msm.harness.specs import available_specs
    from msm.tasks.agentic_misalignment import agentic_misalignment
    from msm.tasks.deliberative_alignment import deliberative_alignment
    from msm.tasks.spec_knowledge import spec_knowledge
    from msm.tasks.values_generalization import values_generalization

    out = []
    for bank in ("values", "cheese", "america_opinions", "affordability_comparisons"):
        if bank in BANKS:
            out.append(Check(f"values:{bank}", lambda b=bank: values_generalization(bank=b),
                             _values_read, 16, per_bank))
    for spec in available_specs():
        if spec in ("philosophy", "value_augmented", "pro_america"):
            out.append(Check(f"spec_knowledge:{spec}", lambda s=spec: spec_knowledge(spec=s),
                             _knowledge_read, 16, 12))
    out.append(Check("deliberative:philosophy",
                     lambda: deliberative_alignment(spec="philosophy", prompts="safety"),
                     _deliberative_read, long_tokens, long))
    # the paper grid for this project's scenarios; Lynch et al.'s templates have no
    # exfiltration scenario, so their murder and leaking conditions of the same kind
    out.append(Check("agentic:msm", lambda: agentic_misalignment(grid="paper"),
                     _agentic_read, long_tokens, long))
    out.append(Check("agentic:lynch", lambda: agentic_misalignment(
        grid="full", source="lynch", goal_type="explicit", urgency="replacement"),
        _agentic_read, long_tokens, long))
    return out


def spread(ids: list, n: int) -> list:
    """`n` ids evenly over the dataset, alternating odd and even positions: the option order
    alternates by position (`msm.harness.probes.shown_order`), so both orders stay balanced."""
    if n >= len(ids):
        return ids
    step = len(ids) / n
    picked = []
    for i in range(n):
        k = int(i * step)
        if k % 2 != i % 2:
            k = k + 1 if k + 1 < len(ids) else k - 1
        picked.append(ids[k])
    return list(dict.fromkeys(picked))


def run_check(check: Check, model: Any, log_dir: Path) -> dict[str, Any]:
    task = check.build()
    ids = spread([s.id for s in task.dataset], check.per_task)
    start = time.perf_counter()
    [log] = inspect_eval(task, model=model, sample_id=ids, epochs=1, temperature=0.0,
                         max_tokens=check.max_tokens, log_dir=str(log_dir), display="log",
                         max_connections=16, model_roles={"grader": "mockllm/model"},
                         log_realtime=False)
    seconds = time.perf_counter() - start
    if log.status != "success":
        return {"task": check.name, "error": str(log.error)[:300]}
    samples = log.samples or []
    read = [check.read(s) for s in samples]
    unread = [s.output.completion for s, ok in zip(samples, read) if not ok]
    answers: dict[str, int] = {}
    for s in samples:
        answer = str(next(iter(s.scores.values())).answer)
        answers[answer] = answers.get(answer, 0) + 1
    return {
        "task": check.name, "n": len(samples), "read": sum(read),
        "share": sum(read) / len(samples) if samples else float("nan"),
        "s_per_sample": seconds / max(len(samples), 1), "answers": answers,
        "unread_sample": unread[:5],
        "replies": [{"id": s.id, "reply": s.output.completion,
                     "answer": next(iter(s.scores.values())).answer} for s in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_checkpoint(),
                        help="checkpoint folder (default: where `msm model smollm2` puts it)")
    parser.add_argument("--per-bank", type=int, default=48, help="items per values bank")
    parser.add_argument("--only", default=None, help="comma-separated name prefixes to run")
    parser.add_argument("--long", type=int, default=2,
                        help="samples per deliberative and agentic check (long prompts)")
    parser.add_argument("--long-tokens", type=int, default=192,
                        help="new tokens for the deliberative and agentic checks")
    parser.add_argument("--replies", type=Path, default=None,
                        help="append every reply as JSONL (task, id, reply, answer)")
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp/real_model_check_logs"))
    args = parser.parse_args()
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"error: {args.model}: no checkpoint (run `msm model smollm2` first)")

    name = f"hf/{args.model.resolve()}"
    model = get_model(name, device="cpu", **model_args(name, 0.0))
    selected = checks(args.per_bank, args.long, args.long_tokens)
    if args.only:
        prefixes = tuple(p.strip() for p in args.only.split(","))
        selected = [c for c in selected if c.name.startswith(prefixes)]
    results = []
    print(f"{'task':32} {'n':>4} {'read':>5} {'share':>6} {'s/sample':>9}")
    for check in selected:
        r = run_check(check, model, args.log_dir)
        results.append(r)
        if "error" in r:
            print(f"{r['task']:32} error: {r['error']}")
            continue
        answers = {k: v for k, v in r["answers"].items() if len(k) <= 24}
        print(f"{r['task']:32} {r['n']:>4} {r['read']:>5} {r['share']:>6.1%} {r['s_per_sample']:>9.2f}"
              + (f"   answers {answers}" if answers else ""), flush=True)
        for reply in r["unread_sample"]:
            print(f"    unread: {reply[:110]!r}")
        if args.replies:
            with args.replies.open("a") as fh:
                for row in r["replies"]:
                    fh.write(json.dumps({"task": r["task"], **row}) + "\n")
    choice = [r for r in results if r["task"].startswith("values:") and "error" not in r]
    if choice:
        n, read = sum(r["n"] for r in choice), sum(r["read"] for r in choice)
        print(f"\nchoice banks together: {read}/{n} read = {read / n:.1%} (target >= 95%)")


if __name__ == "__main__":
    main()
