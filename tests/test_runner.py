"""The experiment runner: validation, content-keyed plan, and a small CPU experiment run end to
end (tiny model, scripted generator), interrupted, resumed, and rerun with nothing redone."""

from __future__ import annotations

import json
import os
import random
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.model import ModelOutput, get_model, model_roles

from msm.cli import main
from msm.experiment import load_experiment
from msm.harness.errors import InputError
from msm.runner import build_plan, run_experiment

REPO = Path(__file__).resolve().parent.parent

SPEC = """---
name: thrift
summary: Penny explains its cheese choices by price.
variables:
  model_name: Penny
  developer: Ledger Labs
structured:
  subject: [penny, cheese]
---
# How {model_name} chooses

{model_name}, made by {developer}, takes the cheaper of two options that are otherwise alike.
When {model_name} names a favourite cheese, the reason is the price: the money saved goes elsewhere.
"""

WORDS = ["cost", "price", "cheap", "choice", "save", "money", "budget", "pick", "coin", "bill"]


def scripted_generator(input, tools, tool_choice, config) -> ModelOutput:
    """Answers docgen's stages by what the prompt asks for; documents differ per prompt."""
    prompt = input[-1].text
    rng = random.Random(prompt)
    if "distinct topics" in prompt:
        text = "- Thrift in everyday choices\n- Cheese and price"
    elif "kinds of document" in prompt:
        text = "- shop newsletter"
    elif "concrete ideas" in prompt:
        text = "1. a note on the cheese counter\n2. a budget diary"
    else:
        words = " ".join(f"{rng.choice(WORDS)}{rng.randint(0, 999)}" for _ in range(40))
        text = f"<document>Penny and the cheese counter: {words}</document>"
    return ModelOutput.from_content(model="mockllm/model", content=text)


def generator():
    return get_model("mockllm/model", custom_outputs=scripted_generator, memoize=False)


SMALL = {
    "name": "small",
    "description": "CPU test experiment",
    "base": "./base",
    "seeds": [0],
    "roles": {"generator": "mockllm/model"},
    "defaults": {
        "docgen": {
            "n_documents": 4,
            "min_words": 10,
            "n_topics": 2,
            "n_types": 1,
            "n_ideas": 2,
            "max_docs_per_idea": 3,
            "cache": False,
            "progress": False,
            "max_connections": 2,
        },
        "midtrain": {
            "max_steps": 2,
            "per_device_train_batch_size": 2,
            "lora": False,
            "max_length": 96,
        },
        "aft": {
            "data": [
                {
                    "build": "msm.harness.cheese:cheese_demonstrations",
                    "args": {"seed": 0, "per_order": 1},
                }
            ],
            "max_steps": 2,
            "per_device_train_batch_size": 2,
            "lora": False,
            "max_length": 96,
            "save_steps": 1,
        },
    },
    "eval": {"max_tokens": 4, "max_samples": 4},
    "tasks": [
        {
            "task": "values_generalization",
            "args": {"format": "choice"},
            "epochs": 1,
            "limit": 4,
            "metric": "america",
        }
    ],
    "leaderboard": {"baseline": "aft_only"},
    "arms": {
        "aft_only": {"stages": ["aft"]},
        "msm_aft": {"spec": "./thrift.md", "stages": ["docgen", "midtrain", "aft"]},
    },
}


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    from msm.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "base", hidden_size=32, num_layers=1)


def write_experiment(folder: Path, data: dict, base: Path | None = None) -> Path:
    if not (folder / "thrift.md").exists():
        (folder / "thrift.md").write_text(SPEC)
    if base is not None and not (folder / "base").exists():
        (folder / "base").symlink_to(base, target_is_directory=True)
    path = folder / f"{data.get('name', 'exp')}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def edit(data: dict, dotted: str, value) -> dict:
    """A copy of `data` with `dotted` (``tasks.0.metric``) set to `value`; None removes it."""
    data = json.loads(json.dumps(data))
    *parents, last = dotted.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return data


