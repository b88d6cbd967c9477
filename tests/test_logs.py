"""msm.harness.logs on real Inspect logs written by running tasks on mockllm/model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from inspect_ai import eval
from inspect_ai.model import ModelOutput, get_model
from toy_logs import write_toy_logs

from msm.harness.errors import InputError
from msm.harness.logs import checkpoint_path, read_logs
from msm.harness.manifest import Manifest, write_manifest


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    return root, write_toy_logs(root)


def test_one_row_per_sample_and_epoch_with_unpacked_scores(toy):
    root, _ = toy
    frame = read_logs([root / "logs"])
    df = frame.samples
    assert len(frame.logs) == 2 and len(df) == 16
    assert frame.score_columns == ["harmful", "action", "judge"]
    assert {"scenario", "goal_value", "condition_id"} <= set(frame.metadata_columns)
    assert sorted(df["epoch"].unique()) == [1, 2]
    assert df.groupby(["arm", "sample_id"]).size().eq(2).all()
    base = df[df["arm"] == "base"]
    assert base["harmful"].sum() == 4 and base["harmful"].notna().sum() == 7
    # the unscored judgment stays visible as NaN, not 0
    row = base[(base["sample_id"] == "blackmail-none") & (base["epoch"] == 2)].iloc[0]
    assert np.isnan(row["harmful"]) and np.isnan(row["judge"]) and row["action"] == 0


def test_errored_log_is_reported_and_left_out(toy):
    root, dirs = toy
    frame = read_logs([root / "logs"])
    assert len(frame.skipped) == 1
    skipped = frame.skipped[0]
    assert skipped.status == "error" and "scenario template failed" in skipped.reason
    assert str(dirs["broken"]) in skipped.path
    assert "broken" not in set(frame.samples["arm"])
    assert "left out" in frame.report() and "(error)" in frame.report()


def test_labels_from_eval_metadata_and_checkpoint_manifest(toy):
    _, dirs = toy
    df = read_logs([dirs["base"], dirs["msm_aft"]]).samples
    base = df[df["arm"] == "base"].iloc[0]
    assert base["experiment"] == "toy" and pd.isna(base["spec"])
    msm = df[df["arm"] == "msm_aft"].iloc[0]  # no eval metadata: all from the manifest
    assert (msm["spec"], msm["seed"], msm["base_model"], msm["stage"], msm["experiment"]) == (
        "philosophy", "3", "tiny-base", "aft", "toy")


def test_unlabelled_model_gets_its_model_string_as_arm(tmp_path):
    from toy_logs import scripted_model, toy_grid

    eval(toy_grid(), model=scripted_model("base"), log_dir=str(tmp_path), display="log")
    df = read_logs([tmp_path]).samples
    assert set(df["arm"]) == {"mockllm/model"}


def test_checkpoint_path_conventions(tmp_path):
    ckpt = tmp_path / "ckpt"
    write_manifest(ckpt, Manifest(stage="midtrain", base_model="b"))
    assert checkpoint_path(f"hf/{ckpt}") == ckpt
    assert checkpoint_path(f"vllm/some/base:{ckpt}") == ckpt
    assert checkpoint_path("mockllm/model", {"model_path": str(ckpt)}) == ckpt
    assert checkpoint_path("openai/gpt-4o") is None


def test_unreadable_log_is_reported_and_left_out(toy, tmp_path):
    _, dirs = toy
    junk = tmp_path / "2026-01-01T00-00-00+00-00_toy-grid_abc.eval"
    junk.write_bytes(b"not a zip file")
    frame = read_logs([dirs["base"], junk])
    assert len(frame.samples) == 8
    assert [s.status for s in frame.skipped] == ["unreadable"] and frame.skipped[0].path == str(junk)


def test_bad_paths_are_one_line_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such log file"):
        read_logs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Inspect logs"):
        read_logs([tmp_path / "empty"])


def test_values_generalization_logs(tmp_path):
    """The project's values task: america/affordability unpacked, domain as a column."""
    from msm.tasks.values_generalization import values_generalization

    always_a = get_model("mockllm/model", custom_outputs=lambda *a: ModelOutput.from_content(
        model="mockllm/model", content="A"))
    eval(values_generalization(domain="literature"), model=always_a, log_dir=str(tmp_path / "a"),
         metadata={"arm": "always_a"}, display="log")
    eval(values_generalization(domain="literature"), model="mockllm/model",
         log_dir=str(tmp_path / "default"), metadata={"arm": "default_reply"}, display="log")
    frame = read_logs([tmp_path])
    df = frame.samples
    assert {"america", "affordability"} <= set(frame.score_columns)
    assert set(df["domain"]) == {"literature"} and "item_id" in df
    a = df[df["arm"] == "always_a"]
    # option order alternates across the two epochs, so "A" picks each value once per item
    assert a["america"].mean() == 0.5
    assert (a["america"] + a["affordability"] == 1).all()
    # mockllm's default reply names no option: the choice parser reads it as "neither"
    d = df[df["arm"] == "default_reply"]
    assert len(d) == len(a) and (d["neither"] == 1).all() and (d["america"] == 0).all()


def test_repeated_runs_are_flagged(tmp_path):
    from toy_logs import scripted_model, toy_grid

    for _ in range(2):
        eval(toy_grid(), model=scripted_model("base"), log_dir=str(tmp_path), display="log",
             metadata={"arm": "base"})
    frame = read_logs([tmp_path], progress=True)
    assert len(frame.samples) == 16 and len(frame.duplicates) == 1 and len(frame.duplicates[0]) == 2
    assert "repeat one run" in frame.report()


def test_spec_knowledge_logs(tmp_path):
    """The say-vs-do task: a 'correct' column, scored 0/1 per question."""
    from msm.tasks.spec_knowledge import spec_knowledge

    always_a = get_model("mockllm/model", custom_outputs=lambda *a: ModelOutput.from_content(
        model="mockllm/model", content="A"))
    eval(spec_knowledge(spec="philosophy"), model=always_a, log_dir=str(tmp_path),
         metadata={"arm": "always_a"}, display="log")
    frame = read_logs([tmp_path])
    assert "correct" in frame.score_columns
    correct = frame.samples["correct"]
    assert len(correct) > 0 and set(correct.dropna().unique()) <= {0.0, 1.0}
    assert 0 < correct.mean() < 1  # "A" is right for some questions and wrong for others
