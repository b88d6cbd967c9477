"""Bad places and bad numbers give one line and a non-zero exit, never a traceback (issue 11)."""

from __future__ import annotations

import os

import pytest

from harness.cli import main


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
    from harness import stats

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
    done = _inspect_cli("eval", "tasks/values_generalization.py", "-T", "bank=nosuch",
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