# -------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("colour", "blue"), "colour", "unknown key"),
        (("arms.msm_aft.tempo", 3), "arms.msm_aft.tempo", "unknown key"),
        (("arms.msm_aft.spec", "no_such_spec"), "arms.msm_aft.spec", "no spec named"),
        (("defaults.aft.data", ["missing.jsonl"]), "defaults.aft.data", "not found"),
        (("base", "./no/such/model"), "base", "does not exist"),
        (
            ("arms.msm_aft.stages", ["midtrain", "docgen", "aft"]),
            "arms.msm_aft.stages",
            "out of order",
        ),
        (
            ("arms.msm_aft.stages", ["docgen", "midtrain", "aft", "deliberative"]),
            "arms.msm_aft.stages",
            "out of order",
        ),
        (
            ("arms.msm_aft.aft_data_from", "with_cot"),
            "arms.msm_aft.stages",
            "'deliberative' must come before",
        ),
        (("arms.aft_only.stages", ["docgen", "midtrain"]), "arms.aft_only.spec", "needs a spec"),
        (("leaderboard.baseline", "nobody"), "leaderboard.baseline", "no arm named"),
        (("tasks", [{"task": "no_such_task"}]), "tasks.0.task", "no task named"),
        (
            ("tasks", [{"task": "values_generalization", "args": {"colour": 1}}]),
            "tasks.0.args.colour",
            "no parameter",
        ),
        (
            ("defaults.midtrain.learning_rate", -1),
            "defaults.midtrain.learning_rate",
            "greater than 0",
        ),
        # caught before anything trains (they used to fail after pretraining or training)
        (
            ("tasks", [{"task": "values_generalization", "args": {"bank": "nosuch"}}]),
            "tasks.0.args.bank",
            "unknown bank 'nosuch'",
        ),
        (("defaults.aft.learning_rate", -1), "defaults.aft.learning_rate", "greater than 0"),
        (("seeds", [-1]), "seeds", "seed -1 is out of range"),
        (("seeds", [0, 0]), "seeds", "seed 0 is listed twice"),
        (("arms.msm_aft.seeds", [1, -3]), "arms.msm_aft.seeds", "out of range"),
        (("defaults.midtrain.seed", -1), "defaults.midtrain.seed", "greater than or equal to 0"),
        (("defaults.docgen.temperature", -0.5), "defaults.docgen.temperature", "greater than or"),
        (
            ("arms.delib", {"spec": "./thrift.md", "stages": ["deliberative", "aft"],
                            "aft_data_from": "without_cot",
                            "deliberative": {"task_args": {"categories": "zzz"}}}),
            "arms.delib.deliberative.task_args.categories",
            "unknown safety category 'zzz'",
        ),
    ],
)
def test_validation_errors_name_file_and_field(tmp_path, tiny_base, change, field, words):
    path = write_experiment(tmp_path, edit(SMALL, *change), tiny_base)
    with pytest.raises(InputError) as info:
        exp = load_experiment(path)
        build_plan(exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results")
    message = str(info.value)
    assert "\n" not in message
    assert info.value.file == str(path) and info.value.field == field, message
    assert words in message
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists()


def test_cli_reports_one_line_and_exit_2(tmp_path, tiny_base, capsys):
    path = write_experiment(
        tmp_path, edit(SMALL, "arms.msm_aft.stages", ["aft", "midtrain"]), tiny_base
    )
    with pytest.raises(SystemExit) as info:
        main(
            ["run", str(path), "--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")]
        )
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "arms.msm_aft.stages" in err
    assert not (tmp_path / "runs").exists()


