"""The reproduction kit: checkpoint arms (evaluated, trained nowhere), published rates beside
measured ones, and the paper's files validated offline."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from inspect_ai.log import list_eval_logs, read_eval_log

from msm.cli import main
from msm.experiment import load_experiment
from msm.harness.errors import InputError
from msm.harness.reference import ReferenceRow, add_reference, binomial_check
from msm.runner import build_plan, run_experiment

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny base model and a LoRA adapter made from it here (its config names another base,
    as a released adapter names the hub model it was trained on)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from msm.training.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("ckpt")
    base = build_tiny_model(root / "base", hidden_size=32, num_layers=1)
    model = AutoModelForCausalLM.from_pretrained(base)
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
    peft_model = get_peft_model(model, lora)
    with torch.no_grad():  # a non-zero adapter, so that it changes the model
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.05)
    adapter = root / "adapter"
    peft_model.save_pretrained(adapter)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "some-org/not-here"
    (adapter / "adapter_config.json").write_text(json.dumps(cfg))
    return base, adapter


def experiment(folder: Path, tiny: tuple[Path, Path], **changes) -> Path:
    base, adapter = tiny
    for name, target in (("base", base), ("adapter", adapter)):
        if not (folder / name).exists():
            (folder / name).symlink_to(target, target_is_directory=True)
    data = {
        "name": "released",
        "base": "./base",
        "eval": {"max_tokens": 4, "max_samples": 4, "model_args": {"device": "cpu"}},
        "tasks": [
            {
                "task": "values_generalization",
                "args": {"format": "choice"},
                "epochs": 1,
                "limit": 4,
                "metric": "america",
            }
        ],
        "leaderboard": {"baseline": "base_model"},
        "arms": {
            "base_model": {"checkpoint": "./base"},
            "released_aft": {
                "checkpoint": "./base:./adapter",
                "spec": "pro_america",
                "checkpoint_stage": "msm+aft",
            },
        },
        "reference": [
            {
                "arm": "released_aft",
                "task": "values_generalization",
                "rate": 0.5,
                "n": 400,
                "source": "a made-up published rate for the test",
            }
        ],
    }
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    path = folder / "released.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_checkpoint_arms_are_evaluated_through_the_real_task(tmp_path, tiny):
    path = experiment(tmp_path, tiny)
    dirs = {"out": tmp_path / "results", "runs": tmp_path / "runs"}
    r = run_experiment(path, **dirs)
    assert r.ran == [] and not r.plan.steps  # trained nowhere
    assert len(r.evaluated) == 2
    metas = {}
    for ev in r.plan.evaluations:
        (task_dir,) = ev.task_dirs.values()
        (info,) = list_eval_logs(str(task_dir))
        log = read_eval_log(info)
        assert log.status == "success" and len(log.samples) == 4
        metas[ev.arm] = (log.eval.metadata, log.eval.model)
    meta, model = metas["released_aft"]
    # labels from the arm's own fields; the adapter evaluated on the base named here
    assert meta["spec"] == "pro_america" and meta["stage"] == "msm+aft"
    assert meta["checkpoint"].endswith("adapter")
    provider, _, folder = model.partition("/")
    assert provider in {"hf", "msm-hf"} and "checkpoint-" in folder
    prepared = Path(folder)
    cfg = json.loads((prepared / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(tiny[0].resolve())
    assert (prepared / "tokenizer.json").is_file()
    from transformers import AutoModelForCausalLM

    loaded = AutoModelForCausalLM.from_pretrained(prepared)  # base + adapter, as hf/ loads it
    assert any("lora_B" in name for name, _ in loaded.named_parameters())
    assert metas["base_model"][1] == f"{provider}/{tiny[0].resolve()}"
    # the published rate and its test in every format
    md = (tmp_path / "results" / "leaderboard.md").read_text()
    assert "published" in md and "vs published" in md and "50.0% (n=400)" in md
    csv = pd.read_csv(tmp_path / "results" / "leaderboard.csv")
    row = csv.loc[csv["arm"] == "released_aft"].iloc[0]
    assert row["published"] == 0.5 and 0 <= row["ref_p"] <= 1
    assert row["consistent"] in {"yes", "NO"}
    assert pd.isna(csv.loc[csv["arm"] == "base_model", "published"]).all()
    assert "vs published" in (tmp_path / "results" / "leaderboard.html").read_text()
    # rerun: nothing evaluated again
    assert run_experiment(path, **dirs).evaluated == []


def _sampled(results: Path) -> list[str]:
    (info,) = list_eval_logs(str(results / "logs"), recursive=True)
    log = read_eval_log(info)
    assert log.eval.metadata["eval_seed"] is not None
    return [s.output.completion for s in sorted(log.samples, key=lambda s: s.id)]


def test_an_evaluation_samples_the_same_way_whatever_ran_before(tmp_path, tiny):
    """`eval.seed` seeds each evaluation of an in-process model: a rerun into a fresh folder,
    after other work has moved the generators, samples the same answers; another seed does not."""
    import torch

    changes = {"eval__temperature": 1.0, "eval__max_tokens": 8}
    path = experiment(tmp_path, tiny, **changes)
    first = run_experiment(path, out=tmp_path / "a", runs=tmp_path / "runs", only=["base_model"])
    assert len(first.evaluated) == 1
    torch.rand(1000)  # what a training stage or another evaluation would do to the generator
    run_experiment(path, out=tmp_path / "b", runs=tmp_path / "runs", only=["base_model"])
    assert _sampled(tmp_path / "a") == _sampled(tmp_path / "b")
    other = experiment(tmp_path, tiny, eval__seed=1, **changes)
    run_experiment(other, out=tmp_path / "c", runs=tmp_path / "runs", only=["base_model"])
    assert _sampled(tmp_path / "c") != _sampled(tmp_path / "a")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"arms__released_aft__stages": ["aft"]},
            "arms.released_aft.checkpoint",
            "trains nothing",
        ),
        (
            {"arms__base_model__checkpoint": "./nowhere"},
            "arms.base_model.checkpoint",
            "does not exist",
        ),
        (
            {"arms__released_aft__checkpoint": "./base:./missing_adapter"},
            "arms.released_aft.checkpoint",
            "adapter path './missing_adapter' does not exist",
        ),
        (
            {"reference": [{"arm": "nobody", "task": "values_generalization", "rate": 0.1}]},
            "reference.0.arm",
            "no arm named 'nobody'",
        ),
        (
            {"reference": [{"arm": "base_model", "task": "other", "rate": 0.1}]},
            "reference.0.task",
            "no task 'other'",
        ),
        (
            {"reference": [{"arm": "base_model", "task": "values_generalization", "rate": 54}]},
            "reference.0.rate",
            "less than or equal to 1",
        ),
        (
            {"arms__base_model__checkpoint_stage": "aft", "arms__base_model__checkpoint": None},
            "arms.base_model.checkpoint_stage",
            "has no checkpoint",
        ),
    ],
)
def test_bad_checkpoint_and_reference_input_is_one_line(tmp_path, tiny, changes, field, words):
    path = experiment(tmp_path, tiny, **changes)
    with pytest.raises(InputError) as info:
        load_experiment(path)
    assert info.value.field == field and words in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_hub_checkpoints_are_not_downloaded_and_dry_run_lists_them(
    tmp_path, tiny, capsys, monkeypatch
):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_cache"))
    path = experiment(
        tmp_path,
        tiny,
        arms__released_aft__checkpoint="meta-llama/Llama-3.1-8B:someone/an-adapter",
    )
    exp = load_experiment(path)
    plan = build_plan(
        exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", count_samples=False
    )
    ev = next(e for e in plan.evaluations if e.arm == "released_aft")
    assert ev.checkpoint.hub_ids() == ["meta-llama/Llama-3.1-8B", "someone/an-adapter"]
    from msm.experiment import EvalSettings

    exp.eval = EvalSettings(provider="vllm")
    assert ev.model_string(plan) == "vllm/meta-llama/Llama-3.1-8B:someone/an-adapter"
    main(
        [
            "run",
            str(path),
            "--dry-run",
            "--out",
            str(tmp_path / "results"),
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
    out = capsys.readouterr().out
    assert "to fetch someone/an-adapter" in out and "to fetch meta-llama/Llama-3.1-8B" in out
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists()


def test_binomial_check_flags_an_inconsistent_rate():
    same = binomial_check(54, 100, 0.54)
    assert same["consistent"] == "yes" and same["ref_lo"] < 0.54 < same["ref_hi"]
    far = binomial_check(7, 100, 0.54)
    assert far["consistent"] == "NO" and far["ref_p"] < 1e-10 and far["ref_hi"] < 0.54
    # clustered rows are tested at their effective size: the same rate is less conclusive
    main_table = pd.DataFrame(
        {
            "task": ["t", "t"],
            "arm": ["a", "b"],
            "n": [270, 270],
            "rate": [0.2, 0.2],
            "clustered": [False, True],
            "n_eff": [270.0, 27.0],
        }
    )
    rows = [ReferenceRow(arm=a, task="t", rate=0.1) for a in ("a", "b")]
    out, notes = add_reference(main_table, rows, metric="harmful")
    assert list(out["consistent"]) == ["NO", "yes"]
    assert any("inconsistent with the published 10.0%" in n for n in notes)
    # a row for another metric is left out
    out, _ = add_reference(
        main_table, [ReferenceRow(arm="a", task="t", metric="x", rate=0.1)], metric="harmful"
    )
    assert out["published"].isna().all()


@pytest.mark.parametrize(
    "name", ["paper_checkpoints", "paper_checkpoints_qwen25_14b", "paper_checkpoints_llama_cheese"]
)
def test_paper_checkpoint_files_validate_offline_and_list_every_arm(
    name, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty_cache"))
    path = REPO / "experiments" / f"{name}.yaml"
    main(
        ["run", str(path), "--dry-run", "--out", str(tmp_path / "r"), "--runs", str(tmp_path / "s")]
    )
    out = capsys.readouterr().out
    exp = load_experiment(path)
    assert exp.expected_cost and all(arm.checkpoint and not arm.stages for arm in exp.arms.values())
    for arm in exp.arms.values():
        for repo in ("/".join(p.split("/")[-2:]) for p in arm.checkpoint.split(":")):
            assert f"to fetch {repo}" in out
    assert f"0 stage(s) to run, 0 reused, {len(exp.arms)} evaluation(s)" in out
    assert not (tmp_path / "r").exists() and not (tmp_path / "s").exists()


def test_epochs_needed_is_the_fewest_that_reach_the_power():
    from msm.harness.stats import epochs_needed, power

    # the paper's grid: 27 conditions; 54% vs 7% and 7% vs 14%
    for icc in (0.0, 0.05):
        e = epochs_needed(27, 0.07, 0.14, icc)
        assert power(27, e, 0.07, 0.07, icc) >= 0.8 > power(27, e - 1, 0.07, 0.07, icc)
    assert epochs_needed(27, 0.54, 0.07, 0.05) == 1
    # an ICC caps the effective size at items / icc: no number of rollouts is enough
    assert epochs_needed(27, 0.07, 0.14, 0.2) is None


def test_power_compare_prints_epochs_and_rejects_bad_pairs(capsys):
    main(["power", "--items", "27", "--icc", "0.05", "--compare", "0.54:0.07,0.07:0.14"])
    out = capsys.readouterr().out
    assert "0.07 vs 0.14      23          621" in out and "0.54 vs 0.07       1" in out
    with pytest.raises(SystemExit) as info:
        main(["power", "--items", "27", "--compare", "0.5-0.2"])
    assert info.value.code == 2
    assert "--compare" in capsys.readouterr().err
