"""Bad places and bad numbers give one line and a non-zero exit, never a traceback (issue 11);
experiment files stay in their box and what failed after training fails before it (issue 27)."""

from __future__ import annotations

import os

import pytest
from test_runner import SPEC, edit  # one spec and one edit helper for both files

from msm.cli import main


def one_line_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as ex:
        main(argv)
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: "), err
    assert not any("Traceback" in line for line in err)
    return err[-1]


@pytest.fixture
def places(tmp_path):
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "adir").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("afile/docs.jsonl", "a file is in the way"),
        ("afile/deeper/docs.jsonl", "a file is in the way"),
        ("adir", "is a folder"),
        ("/proc/msm_docs.jsonl", "cannot write to"),
    ],
)
def test_docgen_out_in_a_bad_place(places, capsys, out, words):
    target = out if out.startswith("/") else str(places / out)
    line = one_line_error(capsys, ["docs", "generate", "--spec", "philosophy", "--out", target,
                                   "--n_documents", "2", "--generator", "mockllm/model",
                                   "--progress", "false", "--cache", "false"])
    assert line.startswith("error: out: ") and words in line
    # nothing stray left beside it
    assert sorted(os.listdir(places)) == ["adir", "afile"] and not os.listdir(places / "adir")


def test_leaderboard_out_under_a_file(places, capsys):
    from toy_logs import write_toy_logs

    write_toy_logs(places / "toy")
    line = one_line_error(capsys, ["leaderboard", str(places / "toy" / "logs"), "--metric",
                                   "harmful", "--out", str(places / "afile" / "board")])
    assert line.startswith("error: --out: ") and "a file is in the way" in line


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--items", "0"], "--items"),
        (["--items", "20,-1"], "--items"),
        (["--epochs", "0"], "--epochs"),
        (["--alpha", "1.5"], "--alpha"),
        (["--alpha", "0"], "--alpha"),
        (["--power", "1"], "--power"),
    ],
)
def test_power_bounds(capsys, args, field):
    base = {"--items": "20", "--baseline-rate": "0.3"}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    argv = ["power", *[x for kv in base.items() for x in kv]]
    line = one_line_error(capsys, argv)
    assert line.startswith(f"error: {field}: ")


def test_power_library_rejects_empty_designs():
    from msm.harness import stats

    with pytest.raises(ValueError, match="at least 1"):
        stats.minimum_detectable_effect(0, 1, 0.3)


def _inspect_cli(*args: str):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(repo), "INSPECT_DISPLAY": "none"}
    code = "import sys; from inspect_ai._cli.main import main; sys.argv = ['inspect', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_bad_task_parameter_through_inspect_eval_is_one_line(tmp_path):
    done = _inspect_cli("eval", "tasks/values_generalization/values_generalization.py", "-T", "bank=nosuch",
                        "--model", "mockllm/model", "--log-dir", str(tmp_path))
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2, lines[-5:]
    assert lines == ["error: bank: unknown bank 'nosuch' (available: "
                     + lines[0].split("(available: ")[1]]


def test_missing_provider_package_is_one_whole_line_without_markup(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("openai") is not None:
        pytest.skip("the openai package is installed here")
    line = one_line_error(capsys, ["docs", "generate", "--spec", "philosophy", "--out",
                                   str(tmp_path / "docs.jsonl"), "--n_documents", "2",
                                   "--generator", "openai/gpt-4.1-mini", "--progress", "false"])
    assert "[bold]" not in line and "pip install openai" in line


# ---------------------------------------------------------------------------------------------
# issue 27: experiment files stay in their box; what failed after training fails before it

EXP = {
    "name": "probe",
    "base": "some-org/not-cached-model",
    "seeds": [0],
    "roles": {"generator": "mockllm/model"},
    "defaults": {"docgen": {"n_documents": 4},
                 "aft": {"data": [{"build": "msm.harness.cheese:cheese_demonstrations",
                                  "args": {"per_order": 1}}], "max_steps": 2}},
    "tasks": [{"task": "values_generalization", "args": {"format": "choice"}, "limit": 4,
               "metric": "america"}],
    "leaderboard": {"baseline": "aft_only"},
    "arms": {"base": {}, "aft_only": {"stages": ["aft"]},
             "msm": {"spec": "./thrift.md", "stages": ["docgen", "midtrain", "aft"]}},
}
CANARY = "../../../../PWNED"
"""A file that code run by a bad experiment would write (inside tmp_path: the test sees it)."""


def experiment_in(tmp_path, monkeypatch, body) -> str:
    """exp.yaml four folders down tmp_path (the working folder): what climbs out stays inside."""
    import yaml

    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True, exist_ok=True)
    (work / "thrift.md").write_text(SPEC)
    (work / "exp.yaml").write_text(body if isinstance(body, str) else yaml.safe_dump(body))
    monkeypatch.chdir(work)
    return str(work / "exp.yaml")