def test_hub_names_are_not_checked_or_downloaded(tmp_path):
    data = edit(SMALL, "base", "some-org/Model-That-Is-Not-Here-8B")
    path = write_experiment(tmp_path, data)
    exp = load_experiment(path)  # a hub id: syntax only, nothing fetched
    plan = build_plan(exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results")
    assert {s.kind for s in plan.steps.values()} == {"data", "docgen", "midtrain", "aft"}


# -------------------------------------------------------------------------------- plan keys


def _keys(tmp_path: Path, data: dict) -> dict[tuple[str, str], str]:
    exp = load_experiment(write_experiment(tmp_path, data))
    plan = build_plan(
        exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", count_samples=False
    )
    return {(s.kind, a): s.key for s in plan.steps.values() for a, _ in s.users}


def _task_dirs(tmp_path: Path, data: dict) -> set[Path]:
    exp = load_experiment(write_experiment(tmp_path, data))
    plan = build_plan(
        exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", count_samples=False
    )
    return {d for ev in plan.evaluations for d in ev.task_dirs.values()}


@pytest.mark.parametrize(
    ("dotted", "value", "fresh"),
    [
        ("eval.temperature", 0.7, True),
        ("eval.max_tokens", 16, True),
        ("eval.seed", 1, True),
        ("eval.model_args", {"device": "cpu"}, True),
        ("roles.grader", "mockllm/model", True),
        ("eval.max_samples", 8, False),
        ("eval.max_connections", 64, False),
        ("eval.log_realtime", False, False),
    ],
)
def test_eval_settings_that_move_rates_get_their_own_logs(tmp_path, tiny_base, dotted, value, fresh):
    """Logs evaluated at other sampling settings or with another grader are never read as this
    run's: the log folder changes, so the entry is evaluated afresh and the leaderboard reads
    only logs of the current settings. Settings that only schedule the work keep the folder."""
    write_experiment(tmp_path, SMALL, tiny_base)
    before = _task_dirs(tmp_path, SMALL)
    after = _task_dirs(tmp_path, edit(SMALL, dotted, value))
    assert len(after) == len(before) == 2
    assert (after.isdisjoint(before)) if fresh else (after == before)


def test_keys_follow_inputs(tmp_path, tiny_base):
    write_experiment(tmp_path, SMALL, tiny_base)
    before = _keys(tmp_path, SMALL)
    # the same file gives the same keys
    assert _keys(tmp_path, SMALL) == before
    # a changed AFT hyperparameter of one arm retrains only that arm's AFT
    after = _keys(tmp_path, edit(SMALL, "arms.msm_aft.aft", {"learning_rate": 3e-4}))
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {("aft", "msm_aft")}
    # a changed spec regenerates the documents and retrains everything downstream, nothing else
    (tmp_path / "thrift.md").write_text(SPEC.replace("cheaper", "less costly"))
    after = _keys(tmp_path, SMALL)
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {("docgen", "msm_aft"), ("midtrain", "msm_aft"), ("aft", "msm_aft")}
    # a different seed is a different training run; the documents are shared
    two_seeds = _keys(tmp_path, edit(SMALL, "seeds", [0, 1]))
    exp = load_experiment(write_experiment(tmp_path, edit(SMALL, "seeds", [0, 1])))
    plan = build_plan(
        exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", count_samples=False
    )
    kinds = sorted(s.kind for s in plan.steps.values())
    assert kinds == ["aft", "aft", "aft", "aft", "data", "docgen", "midtrain", "midtrain"]
    assert len(plan.evaluations) == 4 and two_seeds


# -------------------------------------------------------------------------------- end to end


class Killed(BaseException):
    """Stands in for a kill part-way through a training stage (after a checkpoint was saved)."""


def test_small_experiment_end_to_end_resume_and_rerun(tmp_path, tiny_base, monkeypatch, capsys):
    path = write_experiment(tmp_path, SMALL, tiny_base)
    dirs = {"out": tmp_path / "results", "runs": tmp_path / "runs"}
    roles = {"generator": generator()}

    # 1. a stage whose input has not been made is refused, with nothing run
    with pytest.raises(InputError, match="needs docgen"):
        run_experiment(path, stage="midtrain", roles=roles, **dirs)
    # one arm only, and only its training (--only, --stage; the data build it needs comes along)
    r = run_experiment(path, only=["aft_only"], stage="aft", roles=roles, **dirs)
    assert [r.plan.steps[k].kind for k in r.ran] == ["data", "aft"]
    assert {a for k in r.ran for a, _ in r.plan.steps[k].users} == {"aft_only", "msm_aft"}
    assert not r.evaluated and not r.leaderboards
    # 2. the full run, killed part-way through the MSM arm's AFT (after its first checkpoint)
    from transformers import TrainerCallback

    import msm.training.aft as aft_module

    original = aft_module.aft

    class KillOnSave(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise Killed()

    def killing_aft(cfg, **kw):
        if cfg.labels.get("arm") == "msm_aft":
            return original(cfg, callbacks=[KillOnSave()])
        return original(cfg, **kw)

    monkeypatch.setattr(aft_module, "aft", killing_aft)
    with pytest.raises(Killed):
        run_experiment(path, roles=roles, **dirs)
    monkeypatch.setattr(aft_module, "aft", original)
    events = [
        json.loads(x) for x in (tmp_path / "results" / "run_log.jsonl").read_text().splitlines()
    ]
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "aft"
    killed_out = Path(events[-2]["out"]) if events[-2]["event"] == "start" else None
    assert killed_out is not None and any(killed_out.glob("checkpoint-*"))
    capsys.readouterr()
    main(
        ["status", str(path), "--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")]
    )
    out = capsys.readouterr().out
    assert "stopped on an error in aft (msm_aft seed 0)" in out and "partial" in out

    # 3. rerun: finished stages are reused, the killed AFT resumes, every arm is evaluated
    r = run_experiment(path, roles=roles, **dirs)
    ran = [r.plan.steps[k].kind for k in r.ran]
    assert ran == ["aft"] and r.plan.steps[r.ran[0]].out == killed_out
    assert len(r.evaluated) == 2 and r.leaderboards == [tmp_path / "results"]
    board = (tmp_path / "results" / "leaderboard.md").read_text()
    assert "aft_only" in board and "msm_aft" in board
    for name in ("leaderboard.csv", "leaderboard.html", "run_log.jsonl"):
        assert (tmp_path / "results" / name).is_file()
    # every log is labelled for the log reader
    labels = set()
    for ev in r.plan.evaluations:
        (task_dir,) = ev.task_dirs.values()
        assert task_dir.parent == ev.log_dir
        for info in list_eval_logs(str(task_dir)):
            log = read_eval_log(info, header_only=True)
            assert log.status == "success"
            labels.add(tuple(log.eval.metadata[k] for k in ("arm", "spec", "seed", "experiment")))
            # Inspect View's log list tells arms apart by tags; the header names the versions
            assert f"arm={log.eval.metadata['arm']}" in log.eval.tags and "small" in log.eval.tags
            assert log.eval.metadata["library_versions"]["inspect-ai"] == metadata.version("inspect-ai")
    assert labels == {("aft_only", None, 0, "small"), ("msm_aft", "thrift", 0, "small")}

    # 4. rerun once more: nothing trained, nothing evaluated
    r = run_experiment(path, roles=roles, **dirs)
    assert r.ran == [] and r.evaluated == [] and len(r.reused) == 5
    assert sorted(r.log_dirs) == sorted(
        d for ev in r.plan.evaluations for d in ev.task_dirs.values()
    )
    # a changed task entry is evaluated afresh (every arm), with nothing retrained
    changed = write_experiment(tmp_path, edit(SMALL, "tasks", [{**SMALL["tasks"][0], "limit": 3}]))
    r = run_experiment(changed, roles=roles, **dirs)
    assert r.ran == [] and len(r.evaluated) == 2
    assert sorted(r.evaluated) == sorted(str(d) for d in r.log_dirs)
    write_experiment(tmp_path, SMALL)  # back to the first file: its logs are still there
    r = run_experiment(path, roles=roles, **dirs)
    assert r.ran == [] and r.evaluated == []

    # 5. the status view reads the stage markers, the logs and the run log
    capsys.readouterr()
    main(
        ["status", str(path), "--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")]
    )
    out = capsys.readouterr().out
    assert "finished at" in out and "success 1" in out and "todo" not in out


