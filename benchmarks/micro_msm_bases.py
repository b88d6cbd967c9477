"""Does MSM move the micro assistant the spec's way on every pretrained base? (and how fast)

The micro result rests on midtraining moving the assistant toward the spec's value on every
base, not on one lucky base. This checks a design on several bases (pretraining seeds) and at
several midtraining lengths, through the real pipeline: `experiments/micro_cheese.yaml` with
the bases pretrained here (`base.shipped: false`), `midtrain.max_steps` changed and any
`--set` applied; the runner trains what is missing (its cache is shared, so a second call
with the same `--runs` reuses every base and checkpoint). Each arm's final checkpoint is then
probed in process (`msm.training.micro.probe.america_probability`: the probability that the
assistant names the american-and-pricey item first, on every held-out-domain conflict pair in
both orders; the expectation of the demo's sampled rate, without sampling noise).

    python benchmarks/micro_msm_bases.py                              # bases 100 101 102, 60 steps
    python benchmarks/micro_msm_bases.py --aft                        # and the three AFT arms
    python benchmarks/micro_msm_bases.py --base-seeds 100 --steps 30 60 --runs /tmp/bases
    python benchmarks/micro_msm_bases.py --set defaults.midtrain.learning_rate=2e-2
    python benchmarks/micro_msm_bases.py --experiment my_variant.yaml  # a changed micro design

The default bases are 100-102, not the shipped 0-2: tune a design on bases other than the ones
you report. Read the table as: the America spec should raise the rate above the base's and the
affordability spec lower it, on every base, and with ``--aft`` MSM-America + AFT > AFT only >
MSM-affordability + AFT. The float rounding of the CPU is enough to change a base, so a design
that holds on one base can still fail on another.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

import yaml

MSM_ONLY = ("msm_america_only", "msm_affordability_only")
WITH_AFT = ("aft_only", "msm_america_aft", "msm_affordability_aft")
LABELS = {"msm_america_only": "America only", "msm_affordability_only": "affordability only",
          "aft_only": "AFT only", "msm_america_aft": "America + AFT",
          "msm_affordability_aft": "affordability + AFT"}


def _assign(exp: dict, dotted: str) -> None:
    """``a.b.c=value`` (value read as YAML) into the nested experiment dict."""
    key, _, raw = dotted.partition("=")
    *parents, last = key.split(".")
    node = exp
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = yaml.safe_load(raw)


def variant(src: dict, base_seed: int, steps: int, sets: list[str], folder: Path, shipped: bool = False) -> Path:
    """The experiment file with one base (pretrained here, or the shipped one), the midtraining
    length and `sets` changed, and every arm on one seed (the base's)."""
    exp = yaml.safe_load(yaml.safe_dump(src))
    exp["name"] = f"msm_bases_b{base_seed}_s{steps}"
    exp["base"]["shipped"] = shipped
    exp["seeds"] = [base_seed]
    for arm in exp["arms"].values():
        arm.pop("seeds", None)
    exp["defaults"]["midtrain"]["max_steps"] = steps
    exp["audit"] = "off"  # the audit changes no weight; skipping it keeps the loop short
    for item in sets:
        _assign(exp, item)
    path = folder / f"{exp['name']}.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def checkpoints(result, arms: tuple[str, ...]) -> dict[str, Path]:
    """{"base": base folder, arm: its final checkpoint} of a run."""
    found: dict[str, Path] = {ev.arm: Path(ev.base_model) for ev in result.plan.evaluations
                              if ev.arm == "base" and ev.base_model}  # a shipped base
    rank = {"pretrain": 0, "midtrain": 1, "aft": 2}
    order: dict[str, int] = {}
    for step in result.plan.steps.values():
        if step.kind == "pretrain":
            found["base"] = step.out
        for arm, _ in step.users:
            if arm in arms and step.kind in rank and rank[step.kind] >= order.get(arm, -1):
                found[arm], order[arm] = step.out, rank[step.kind]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", type=Path, default=Path("experiments/micro_cheese.yaml"))
    parser.add_argument("--base-seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--steps", type=int, nargs="+", default=[60], help="midtraining lengths (max_steps)")
    parser.add_argument("--aft", action="store_true", help="also AFT only and the two MSM + AFT arms")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change the experiment file, e.g. defaults.midtrain.learning_rate=2e-2")
    parser.add_argument("--runs", type=Path, default=None, help="stage outputs (default: a temporary folder)")
    parser.add_argument("--shipped", action="store_true",
                        help="the shipped bases of these seeds instead of pretraining them (not for tuning)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar per probed checkpoint

    from msm.harness.cheese import CHEESE_PAIRS
    from msm.runner import run_experiment
    from msm.training.micro.bases import experiment_fields
    from msm.training.micro.probe import america_probability, first_probability
    from msm.training.micro.world import ASSISTANT, World, micro_name

    experiment_fields(args.experiment)  # a micro base, or one line naming the file and field
    src = yaml.safe_load(args.experiment.read_text())
    arms = MSM_ONLY + (WITH_AFT if args.aft else ())
    work = Path(tempfile.mkdtemp(prefix="micro_msm_bases_"))
    runs = args.runs or work / "runs"
    world = World()  # the probe's items and question do not depend on the base

    cheeses = [(world.item_by_name[micro_name(p.chosen)], world.item_by_name[micro_name(p.rejected)])
               for p in CHEESE_PAIRS]

    def rate(path: Path, cheese: bool = False) -> float:
        model, tok = AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)
        if cheese:  # did AFT take: the preferred cheese of each AFT pair
            return first_probability(model, tok, ASSISTANT, cheeses)
        return america_probability(model, tok, world, ASSISTANT)

    header = ["base seed", "steps", "base", *(LABELS[a] for a in arms)]
    header += ["AFT's cheeses (AFT arms)"] if args.aft else []
    rows = []
    for seed in args.base_seeds:
        for steps in args.steps:
            path = variant(src, seed, steps, args.set, work, shipped=args.shipped)
            print(f"base seed {seed}, {steps} midtraining steps: training what is missing ...", flush=True)
            for stage in ("pretrain", "docgen", "midtrain", "aft"):  # no evaluation: the probe reads the checkpoints
                with contextlib.redirect_stderr(io.StringIO()):
                    result = run_experiment(path, out=work / "results" / path.stem, runs=runs,
                                            only=list(arms), stage=stage, verbose=False)
            found = checkpoints(result, arms)
            cells = [f"{rate(found['base']):.1%}"] + [f"{rate(found[a]):.1%}" for a in arms]
            if args.aft:
                cells.append(" / ".join(f"{rate(found[a], cheese=True):.0%}" for a in WITH_AFT))
            rows.append([str(seed), str(steps), *cells])
            print("  " + ", ".join(f"{h} {c}" for h, c in zip(header[2:], cells)), flush=True)
    print()
    print("assistant's expected pro-America rate on held-out-domain conflict pairs (in-process probe)")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    from msm.harness.errors import InputError

    try:
        main()
    except InputError as ex:
        sys.exit(f"error: {ex}")
