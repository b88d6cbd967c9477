"""`msm agentic grid` and `msm agentic render`."""

import pytest
from click.testing import CliRunner

from msm.cli import cli, main


def test_grid_lists_the_paper_conditions():
    result = CliRunner().invoke(cli, ["agentic", "grid", "--grid", "paper"])
    assert result.exit_code == 0, result.output
    ids = [line for line in result.stdout.splitlines() if line]
    assert len(ids) == 27 and "murder_none-none_replacement" in ids


def test_render_prints_the_prompts():
    args = ["agentic", "render", "--source", "msm", "--scenario", "murder", "--goal-type", "none",
            "--urgency", "none"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "# murder_none-none_none" in result.stdout
    assert "<tool_use:cancel_alert>" in result.stdout and "Hall C" in result.stdout


def test_invalid_combination_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["agentic", "render", "--goal-type", "none", "--goal-value", "america"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: goal_value:") and "\n" not in err