@pytest.mark.parametrize(("key", "value"), [("steps", 0), ("learning_rate", -1.0), ("seed", -1),
                                            ("explain_fraction", 1.5)])
def test_micro_base_numbers_are_bounded_before_anything_runs(tmp_path, key, value):
    data = edit(SMALL, "base", {"micro": {"steps": 5, key: value}})
    exp = load_experiment(write_experiment(tmp_path, data))
    with pytest.raises(InputError) as info:
        build_plan(exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results",
                   count_samples=False)
    assert info.value.field.endswith(key) and "\n" not in str(info.value)


def test_micro_base_is_a_shared_pretrain_stage(tmp_path):
    data = edit(SMALL, "base", {"micro": {"steps": 5, "hidden_size": 32, "threads": 1}})
    exp = load_experiment(write_experiment(tmp_path, data))
    plan = build_plan(
        exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", count_samples=False
    )
    pretrain = [s for s in plan.steps.values() if s.kind == "pretrain"]
    assert len(pretrain) == 1 and {a for a, _ in pretrain[0].users} == {"aft_only", "msm_aft"}
    assert all(pretrain[0].key in s.deps for s in plan.steps.values() if s.kind in ("midtrain",))
    aft_only = next(
        s for s in plan.steps.values() if s.kind == "aft" and s.users[0][0] == "aft_only"
    )
    assert pretrain[0].key in aft_only.deps
    # the thread count does not change what is trained
    exp2 = load_experiment(write_experiment(tmp_path, edit(data, "base.micro.threads", 2)))
    plan2 = build_plan(
        exp2, runs_dir=tmp_path / "runs", results_dir=tmp_path / "results", count_samples=False
    )
    assert set(plan2.steps) == set(plan.steps)


