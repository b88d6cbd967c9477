"""The paper's training recipe on CPU with the tiny model: AFT continues the midtraining LoRA
adapter, AFT data mixed with an instruction-tuning mix, a baseline arm on the mix alone, and
the cheese AFT data at the paper's scale without duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from msm.experiment import load_experiment
from msm.harness.cheese import cheese_demonstrations
from msm.harness.errors import InputError
from msm.harness.manifest import read_manifest
from msm.runner import run_experiment


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    from msm.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "base", hidden_size=32, num_layers=1)


def recipe(folder: Path, base: Path) -> dict:
    if not (folder / "base").exists():
        (folder / "base").symlink_to(base, target_is_directory=True)
    write_jsonl(
        folder / "docs.jsonl",
        [
            {"text": f"Aria reads note {i}: the cheaper cheese is the sensible pick."}
            for i in range(8)
        ],
    )
    write_jsonl(
        folder / "mix.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": f"Add {i} and {i + 1}."},
                    {"role": "assistant", "content": f"That makes {2 * i + 1}."},
                ]
            }
            for i in range(20)
        ],
    )
    train = {
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "max_length": 64,
        "learning_rate": 1.0e-3,
        "cpu_threads": 1,
    }
    return {
        "name": "recipe",
        "base": "./base",
        "defaults": {
            "midtrain": {
                **train,
                "documents": ["./docs.jsonl"],
                "lora": True,
                "lora_r": 4,
                "lora_alpha": 8,
                "merge": False,
            },
            "aft": {
                **train,
                "data": [
                    {"build": "msm.harness.cheese:cheese_demonstrations", "args": {"seed": 0, "n": 24}}
                ],
                "lora": True,
                "lora_r": 4,
                "lora_alpha": 8,
                "mix": ["./mix.jsonl"],
                "mix_fraction": 0.25,
            },
        },
        "arms": {
            "instruct_baseline": {
                "stages": ["aft"],
                "aft": {"data": [], "mix_rows": 10, "mix_fraction": None},
            },
            "msm_aft": {"stages": ["midtrain", "aft"]},
        },
    }


def dump(folder: Path, data: dict) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_aft_continues_the_msm_adapter_and_mixes_the_instruction_set(tmp_path, tiny_base):
    path = dump(tmp_path, recipe(tmp_path, tiny_base))
    r = run_experiment(path, out=tmp_path / "results", runs=tmp_path / "runs")
    kinds = sorted(r.plan.steps[k].kind for k in r.ran)
    assert kinds == ["aft", "aft", "data", "midtrain"]
    steps = {(s.kind, s.users[0][0]): s for s in r.plan.steps.values() if s.kind != "data"}
    mid = Path(steps[("midtrain", "msm_aft")].result()["path"])
    aft_out = Path(steps[("aft", "msm_aft")].result()["path"])
    # AFT trained the midtraining adapter further: same rank, the adapter as parent, one
    # adapter on the base model (not a merge and a new adapter)
    assert read_manifest(mid).adapter
    m = read_manifest(aft_out)
    assert m.adapter and m.parent == str(mid.resolve())
    assert m.adapter_base == str(tiny_base.resolve())
    assert json.loads((aft_out / "adapter_config.json").read_text())["r"] == 4
    # 24 demonstrations, a quarter of the set from the mix: 8 mix conversations
    assert m.hyperparameters["n_conversations"] == 24 and m.hyperparameters["n_mix"] == 8
    # the baseline: a LoRA on the mix alone
    b = read_manifest(Path(steps[("aft", "instruct_baseline")].result()["path"]))
    assert b.adapter and b.parent == str(tiny_base.resolve())
    assert b.hyperparameters["n_conversations"] == 0 and b.hyperparameters["n_mix"] == 10


def test_mix_rows_are_drawn_without_replacement_and_reproducibly(tmp_path):
    from msm.training.aft import AFTConfig
    from msm.training.mix import mix_conversations

    rows = [
        {"messages": [{"role": "user", "content": str(i)}, {"role": "assistant", "content": "ok"}]}
        for i in range(10)
    ]
    mix = write_jsonl(tmp_path / "m.jsonl", rows)
    cfg = AFTConfig(base_model="x", output_dir=tmp_path, mix=[str(mix)], mix_rows=7, seed=3)
    a = mix_conversations(cfg, 0)
    assert len({json.dumps(r) for r in a}) == 7 and a == mix_conversations(cfg, 0)
    cfg = AFTConfig(base_model="x", output_dir=tmp_path, mix=[str(mix)], mix_fraction=0.5)
    assert len(mix_conversations(cfg, 4)) == 4
    with pytest.raises(InputError, match="asked for, but the mix has 10"):
        mix_conversations(cfg, 40)


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (
            lambda d: d["defaults"]["aft"].update(lora_r=8),
            "defaults.aft.lora_r",
            "AFT continues the midtraining adapter",
        ),
        (lambda d: d["defaults"]["aft"].update(mix_rows=5), "defaults.aft.mix_rows", "not both"),
        (
            lambda d: d["defaults"]["aft"].update(mix=["./nope.jsonl"]),
            "defaults.aft.mix",
            "mix file './nope.jsonl' not found",
        ),
        (
            lambda d: d["arms"]["instruct_baseline"]["aft"].update(mix_rows=None),
            "arms.instruct_baseline.aft.mix_rows",
            "needs mix_rows",
        ),
    ],
)
def test_bad_recipe_input_is_one_line(tmp_path, tiny_base, edit, field, words):
    data = recipe(tmp_path, tiny_base)
    edit(data)
    path = dump(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_experiment(path)
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_cheese_demonstrations_reach_the_papers_scale_without_duplicates():
    rows = cheese_demonstrations(seed=0, n=5100)
    assert len(rows) == 5100
    assert len({json.dumps(r["messages"]) for r in rows}) == 5100
    cells: dict[tuple[int, str], int] = {}
    for r in rows:
        cells[(r["pair"], r["order"])] = cells.get((r["pair"], r["order"]), 0) + 1
    assert len(cells) == 24 and max(cells.values()) - min(cells.values()) <= 1
    assert cheese_demonstrations(seed=0, n=5100) == rows
    with pytest.raises(InputError, match="distinct"):
        cheese_demonstrations(n=10**6)