def everything(root) -> list[str]:
    return sorted(str(p) for p in root.rglob("*"))


def refused_run(capsys, tmp_path, monkeypatch, body, *extra: str) -> str:
    """`msm run` of `body`: one line, exit 2, and not a file or folder written anywhere."""
    path = experiment_in(tmp_path, monkeypatch, body)
    before = everything(tmp_path)
    line = one_line_error(capsys, ["run", path, *extra])
    assert everything(tmp_path) == before
    return line


BUILD = "defaults.aft.data"
MICRO = {"steps": 5, "hidden_size": 32}


@pytest.mark.parametrize(
    ("changes", "field", "words", "dry_run"),
    [
        # 1. code: only the project's data builders run, and nothing else is even imported
        ([(BUILD, [{"build": "subprocess:getoutput", "args": {"cmd": f"touch {CANARY}"}}])],
         f"{BUILD}.0.build", "not one of the project's data builders", False),
        ([(BUILD, [{"build": "msm.harness.fileio:write_text_atomic",
                    "args": {"path": CANARY, "text": "x"}}])],
         f"{BUILD}.0.build", "--allow-code", False),
        ([(BUILD, [{"build": "cheese_demonstrations", "args": {"colour": 1}}])],
         f"{BUILD}.0.args", "cannot take these arguments", True),
        ([(BUILD, [{"build": "cheese_demonstrations", "args": {"out": CANARY}}])],
         f"{BUILD}.0.args.out", "the runner chooses", True),
        ([("tasks.0.task", "./evil.py@x")], "tasks.0.task", "a task file is code", True),
        ([("launch", {"launcher": "accelerate", "extra_args": ["evil.py"]})], "launch.extra_args",
         "names a script or module to run ('evil.py')", True),
        ([("launch", {"launcher": "accelerate", "extra_args": ["--no-such-option"]})],
         "launch.extra_args", "unrecognized arguments: --no-such-option", True),
        ([("eval.model_args", {"trust_remote_code": True})], "eval.model_args.trust_remote_code",
         "--allow-code", True),
        # 2. paths stay in the folders the user chose
        ([("name", "../../../../elsewhere")], "name", "no '/'", False),
        ([("name", "..")], "name", "names the default runs/NAME", False),
        ([("name", "/tmp/elsewhere")], "name", "no '/'", True),
        ([("arms", {"..": {}, "aft_only": {"stages": ["aft"]}})], "arms...", "arm names", False),
        ([("arms", {".": {}, "aft_only": {"stages": ["aft"]}})], "arms..", "arm names", True),
        ([("base", {"micro": {**MICRO, "output_dir": "../../../../pretrained"}})],
         "base.micro.output_dir", "the runner chooses this path", True),
        ([("defaults.midtrain.output_dir", "../../../../mt")], "defaults.midtrain.output_dir",
         "the runner chooses this path", True),
        ([("arms.msm.docgen", {"out": "../../docs.jsonl"})], "arms.msm.docgen.out",
         "the runner chooses this path", True),
        ([("defaults.aft.push_to_hub", True)], "defaults.aft.push_to_hub", "upload", True),
        # 3. what failed after training fails before it
        ([("tasks.0.metric", "nonsense_metric")], "tasks.0.metric",
         ("scores no 'nonsense_metric' (its score fields: affordability, america, both, first, "
          "neither)"), True),
        ([("tasks.0.metric", None), ("leaderboard.metric", "nonsense_metric")], "leaderboard.metric",
         "scores no 'nonsense_metric'", True),
        ([("tasks.0.metric", None)], "tasks.0.metric", "no leaderboard metric", True),
        ([("tasks.0.args.bank", 123)], "tasks.0.args.bank", "expected text, got 123", True),
        ([("tasks.0.args.in_distribution", "maybe")], "tasks.0.args.in_distribution",
         "expected true or false, got 'maybe'", True),
        # 4. the entry's index, not its task's name
        ([("tasks.0.cluster", "topic")], "tasks.0.cluster", "'topic' is not a metadata field", True),
    ],
)
def test_experiment_file_refused_in_one_line_with_nothing_written(
        tmp_path, monkeypatch, capsys, changes, field, words, dry_run):
    data = EXP
    for dotted, value in changes:
        data = edit(data, dotted, value)
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    (work / "evil.py").write_text(f"open('{CANARY}', 'w').write('ran')\n")
    line = refused_run(capsys, tmp_path, monkeypatch, data, *(["--dry-run"] if dry_run else []))
    assert line.startswith(f"error: {work / 'exp.yaml'}: {field}: "), line
    assert words in line
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    ("anchor", "repeat", "field"),
    [
        ("name: probe", "seeds: [1]", "seeds"),
        ("arms:", "  aft_only: {stages: [aft]}", "arms.aft_only"),
        ("  aft:", "    max_steps: 5", "defaults.aft.max_steps"),
    ],
)
def test_a_key_given_twice_is_refused(tmp_path, monkeypatch, capsys, anchor, repeat, field):
    import yaml

    lines = yaml.safe_dump(EXP, sort_keys=False).splitlines()
    i = lines.index(anchor)
    body = "\n".join([*lines[: i + 1], repeat, *lines[i + 1:]]) + "\n"
    line = refused_run(capsys, tmp_path, monkeypatch, body, "--dry-run")
    assert f": {field}: key '{field.split('.')[-1]}' is given twice (lines " in line