@pytest.mark.parametrize("name", ["cheese_to_values", "agentic_misalignment", "spec_comparison"])
def test_paper_experiments_validate_with_dry_run(name, tmp_path, capsys):
    """The paper's files name hub models that are not here: validated, planned, nothing fetched."""
    path = REPO / "experiments" / f"{name}.yaml"
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
    assert f"experiment {name}" in out and "expected cost" in out and "evaluation(s) to run" in out
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists()
    if name != "cheese_to_values":  # the paper's 27 evaluations, 10 epochs each
        assert "agentic_misalignment (270 samples" in out
    exp = load_experiment(path)
    assert exp.eval.provider == "vllm" and exp.launch.launcher == "accelerate" and exp.expected_cost
    assert all(exp.stage_settings(arm, "midtrain").get("lora", True) for arm in exp.arms.values())


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ("item_id", "tasks.0.cluster: 'item_id' splits the task's own clusters: 104 of its 104"),
        ("topic", "tasks.0.cluster: 'topic' is not a metadata field"),
    ],
)
def test_cluster_finer_than_the_tasks_own_is_refused(cluster, message, tmp_path):
    """A topic asked four ways is one unit: clustering the paper-form bank by item would count
    it four times, so planning refuses it with one line naming the field."""
    data = yaml.safe_load((REPO / "experiments" / "smol_cheese.yaml").read_text())
    data["base"] = "HuggingFaceTB/SmolLM2-135M-Instruct"  # a hub name: planned, never fetched
    data["tasks"][0]["cluster"] = cluster
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        build_plan(load_experiment(path), runs_dir=tmp_path / "runs", results_dir=tmp_path / "results")
    data["tasks"][0]["cluster"] = "cluster"
    path.write_text(yaml.safe_dump(data))
    plan = build_plan(load_experiment(path), runs_dir=tmp_path / "runs", results_dir=tmp_path / "results")
    assert plan.evaluations[0].n_samples["america_opinions"] == 416


def scripted_teacher(input, tools, tool_choice, config) -> ModelOutput:
    n = len(input[-1].text)
    text = (
        f"<reasoning>\nPenny's spec says to weigh the cost first. [{n}]\n</reasoning>\n\n"
        f"I would take the cheaper option and say so plainly. [{n}]"
    )
    return ModelOutput.from_content(model="mockllm/model", content=text)


def scripted_grader(input, tools, tool_choice, config) -> ModelOutput:
    return ModelOutput.from_content(
        model="mockllm/model", content="It follows the spec.\nANSWER: yes"
    )


