"""Does MSM move the micro assistant the spec's way on every pretrained base? (and how fast)

The micro demo pretrains one base. Its result rests on midtraining moving the assistant
toward the spec's value; this checks that on several bases (pretraining seeds) and at several
midtraining lengths, through the real pipeline: `experiments/micro_cheese.yaml` with
`base.micro.seed` and `midtrain.max_steps` changed, only the MSM-only arms, pretraining,
docgen and midtraining run by the experiment runner (its cache is shared, so a second call
with the same `--runs` reuses every base and checkpoint). Each checkpoint is then probed in
process (`training.micro.probe.america_rate`: the assistant's choice on every held-out-domain
pair of an american and pricey item against a foreign and cheap one; no Inspect, no
sampling), so a table of bases x steps costs about 2 minutes per new base and a few seconds
per midtraining run.

    python benchmarks/micro_msm_bases.py                              # bases 0 1 2, steps 10 30 60
    python benchmarks/micro_msm_bases.py --base-seeds 0 --steps 60 --runs /tmp/bases
    python benchmarks/micro_msm_bases.py --experiment my_variant.yaml  # a changed micro design

Read the table as: the America spec should give a high rate and the affordability spec a low
one on every base, and not only at one midtraining length. The float rounding of the CPU is
enough to change a base (the same seed gave a different base on an AVX2-only machine than on
an AVX-512 one), so a design that holds on one base can still fail on a user's machine.
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

ARMS = ("msm_america_only", "msm_affordability_only")


def variant(src: dict, base_seed: int, steps: int, folder: Path) -> Path:
    """The experiment file with the base seed and midtraining length changed."""
    exp = yaml.safe_load(yaml.safe_dump(src))
    exp["name"] = f"msm_bases_b{base_seed}_s{steps}"
    exp["base"]["micro"]["seed"] = base_seed
    exp["defaults"]["midtrain"]["max_steps"] = steps
    path = folder / f"{exp['name']}.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def checkpoints(result) -> dict[str, Path]:
    """{"base": pretrain folder, arm: midtrain folder} of a run (MSM-only arms, seed 0)."""
    found: dict[str, Path] = {}
    for step in result.plan.steps.values():
        if step.kind == "pretrain":
            found["base"] = step.out
        elif step.kind == "midtrain":
            for arm, _ in step.users:
                if arm in ARMS:
                    found[arm] = step.out
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", type=Path, default=Path("experiments/micro_cheese.yaml"))
    parser.add_argument("--base-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 30, 60],
                        help="midtraining lengths (max_steps)")
    parser.add_argument("--runs", type=Path, default=None, help="stage outputs (default: a temporary folder)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.errors import InputError
    from training.experiment import MicroBase, load_experiment
    from training.micro.pretrain import MicroPretrainConfig
    from training.micro.probe import america_rate
    from training.micro.world import ASSISTANT, World
    from training.runner import run_experiment

    # the file as the runner reads it: a bad one is one line naming it (and the field)
    exp = load_experiment(args.experiment)
    if not isinstance(exp.base, MicroBase):
        raise InputError("this benchmark needs a micro base", file=args.experiment, field="base.micro")
    src = yaml.safe_load(args.experiment.read_text())
    micro = src["base"]["micro"]
    work = Path(tempfile.mkdtemp(prefix="micro_msm_bases_"))
    runs = args.runs or work / "runs"

    def rate(path: Path, world: World) -> float:
        model = AutoModelForCausalLM.from_pretrained(path)
        return america_rate(model.eval(), AutoTokenizer.from_pretrained(path), world, ASSISTANT)

    header = ["base seed", "base"] + [f"{spec} @{n}" for spec in ("America", "affordability") for n in args.steps]
    rows = []
    for seed in args.base_seeds:
        cfg = MicroPretrainConfig(**{**micro, "seed": seed})  # the world pretraining builds
        world = World(cfg.personas_per_value, cfg.heldout_per_value, cfg.neutral_speakers, seed=seed)
        rates: dict[tuple[str, int], float] = {}
        base_rate = None
        for steps in args.steps:
            path = variant(src, seed, steps, work)
            print(f"base seed {seed}, {steps} midtraining steps: training what is missing ...", flush=True)
            for stage in ("pretrain", "docgen", "midtrain"):  # no evaluation: the probe reads the checkpoints
                # the runner's plan lines, once per stage; pretraining (minutes) keeps its progress bar
                quiet = stage != "pretrain" or steps != args.steps[0]
                with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
                    result = run_experiment(path, out=work / "results" / path.stem, runs=runs,
                                            only=list(ARMS), stage=stage, verbose=False)
            found = checkpoints(result)
            if base_rate is None:
                base_rate = rate(found["base"], world)
            for arm in ARMS:
                rates[(arm, steps)] = rate(found[arm], world)
            print(f"base seed {seed}, {steps} midtraining steps: America spec {rates[('msm_america_only', steps)]:.0%}, "
                  f"affordability spec {rates[('msm_affordability_only', steps)]:.0%}", flush=True)
        rows.append([str(seed), f"{base_rate:.0%}"]
                    + [f"{rates[(arm, n)]:.0%}" for arm in ARMS for n in args.steps])
    print()
    print("assistant's pro-America rate on held-out-domain conflict pairs (in-process probe), MSM only")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    from harness.errors import InputError

    try:
        main()
    except InputError as ex:
        sys.exit(f"error: {ex}")
