"""The command line follows Inspect's conventions: ``--log-dir`` for logs, tables printed without
``--out``, ``--version``, and misspelt names answered with the valid ones."""

from __future__ import annotations

from importlib import metadata

import pytest
from toy_logs import write_toy_logs

from msm.cli import main


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    write_toy_logs(root)
    return root / "logs"


def _fails(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as ex:
        main(argv)
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: "), err  # one line, after the report of the logs read
    return err[-1]


def test_version_names_the_libraries_that_move_rates(capsys):
    main(["--version"])  # returns: exit status 0
    out = capsys.readouterr().out
    assert out.startswith(f"msm {metadata.version('msm')} (")
    assert f"inspect-ai {metadata.version('inspect-ai')}" in out and "transformers " in out


def test_a_misspelt_command_gets_a_suggestion(capsys):
    assert "did you mean 'leaderboard'?" in _fails(capsys, ["leaderbord"])
    assert "(one of: agentic, audit, compare" in _fails(capsys, ["xyzzy"])


def test_leaderboard_prints_without_out_and_writes_nothing(logs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["leaderboard", "--log-dir", str(logs), "--metric", "harmful", "--baseline", "base"])
    printed = capsys.readouterr()
    assert "## Leaderboard: harmful" in printed.out and "| toy_grid |" in printed.out
    assert "printed only" in printed.err
    assert list(tmp_path.iterdir()) == []


def test_misspelt_metric_and_column_get_the_closest_valid_name(logs, capsys):
    line = _fails(capsys, ["leaderboard", "--log-dir", str(logs), "--metric", "harmfull"])
    assert line.startswith("error: --metric:") and "did you mean 'harmful'?" in line
    line = _fails(capsys, ["leaderboard", "--log-dir", str(logs), "--metric", "harmful", "--by", "spce"])
    assert line.startswith("error: --by:") and "did you mean 'spec'?" in line
    line = _fails(capsys, ["compare", "base", "msm_aft", "--log-dir", str(logs), "--metric", "harmfull"])
    assert "did you mean 'harmful'?" in line


def test_compare_reads_arms_from_log_dir_and_says_so_without_it(logs, capsys):
    main(["compare", "base", "msm_aft", "--log-dir", str(logs), "--metric", "harmful"])
    assert "B - A:" in capsys.readouterr().out
    line = _fails(capsys, ["compare", "base", "msm_aft", "--metric", "harmful"])
    assert line.startswith("error: --log-dir:") and "give --log-dir to select arms by name" in line


def test_run_status_and_demo_agree_on_the_demo_folder(tmp_path, monkeypatch):
    """`msm run` and `msm status` on the demo's file look where `msm demo` writes (runs/demo,
    ignored by git), not into the committed reference in results/micro_cheese."""
    from pathlib import Path

    from msm.demo import DEFAULT_OUT, EXPERIMENT
    from msm.experiment import load_experiment
    from msm.runner import build_plan

    monkeypatch.chdir(tmp_path)
    plan = build_plan(load_experiment(EXPERIMENT), count_samples=False)
    assert plan.results_dir == (tmp_path / DEFAULT_OUT).resolve() == (tmp_path / "runs" / "demo").resolve()
    assert not Path(tmp_path / "results").exists()


def test_train_help_lists_the_config_fields(capsys):
    from msm.training.aft import AFTConfig

    main(["train", "aft", "--help"])
    out = capsys.readouterr().out
    assert "Config fields" in out
    for name in AFTConfig.model_fields:  # every field, as the file's keys are spelt on the line
        assert f"--{name.replace('_', '-')} " in out, name
    assert "--learning-rate float" in out and "default 0.0001" in out
    assert "trl.SFTConfig" in out


def test_a_misspelt_config_key_gets_the_closest_field(tmp_path):
    from msm.harness.errors import InputError
    from msm.training.aft import AFTConfig
    from msm.training.config import load_config

    config = tmp_path / "aft.yaml"
    config.write_text("base_model: x\noutput_dir: y\nlerning_rate: 0.1\n")
    with pytest.raises(InputError, match=r"aft.yaml: lerning_rate: unknown key; did you mean 'learning_rate'\?"):
        load_config(AFTConfig, config)


def test_judges_are_given_as_inspect_model_roles(capsys):
    from msm.commands import role_model

    assert role_model(("grader=openai/gpt-4.1-mini",), "grader") == "openai/gpt-4.1-mini"
    assert role_model((), "grader", "earlier/option") == "earlier/option"  # --grader, --judge still work
    line = _fails(capsys, ["audit", "contamination", "--model-role", "judge=openai/gpt-4.1-mini"])
    assert line == "error: --model-role: expected grader=MODEL, got 'judge=openai/gpt-4.1-mini'"
    line = _fails(capsys, ["agentic", "compare-sources", "--model", "mockllm/model", "--model-role", "x"])
    assert line == "error: --model-role: expected grader=MODEL, got 'x'"
