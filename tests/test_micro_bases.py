"""The shipped micro bases (training/micro/bases/): files as their manifest says, made from the
demo's own pretraining fields, reproducible from that recipe, and what `msm demo` starts from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from msm.harness.errors import InputError
from msm.training.micro.bases import MANIFEST, SHIPPED, config_hash, experiment_fields, verify

REPO = Path(__file__).resolve().parent.parent
EXPERIMENT = REPO / "experiments" / "micro_cheese.yaml"
SHIPPED_SEEDS = sorted(int(p.name.removeprefix("seed")) for p in SHIPPED.glob("seed*"))
LOSS_STEPS = 10
LOSS_TOLERANCE = 1e-3
"""Pretraining the manifest's recipe on another machine must give the first steps' losses to
within this (absolute; the losses start near 5.8). On the CPU kind that made the bases they are
equal (with the manifest's thread count, which also changes rounding); another kernel set
(AVX2 against AVX-512/AMX) changes float rounding by about 1e-6 at first. A changed recipe
(corpus, initialisation, batch order) moves them by more than 0.01."""


def _manifest(seed: int) -> dict:
    return json.loads((SHIPPED / f"seed{seed}" / MANIFEST).read_text())


def test_at_least_three_consecutive_bases_from_the_demo_fields():
    assert SHIPPED_SEEDS[:3] == [0, 1, 2] and SHIPPED_SEEDS == list(range(len(SHIPPED_SEEDS)))
    fields = experiment_fields(EXPERIMENT)
    for seed in SHIPPED_SEEDS:
        manifest = _manifest(seed)
        assert manifest["seed"] == seed and manifest["config"]["seed"] == seed
        assert manifest["config_hash"] == config_hash({**fields, "seed": seed})
        assert {"model", "flags", "torch_capability"} <= set(manifest["cpu"]) and manifest["torch"]
        assert len(manifest["first_losses"]) >= LOSS_STEPS


@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_files_match_the_manifest(seed):
    folder = SHIPPED / f"seed{seed}"
    assert verify(folder) == []
    files = set(_manifest(seed)["files"])
    assert {"model.safetensors", "config.json", "tokenizer.json", "pretrain_report.json"} <= files
    assert (folder / "model.safetensors").stat().st_size < 2_000_000


def test_verify_names_what_changed(tmp_path):
    import shutil

    folder = tmp_path / "seed0"
    shutil.copytree(SHIPPED / "seed0", folder)
    (folder / "config.json").write_text((folder / "config.json").read_text() + " ")
    (folder / "stray.txt").write_text("x")
    assert verify(folder) == ["config.json: sha256 differs", "stray.txt: not in the manifest"]


def test_the_recipe_reproduces_the_first_losses():
    """Pretraining seed 0 with the manifest's config on this machine: the first steps' losses."""
    from msm.training.micro.pretrain import MicroPretrainConfig, first_losses

    manifest = _manifest(0)
    cfg = MicroPretrainConfig(**manifest["config"], threads=manifest["threads"], output_dir="unused")
    losses = first_losses(cfg, LOSS_STEPS)
    expected = manifest["first_losses"][:LOSS_STEPS]
    assert max(abs(a - b) for a, b in zip(losses, expected)) <= LOSS_TOLERANCE, (losses, expected)


def _plan(path: Path, work: Path, pretrain: bool = False):
    from msm.demo import load_demo_experiment
    from msm.runner import build_plan

    return build_plan(load_demo_experiment(path, pretrain), runs_dir=work / "runs",
                      results_dir=work / "results", count_samples=False)


def test_the_demo_starts_from_every_shipped_base(tmp_path):
    plan = _plan(EXPERIMENT, tmp_path)
    assert not [s for s in plan.steps.values() if s.kind == "pretrain"]
    bases = {ev.seed: Path(ev.base_model) for ev in plan.evaluations if ev.arm == "base"}
    assert bases == {s: SHIPPED / f"seed{s}" for s in (0, 1, 2, 3, 4)}
    for arm in ("aft_only", "msm_america_aft", "msm_affordability_aft", "msm_america_only",
                "msm_affordability_only"):  # the main arms and the MSM-only arms on every base
        assert sorted(ev.seed for ev in plan.evaluations if ev.arm == arm) == [0, 1, 2, 3, 4], arm
    # --pretrain (base.shipped: false): the same bases, pretrained here, one per seed
    pretrained = _plan(EXPERIMENT, tmp_path, pretrain=True)
    steps = [s for s in pretrained.steps.values() if s.kind == "pretrain"]
    assert sorted(s.build({}).seed for s in steps) == [0, 1, 2, 3, 4]
    assert {s.build({}).world_seed for s in steps} == {0}


def test_a_file_whose_fields_no_shipped_base_matches_is_one_line(tmp_path):
    exp = yaml.safe_load(EXPERIMENT.read_text())
    exp["base"]["micro"]["steps"] = 1700
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(InputError, match=r"changed.yaml: base.shipped: .*other fields \(steps\)"):
        _plan(path, tmp_path)
    assert any(s.kind == "pretrain" for s in _plan(path, tmp_path, pretrain=True).steps.values())
    exp["base"]["micro"]["steps"] = 1800
    exp["seeds"] = [0, 99]
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(InputError, match="no shipped micro base for seed 99"):
        _plan(path, tmp_path)
    exp["base"]["micro"]["seed"] = 0  # per_seed: the arms' seeds pick the bases
    path.write_text(yaml.safe_dump(exp))
    from msm.experiment import load_experiment

    with pytest.raises(InputError, match=r"changed.yaml: base.micro.seed: with per_seed"):
        load_experiment(path)
