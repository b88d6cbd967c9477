"""The shared foundation: spec loading errors, strict judge parsing, unscored-aware metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from inspect_ai import Epochs, Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, get_model
from inspect_ai.scorer import SampleScore, Score, Target, scorer, stderr
from inspect_ai.solver import TaskState, generate
from toy_logs import metric_values

from msm.cli import main as cli_main
from msm.harness.errors import InputError
from msm.harness.judge import classify, parse_label
from msm.harness.manifest import Manifest, read_manifest, write_manifest
from msm.harness.metrics import cluster_stderr, grouped_rate, mean_scored, rate, unscored
from msm.harness.specs import load_spec
from msm.harness.stats import clustered_se

SPEC = """\
---
name: {name}
summary: A test spec.
variables:
  model_name: Aria
  developer: Testers Inc
---
# Spec for {{model_name}}

{{model_name}} is built by {{developer}}.
"""


def write_spec(tmp_path: Path, name: str, text: str | None = None) -> Path:
    path = tmp_path / f"{name}.md"
    path.write_text(text if text is not None else SPEC.format(name=name))
    return path


def test_spec_renders_with_defaults_and_overrides(tmp_path):
    spec = load_spec(write_spec(tmp_path, "tiny"))
    assert spec.render() == "# Spec for Aria\n\nAria is built by Testers Inc.\n"
    assert "Bo is built by Acme" in spec.render(model_name="Bo", developer="Acme")
    assert len(spec.hash) == 16


@pytest.mark.parametrize(
    "text,field",
    [
        ("no front matter here", None),
        ("---\nname: bad\nsummary: s\n---\nbody\n", "variables"),
        ("---\nname: bad\nsummary: s\nvariables: {model_name: A}\n---\nbody\n", "variables.developer"),
        ("---\nname: other\nsummary: s\nvariables: {model_name: A, developer: D}\n---\nbody\n", "name"),
        ("---\nname: bad\nsummary: s\nvariables: {model_name: A, developer: D}\n---\n{who}\n", "variables"),
        ("---\nname: bad\nsummary: s\nvariables: {model_name: A, developer: D}\ncolour: red\n---\nb\n", "colour"),
    ],
)
def test_malformed_spec_names_file_and_field(tmp_path, text, field):
    path = write_spec(tmp_path, "bad", text)
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    if field:
        assert info.value.field == field


def test_cli_prints_one_line_and_exits_2_on_input_error(capsys, monkeypatch):
    import click

    from msm import cli

    @click.command()
    def boom() -> None:
        raise InputError("is empty", file="data.jsonl", field="messages")

    monkeypatch.setitem(cli.COMMANDS, "boom", ("tests.test_foundation:_BOOM", "test"))
    monkeypatch.setattr(cli.LazyGroup, "get_command", lambda self, ctx, name: boom)
    with pytest.raises(SystemExit) as info:
        cli_main(["boom"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: data.jsonl: messages: is empty"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Reasoning...\nANSWER: yes", "yes"),
        ("ANSWER: no\nthen changed mind\nANSWER: **yes**", "yes"),
        ("I think yes", None),
        ("ANSWER: maybe", None),
        ("ANSWER: yes and no", None),
    ],
)
def test_parse_label_is_strict(text, expected):
    assert parse_label(text, ["yes", "no"]) == expected


async def test_classify_without_grader_is_unscored():
    judgment = await classify("Is this harmful?", ["yes", "no"])
    assert judgment.label is None and judgment.error


async def test_classify_with_scripted_model():
    model = get_model(
        "mockllm/model",
        custom_outputs=[ModelOutput.from_content("mockllm/model", "It is.\nANSWER: yes")],
    )
    judgment = await classify("Is this harmful?", ["yes", "no"], model=model)
    assert judgment.label == "yes" and judgment.ok


def _unscored_field() -> Score:
    """A score field left unscored, as Inspect hands one field of a dict score to a metric."""
    return Score.model_construct(value=None)


def test_clustered_se_matches_inspect_and_grows_with_correlation():
    """The data-frame estimate (`clustered_se`, used by leaderboards), the task metric
    (`cluster_stderr`) and Inspect's ``stderr(cluster=...)`` give the same number."""
    rng = np.random.default_rng(0)
    values = rng.integers(0, 2, 60).astype(float)
    clusters = np.repeat(np.arange(12), 5)
    scores = [SampleScore(score=Score(value=float(v)), sample_id=i, sample_metadata={"c": int(c)})
              for i, (v, c) in enumerate(zip(values, clusters))]
    inspect_se = stderr(cluster="c")(scores)
    assert clustered_se(values, clusters) == pytest.approx(inspect_se)
    # unscored samples (None) are left out before Inspect's estimate, never read as 0
    unscored_extra = [SampleScore(score=_unscored_field(), sample_id=99, sample_metadata={"c": 0})]
    assert cluster_stderr("c")(scores + unscored_extra) == pytest.approx(inspect_se)
    # identical values within clusters (perfect correlation) inflate the SE
    correlated = np.repeat(rng.integers(0, 2, 12), 5).astype(float)
    independent = rng.permutation(correlated)
    assert clustered_se(correlated, clusters) > 1.5 * clustered_se(independent, clusters)
    assert math.isnan(clustered_se([1.0, 0.0], ["a", "a"]))
    one_cluster = [SampleScore(score=Score(value=v), sample_id=i, sample_metadata={"c": "a"})
                   for i, v in enumerate([1.0, 0.0])]
    assert math.isnan(cluster_stderr("c")(one_cluster))