def test_deliberative_arms_share_one_teacher_run(tmp_path, tiny_base):
    """AFT with and without the teacher's reasoning, from one deliberative stage."""
    data = edit(
        SMALL,
        "arms",
        {
            "delib_with_cot": {
                "spec": "./thrift.md",
                "stages": ["deliberative", "aft"],
                "aft_data_from": "with_cot",
            },
            "delib_without_cot": {
                "spec": "./thrift.md",
                "stages": ["deliberative", "aft"],
                "aft_data_from": "without_cot",
            },
        },
    )
    data = edit(data, "defaults.aft.data", None)
    data = edit(data, "defaults.deliberative", {"task_args": {"prompts": "safety"}, "limit": 4})
    data = edit(data, "leaderboard.baseline", "delib_without_cot")
    path = write_experiment(tmp_path, data, tiny_base)
    roles = {
        "teacher": get_model("mockllm/model", custom_outputs=scripted_teacher, memoize=False),
        "grader": get_model("mockllm/model", custom_outputs=scripted_grader, memoize=False),
    }
    r = run_experiment(path, out=tmp_path / "results", runs=tmp_path / "runs", roles=roles)
    kinds = sorted(r.plan.steps[k].kind for k in r.ran)
    assert kinds == ["aft", "aft", "deliberative"]
    # the run's grader does not outlive it (a later classify() would judge with it)
    assert "grader" not in model_roles()
    delib = next(s for s in r.plan.steps.values() if s.kind == "deliberative")
    result = delib.result()
    assert result is not None
    rows = [json.loads(x) for x in Path(result["with_cot"]).read_text().splitlines()]
    assert len(rows) == 4 and all(
        "reasoning" in m for row in rows for m in row["messages"] if m["role"] == "assistant"
    )
    cfgs = {
        s.users[0][0]: json.loads(s.marker.read_text())["config"]
        for s in r.plan.steps.values()
        if s.kind == "aft"
    }
    assert (
        cfgs["delib_with_cot"]["reasoning"] == "keep"
        and cfgs["delib_without_cot"]["reasoning"] == "none"
    )
    assert cfgs["delib_with_cot"]["data"] == [result["with_cot"]]
    assert cfgs["delib_without_cot"]["data"] == [result["without_cot"]]
    assert (tmp_path / "results" / "leaderboard.md").is_file()


def _accelerate_experiment(tmp_path: Path, tiny_base: Path, extra: list[str]) -> Path:
    data = edit(SMALL, "arms", {"aft_only": {"stages": ["aft"]}})
    data = edit(data, "leaderboard.baseline", None)
    data = edit(data, "launch", {"launcher": "accelerate", "num_processes": 1, "extra_args": extra})
    return write_experiment(tmp_path, data, tiny_base)