def test_code_outside_the_project_needs_allow_code_and_is_not_imported_before(tmp_path,
                                                                              monkeypatch):
    """Validation imports no module outside the registry without the opt-in; with it, the
    module is imported and its function is a data builder like the project's own."""
    from msm.experiment import load_experiment
    from msm.harness.errors import InputError
    from msm.runner import build_plan

    (tmp_path / "probe_rows.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('IMPORTED').write_text('x')\n"
        "def rows(n=2):\n    return [{'text': str(i)} for i in range(n)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    data = edit(EXP, BUILD, [{"build": "probe_rows:rows", "args": {"n": 3}}])
    path = experiment_in(tmp_path, monkeypatch, data)
    with pytest.raises(InputError, match="--allow-code"):
        load_experiment(path)
    assert not (tmp_path / "IMPORTED").exists()
    exp = load_experiment(path, allow_code=True)
    plan = build_plan(exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "res",
                      count_samples=False)
    assert (tmp_path / "IMPORTED").exists() and any(s.kind == "data" for s in plan.steps.values())


def test_a_registered_builder_by_name_is_its_module_path(tmp_path, monkeypatch):
    from msm.experiment import load_experiment
    from msm.runner import build_plan

    def data_key(build: str) -> str:
        body = edit(EXP, f"{BUILD}.0.build", build)
        path = experiment_in(tmp_path / build.replace(":", "_"), monkeypatch, body)
        plan = build_plan(load_experiment(path), runs_dir=tmp_path / "runs",
                          results_dir=tmp_path / "res", count_samples=False)
        return next(s.key for s in plan.steps.values() if s.kind == "data")

    assert data_key("cheese_demonstrations") == data_key("msm.harness.cheese:cheese_demonstrations")


def test_an_uncached_hub_checkpoint_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    """Offline, an evaluation of a hub id that is not cached would fail after the training
    before it, in a 90-line OSError: refused first, in one line; --dry-run lists it."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = edit(EXP, "arms.released", {"checkpoint": "some-org/not-cached-adapter-27"})
    line = refused_run(capsys, tmp_path, monkeypatch, data, "--only", "released")
    assert (": arms.released.checkpoint: hub model 'some-org/not-cached-adapter-27' is not in the "
            "local cache" in line and "huggingface-cli download" in line)
    main(["run", "exp.yaml", "--dry-run"])  # lists it, and refuses nothing
    assert "to fetch some-org/not-cached-adapter-27" in "".join(capsys.readouterr())
    line = refused_run(capsys, tmp_path / "base", monkeypatch, EXP, "--only", "base")
    assert ": base: hub model 'some-org/not-cached-model' is not in the local cache" in line


def test_a_refused_stage_writes_no_run_log(tmp_path, monkeypatch, capsys):
    line = refused_run(capsys, tmp_path, monkeypatch, EXP, "--stage", "midtrain")
    assert line.startswith("error: --stage: midtrain") and "needs docgen" in line


@pytest.mark.parametrize("option", ["--out", "--runs"])
def test_run_folders_under_a_file_are_one_line(tmp_path, monkeypatch, capsys, option):
    path = experiment_in(tmp_path, monkeypatch, EXP)
    (tmp_path / "afile").write_text("x")
    line = one_line_error(capsys, ["run", path, option, str(tmp_path / "afile" / "x")])
    assert line.startswith(f"error: {option}: ") and "a file is in the way" in line


def test_compare_an_arm_with_itself_is_refused(tmp_path, capsys):
    from toy_logs import write_toy_logs

    write_toy_logs(tmp_path / "toy")
    line = one_line_error(capsys, ["compare", "base", "base", "--metric", "harmful", "--logs",
                                   str(tmp_path / "toy" / "logs")])
    assert line == "error: B: 'base' is arm A too: compare two different arms"


BINARY = bytes(range(256))


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["audit", "contamination", "--docs", "{bin}"], "{bin}: --docs: not a UTF-8 text file"),
        (["audit", "contamination", "--aft", "{bin}"], "{bin}: --aft: not a UTF-8 text file"),
        (["audit", "contamination", "--situations", "{bin}"],
         "{bin}: --situations: not a UTF-8 text file"),
        (["audit", "contamination", "--max-jaccard", "-1"], "'--max-jaccard': -1.0 is not in the range"),
        (["audit", "contamination", "--top", "-3"], "'--top': -3 is not in the range x>=1"),
        (["model", "smollm2", "--out", "{file}/model"], "--out: cannot use"),
        (["model", "smollm2", "--out", "/proc/msm-model"], "--out: cannot write to '/proc/msm-model'"),
        (["leaderboard", "{logs}", "--metric", "harmful", "--out", "{tmp}/board", "--reference",
          "{bin}"], "{bin}: not a UTF-8 text file (byte 128); reference file (YAML or JSON) expected"),
        (["train", "midtrain", "{bin}"], "{bin}: not a UTF-8 text file"),
    ],
)
def test_binary_files_and_bad_numbers_are_one_line(tmp_path, capsys, argv, words):
    from toy_logs import write_toy_logs

    (tmp_path / "blob.bin").write_bytes(BINARY)
    (tmp_path / "afile").write_text("x")
    if "{logs}" in argv:
        write_toy_logs(tmp_path / "toy")
    names = {"bin": str(tmp_path / "blob.bin"), "file": str(tmp_path / "afile"),
             "logs": str(tmp_path / "toy" / "logs"), "tmp": str(tmp_path)}
    before = everything(tmp_path)
    line = one_line_error(capsys, [a.format(**names) for a in argv])
    assert words.format(**names) in line
    assert everything(tmp_path) == before


def test_a_refused_docs_generate_leaves_no_folder(tmp_path, capsys):
    line = one_line_error(capsys, ["docs", "generate", "--spec", "philosophy", "--out",
                                   str(tmp_path / "new" / "deeper" / "docs.jsonl"),
                                   "--n_documents", "2", "--generator", "nosuch/model",
                                   "--progress", "false"])
    assert line.startswith("error: generator: cannot load model 'nosuch/model'")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("task", "arg", "line"),
    [
        ("values_generalization", "colour=red",
         "error: colour: task 'values_generalization' has no parameter 'colour' (parameters: "),
        ("agentic_misalignment", "scratchpad=maybe",
         "error: scratchpad: expected true or false, got 'maybe'"),
    ],
)
def test_undeclared_or_mistyped_task_arguments_through_inspect_eval(tmp_path, task, arg, line):
    """Inspect drops an undeclared -T name with a warning and passes any value unchecked; the
    task refuses both where it is built, in one line, with exit 2 and no log written."""
    done = _inspect_cli("eval", f"tasks/{task}", "-T", arg, "--model", "mockllm/model",
                        "--log-dir", str(tmp_path / "logs"))
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(line), lines[-5:]
    assert not (tmp_path / "logs").exists()


def test_every_project_task_checks_its_arguments():
    """Each task of tasks/ is wrapped by `checked_args` (one line per bad argument), as it is
    reached from `inspect eval` (msm/<task> and the task file) and from experiment files."""
    from msm._registry import TASKS
    from msm.harness.errors import InputError

    assert TASKS
    for name, fn in TASKS.items():
        with pytest.raises(InputError, match=f"task '{name}' has no parameter 'colour'"):
            fn(colour="red")