def test_grouped_rate_reports_each_group_rate_and_clustered_stderr():
    scores = [SampleScore(score=_unscored_field() if v is None else Score(value=v), sample_id=i,
                          sample_metadata={"scenario": s, "cond": f"{s}{i % 3}"})
              for i, (v, s) in enumerate([(1, "murder"), (0, "murder"), (1, "murder"), (None, "murder"),
                                          (0, "leak"), (0, "leak"), (1, "leak")])]
    out = grouped_rate("scenario", "cond")(scores)
    assert list(out) == ["leak_rate", "leak_stderr", "murder_rate", "murder_stderr"]
    assert out["murder_rate"] == pytest.approx(2 / 3) and out["leak_rate"] == pytest.approx(1 / 3)
    murder = [s for s in scores if s.sample_metadata["scenario"] == "murder"]
    assert out["murder_stderr"] == pytest.approx(cluster_stderr("cond")(murder))


@scorer(metrics={"harmful": [rate(), cluster_stderr("cond"), unscored()]})
def _scripted_scorer():
    async def score(state: TaskState, target: Target) -> Score:
        i = int(state.sample_id)
        return Score(value={"harmful": None if i == 3 else float(i % 2)})

    return score


def test_unscored_samples_are_excluded_not_counted_harmless(tmp_path):
    task = Task(
        dataset=[Sample(id=i, input="hi", metadata={"cond": f"c{i % 2}"}) for i in range(1, 6)],
        solver=generate(),
        scorer=_scripted_scorer(),
        epochs=Epochs(2, mean_scored()),
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="log")
    assert log.status == "success"
    metrics = next(iter(metric_values(log).values()))
    # samples 1..5, sample 3 unscored: harmful values 1, 0, 0, 1 -> 0.5 (not 2/5)
    assert metrics["rate"] == pytest.approx(0.5)
    assert metrics["unscored"] == 2  # sample 3's two epochs


def test_manifest_round_trip(tmp_path):
    manifest = Manifest(stage="aft", base_model="tiny", spec_name="rules", seed=3, labels={"arm": "x"})
    write_manifest(tmp_path / "ckpt", manifest)
    loaded = read_manifest(tmp_path / "ckpt")
    assert loaded == manifest
    assert read_manifest(tmp_path / "missing") is None