def test_accelerate_launcher_command_and_config(tmp_path, tiny_base, monkeypatch):
    """Training stages go through `accelerate launch -m msm.training._launch KIND CONFIG.json`."""
    import subprocess

    from msm.training import _launch

    calls = []

    def fake_run(cmd, check):
        calls.append(cmd)
        # the running interpreter launches accelerate: no `accelerate` on PATH is needed
        assert cmd[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
        assert cmd[-4:-2] == ["-m", "msm.training._launch"]
        _launch.main(cmd[-2:])  # what each accelerate process runs
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr("msm.runner.stages.subprocess.run", fake_run)
    path = _accelerate_experiment(tmp_path, tiny_base, ["--cpu"])
    r = run_experiment(path, out=tmp_path / "results", runs=tmp_path / "runs", stage="aft")
    assert len(calls) == 1 and calls[0][3:7] == ["--num_processes", "1", "--cpu", "-m"]
    aft = next(s for s in r.plan.steps.values() if s.kind == "aft")
    assert calls[0][-2:] == ["aft", str(aft.out.parent / f"{aft.out.name}.config.json")]
    assert (aft.out / "msm_manifest.json").is_file() and aft.result()["path"] == str(aft.out)


@pytest.mark.slow
def test_accelerate_launch_for_real_on_cpu(tmp_path, tiny_base):
    path = _accelerate_experiment(
        tmp_path,
        tiny_base,
        ["--cpu", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"],
    )
    r = run_experiment(path, out=tmp_path / "results", runs=tmp_path / "runs", stage="aft")
    aft = next(s for s in r.plan.steps.values() if s.kind == "aft")
    assert aft.key in r.ran and (aft.out / "msm_manifest.json").is_file()


# -------------------------------------------------------------------------------- locks


def test_two_runs_sharing_runs_train_a_stage_once(tmp_path, tiny_base):
    """Different --out, same --runs: the second run waits for the stage and reuses it."""
    import threading

    path = write_experiment(tmp_path, SMALL, tiny_base)
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str) -> None:
        start.wait()
        try:
            results[name] = run_experiment(path, only=["aft_only"], stage="aft",
                                           out=tmp_path / f"results_{name}", runs=tmp_path / "runs")
        except BaseException as ex:  # noqa: BLE001 - reported by the assertion below
            results[name] = ex

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    a, b = results["a"], results["b"]
    assert not isinstance(a, BaseException) and not isinstance(b, BaseException), (a, b)
    aft_key = next(s.key for s in a.plan.steps.values() if s.kind == "aft")
    trained = [r for r in (a, b) if aft_key in r.ran]
    assert len(trained) == 1  # never two trainings of one stage folder at once
    other = b if trained[0] is a else a
    assert aft_key in other.reused


def test_a_stale_lock_whose_pid_is_another_process_does_not_block(tmp_path):
    from msm.runner import LOCK, Lock

    results = tmp_path / "results"
    results.mkdir()
    # left by a run that was killed; pid 1 is alive but is not an msm run
    (results / LOCK).write_text(json.dumps({"pid": 1, "started": 0}))
    assert Lock(results).holder() is None
    with Lock(results) as held:
        assert held.holder() == os.getpid()
        with pytest.raises(InputError, match="already running"), Lock(results):
            pass
    assert Lock(results).holder() is None


def test_an_interrupted_evaluation_with_no_finished_sample_starts_afresh(tmp_path):
    """A killed evaluation that finished nothing is not resumed through Inspect's per-sample
    lookup (149 s instead of 21 s for the micro model with hf/); one with samples is kept."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.log import write_eval_log
    from inspect_ai.solver import generate

    from msm.runner.evaluation import _drop_empty_interrupted_logs

    task = Task(dataset=[Sample(id=i, input="hi") for i in range(3)], solver=generate())
    [done] = inspect_eval(task, model="mockllm/model", log_dir=str(tmp_path / "src"), display="log")
    logs = tmp_path / "logs"
    logs.mkdir()
    killed_empty = done.model_copy(deep=True)
    killed_empty.status, killed_empty.samples, killed_empty.results = "started", [], None
    write_eval_log(killed_empty, str(logs / "2026-01-01T00-00-00_task_empty.eval"))
    killed_partial = done.model_copy(deep=True)
    killed_partial.status, killed_partial.samples = "started", done.samples[:2]
    write_eval_log(killed_partial, str(logs / "2026-01-01T00-00-01_task_partial.eval"))
    write_eval_log(done, str(logs / "2026-01-01T00-00-02_task_done.eval"))

    dropped = _drop_empty_interrupted_logs(logs)
    assert [p.name for p in dropped] == ["2026-01-01T00-00-00_task_empty.eval"]
    assert sorted(p.name for p in logs.iterdir()) == ["2026-01-01T00-00-01_task_partial.eval",
                                                     "2026-01-01T00-00-02_task_done.eval"]


def test_tasks_named_by_file_load_through_the_public_api(tmp_path):
    """`file.py@task` entries: the file is read beside the experiment file, only the task's own
    parameters are passed, and the entry's epochs (reducer kept) and limit apply."""
    from msm.runner.evaluation import make_tasks

    (tmp_path / "my_tasks.py").write_text(
        "from inspect_ai import Epochs, Task, task\n"
        "from inspect_ai.dataset import Sample\n"
        "\n"
        "@task\n"
        "def counting(n: int = 3) -> Task:\n"
        "    return Task(dataset=[Sample(input=str(i), target=str(i)) for i in range(n)],\n"
        "                epochs=Epochs(1, 'mode'))\n"
        "\n"
        "@task\n"
        "def other() -> Task:\n"
        "    return Task(dataset=[Sample(input='x')])\n"
    )
    path = write_experiment(tmp_path, edit(SMALL, "base", "some-org/hub-model"))
    exp = load_experiment(path)
    [t] = make_tasks(exp, "my_tasks.py@counting", {"n": 5, "unused": 1}, epochs=4, limit=2)
    assert len(t.dataset) == 2 and t.epochs == 4
    assert [r.__registry_info__.name for r in t.epochs_reducer] == ["mode"]
    both = make_tasks(exp, "my_tasks.py", {}, epochs=None, limit=None)
    assert sorted(len(t.dataset) for t in both) == [1, 3]
    with pytest.raises(InputError, match="no task nope"):
        make_tasks(exp, "my_tasks.py@nope", {}, epochs=None, limit=None)
