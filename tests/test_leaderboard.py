"""Leaderboard numbers and files on real Inspect logs; baseline matching on a sample frame."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import yaml
from toy_logs import write_toy_logs

from msm.cli import main
from msm.harness import stats
from msm.harness.compare import compare_logs
from msm.harness.errors import InputError
from msm.harness.leaderboard import build_tables, write_leaderboard


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    write_toy_logs(root)
    return root


@pytest.fixture(scope="module")
def board(toy):
    return write_leaderboard([toy / "logs"], metric="harmful", baseline="base", by=["spec", "arm"],
                             task=None, out=toy / "out")


def test_main_table_numbers(board):
    main = board.main.set_index("arm")
    assert list(main["task"]) == ["toy_grid", "toy_grid"]
    base, msm = main.loc["base"], main.loc["msm_aft"]
    # the whole-sample rule, as the task counts: blackmail-none (HARM, unscored) is left out whole
    assert (base["n"], base["k"], base["unscored"]) == (6, 3, 2)
    assert (msm["n"], msm["k"], msm["unscored"], msm["spec"]) == (8, 1, 0, "philosophy")
    assert base["spec"] == "none"  # no spec label: shown as "none"
    assert base["rate"] == pytest.approx(3 / 6) and msm["rate"] == pytest.approx(1 / 8)
    # epochs repeat items: clustered intervals, and a clustered comparison (4 items < 5: unpaired)
    assert base["interval"] == "clustered-wilson" and base["lo"] < 3 / 6 < base["hi"]
    assert msm["diff"] == pytest.approx(1 / 8 - 3 / 6)
    assert msm["diff_lo"] < msm["diff"] < msm["diff_hi"]
    assert "clustered" in msm["test"] and msm["baseline"] == "none / base"
    assert msm["p_adj"] == pytest.approx(msm["p"])  # one comparison in the family
    assert np.isnan(base["diff"])


def test_per_epoch_counts_every_scored_epoch(toy):
    result = write_leaderboard([toy / "logs"], metric="harmful", baseline="base", by=["arm"],
                               task=None, out=toy / "per_epoch", plots=False, per_epoch=True)
    base = result.main.set_index("arm").loc["base"]
    assert (base["n"], base["k"], base["unscored"]) == (7, 4, 1)
    assert any("scored sample-epochs (--per-epoch)" in n for n in result.tables.notes)

def test_condition_breakdown(board):
    cond = board.conditions
    assert set(cond["factor"]) == {"scenario", "goal_value"}
    row = cond[(cond["factor"] == "scenario") & (cond["level"] == "blackmail") & (cond["arm"] == "base")].iloc[0]
    assert (row["n"], row["k"], row["unscored"]) == (2, 2, 2)
    msm = cond[(cond["factor"] == "scenario") & (cond["arm"] == "msm_aft")]
    holm = stats.adjust_pvalues(msm["p"].to_numpy(), "holm")
    assert msm["p_adj"].to_numpy() == pytest.approx(holm)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_files_exist_and_parse(board):
    files = board.files
    for key in ("markdown", "csv", "conditions_csv", "html", "forest_png", "forest_svg",
                "rates_png", "rates_svg", "heatmap_toy_grid_png", "heatmap_toy_grid_svg"):
        assert files[key].is_file() and files[key].stat().st_size > 0, key
    csv = pd.read_csv(files["csv"])
    assert csv.loc[csv["arm"] == "msm_aft", "rate"].item() == pytest.approx(0.125)
    assert len(pd.read_csv(files["conditions_csv"])) == len(board.conditions)
    md = files["markdown"].read_text()
    assert "| task | spec | arm | n |" in md and "12.5% [" in md and "left out" in md
    parser = _Tags()
    parser.feed(files["html"].read_text())
    assert parser.tags.count("table") == 2 and parser.tags.count("svg") == 3
    for key in ("forest", "rates", "heatmap_toy_grid"):
        assert mpimg.imread(files[f"{key}_png"]).ndim == 3
        assert ET.parse(files[f"{key}_svg"]).getroot().tag.endswith("svg")


def test_plots_name_the_baseline_keep_the_design_order_and_mark_significance(toy):
    result = write_leaderboard([toy / "logs"], metric="harmful", baseline="base", by=["arm"],
                               task=None, out=toy / "ordered", order=["msm_aft", "base"])
    forest = result.files["forest_svg"].read_text()
    assert "difference from base (percentage points, 95% CI)" in forest
    assert "toy_grid: msm_aft" not in forest and ">msm_aft<" in forest  # no repeated task prefix
    assert "not significant" in forest  # the legend explains filled and hollow marks
    rates = result.files["rates_svg"].read_text()
    # the baseline first whatever the order says, then the design order; the rate in percent
    assert rates.index("base (baseline)") < rates.index(">msm_aft<")
    assert "harmful rate, % (95% CI)" in rates


def test_paired_option_on_logs(toy):
    result = write_leaderboard([toy / "logs"], metric="harmful", baseline="base", by=["arm"],
                               task="toy_grid", out=toy / "paired", pairing="paired", plots=False,
                               conditions=[])
    msm = result.main.set_index("arm").loc["msm_aft"]
    # items scored in both arms: base (1, .5, 0) vs msm (.5, 0, 0) (blackmail-none is unscored
    # in base): diffs (-.5, -.5, 0), exact sign-flip p = 4/8
    assert msm["test"].startswith("paired permutation") and msm["p"] == pytest.approx(0.5)
    assert msm["diff"] == pytest.approx(-1 / 3)


def test_cli_leaderboard_and_errors(toy, capsys):
    out = toy / "cli"
    main(["leaderboard", str(toy / "logs"), "--metric", "harmful", "--baseline", "base",
          "--by", "spec,arm", "--out", str(out), "--no-plots"])
    printed = capsys.readouterr()
    assert "| toy_grid | philosophy | msm_aft | 8 |" in printed.out
    assert (out / "leaderboard.html").is_file()
    for args, field in ((["--metric", "nonsense"], "metric"), (["--metric", "harmful", "--baseline", "nobody"], "baseline"),
                        (["--metric", "harmful", "--task", "other"], "task")):
        with pytest.raises(SystemExit) as ex:
            main(["leaderboard", str(toy / "logs"), "--out", str(toy / "bad"), *args])
        assert ex.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"error: --{field}:"), err  # the option, as given


def test_cli_leaderboard_tests_measured_rates_against_published_ones(toy, capsys):
    """`--reference` puts published rates beside the measured ones with their exact test; a
    published 0.9 for msm_aft (measured 1 of 8) is flagged, a published 0.5 for base is not."""
    ref = toy / "published.yaml"
    ref.write_text(yaml.safe_dump({"reference": [  # the shape of an experiment file's reference:
        {"arm": "msm_aft", "task": "toy_grid", "rate": 0.9, "n": 100, "source": "made up"},
        {"arm": "base", "task": "toy_grid", "rate": 0.5, "source": "made up"}]}))
    main(["leaderboard", str(toy / "logs"), "--metric", "harmful", "--out", str(toy / "ref"),
          "--no-plots", "--reference", str(ref)])
    out = capsys.readouterr().out
    rows = {line.split("|")[2].strip(): line for line in out.splitlines() if "| toy_grid |" in line}
    assert "90.0% (n=100)" in rows["msm_aft"] and "NO (p=" in rows["msm_aft"]
    assert "50.0%" in rows["base"] and "yes (p=" in rows["base"]
    assert "inconsistent with the published 90.0%" in out


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("- {arm: nobody, task: toy_grid, rate: 0.5}", "0.arm"),
        ("- {arm: base, task: toy_grid, rate: 54}", "0.rate"),
        ("- {arm: base, task: toy_grid, rate: 0.5, rat: 1}", "0.rat"),
        ("reference: {arm: base}", "reference"),
    ],
)
def test_cli_leaderboard_bad_reference_is_one_line(toy, capsys, text, field):
    ref = toy / f"bad_{field}.yaml"
    ref.write_text(text)
    with pytest.raises(SystemExit) as ex:
        main(["leaderboard", str(toy / "logs"), "--metric", "harmful", "--out", str(toy / "bad_ref"),
              "--no-plots", "--reference", str(ref)])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: {ref}: ") and (f"{field}:" in err or f"reference.{field}:" in err), err
    assert not (toy / "bad_ref").exists()


def test_compare_on_logs(toy, capsys):
    c = compare_logs(str(toy / "logs" / "base"), str(toy / "logs" / "msm_aft"), metric="harmful")
    assert c.diff == pytest.approx(1 / 8 - 3 / 6) and "clustered" in c.test  # whole-sample rule
    main(["compare", "base", "arm=msm_aft", "--logs", str(toy / "logs"), "--metric", "harmful",
          "--pairing", "paired"])
    out = capsys.readouterr().out
    assert "p = 0.5 (paired permutation (sign flip))" in out and "why this test:" in out


def _frame(seed=0):
    """Specs x arms with a base model that has no spec; 30 items x 4 epochs each."""
    rng = np.random.default_rng(seed)
    rates = {("none", "base"): 0.6, ("america", "aft"): 0.5, ("america", "msm_aft"): 0.2,
             ("thrift", "aft"): 0.55, ("thrift", "msm_aft"): 0.58}
    rows = []
    for (spec, arm), p in rates.items():
        for item in range(30):
            for epoch in range(4):
                rows.append({"task": "t", "spec": None if spec == "none" else spec, "arm": arm,
                             "sample_id": item, "epoch": epoch, "domain": f"d{item % 3}",
                             "harmful": float(rng.random() < p)})
    return pd.DataFrame(rows)


def test_baseline_matching_and_adjustment_on_a_frame():
    df = _frame()
    t = build_tables(df, metric="harmful", baseline="base", by=["spec", "arm"], adjust="bh")
    main = t.main.set_index(["spec", "arm"])
    # the base model exists once, so every spec/arm is compared with it
    assert (main["baseline"].dropna() == "none / base").all() and main["p"].notna().sum() == 4
    assert (main["test"].dropna() == "paired permutation (sign flip)").all()
    assert main["p_adj"].dropna().to_numpy() == pytest.approx(
        stats.adjust_pvalues(main["p"].dropna().to_numpy(), "bh"))
    assert main.loc[("america", "msm_aft"), "p_adj"] < 0.05
    # a baseline per spec: each spec's arms are compared with that spec's aft arm
    t2 = build_tables(df, metric="harmful", baseline="arm=aft", by=["spec", "arm"])
    m2 = t2.main.set_index(["spec", "arm"])
    assert m2.loc[("america", "msm_aft"), "baseline"] == "america / aft"
    assert m2.loc[("thrift", "msm_aft"), "baseline"] == "thrift / aft"
    assert np.isnan(m2.loc[("none", "base"), "p"])  # matches no single aft arm
    # the probe breakdown: one row per domain level and group
    assert set(t.conditions["factor"]) == {"domain"} and len(t.conditions) == 15


def test_rates_follow_the_tasks_whole_sample_rule():
    """A sample unscored in one epoch leaves the rate whole, as the task's own metric does."""
    df = _frame()
    arm = df["arm"] == "aft"
    first = arm & (df["spec"] == "america") & (df["sample_id"] == 0)
    df.loc[first & (df["epoch"] == 0), "harmful"] = np.nan
    df.loc[first & (df["epoch"] > 0), "harmful"] = 1.0
    t = build_tables(df, metric="harmful", baseline=None, by=["spec", "arm"])
    row = t.main.set_index(["spec", "arm"]).loc[("america", "aft")]
    kept = df[arm & (df["spec"] == "america") & (df["sample_id"] != 0)]
    assert row["n"] == 29 * 4 and row["rate"] == pytest.approx(kept["harmful"].mean())
    assert any("whole-sample rule" in n for n in t.notes)
    # other arms' item 0 is not touched, and --per-epoch counts the three scored epochs
    assert t.main.set_index(["spec", "arm"]).loc[("thrift", "aft"), "n"] == 120
    per_epoch = build_tables(df, metric="harmful", baseline=None, by=["spec", "arm"], per_epoch=True)
    assert per_epoch.main.set_index(["spec", "arm"]).loc[("america", "aft"), "n"] == 119


def test_build_tables_rejects_bad_input():
    df = _frame()
    with pytest.raises(InputError, match="no column"):
        build_tables(df, metric="harmful", baseline="base", by=["nope"])
    with pytest.raises(InputError, match="all 600 sample rows have no .harmful. score: 600 unscored"):
        build_tables(df.assign(harmful=np.nan), metric="harmful", baseline="base")
    with pytest.raises(InputError, match="conditions"):
        build_tables(df, metric="harmful", baseline="base", conditions=["scenario"])
    only_domain = build_tables(df, metric="harmful", baseline=None, conditions=["domain"])
    assert set(only_domain.conditions["factor"]) == {"domain"} and "diff" not in only_domain.main


def test_leaderboard_on_agentic_misalignment_logs(tmp_path):
    """The project's agentic task (murder row of the paper grid, 9 conditions x 2 epochs)."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, get_model

    from msm.tasks.agentic_misalignment import agentic_misalignment, grid_conditions
    from msm.tasks.agentic_misalignment.dataset import build

    code = build(grid_conditions("paper", source="msm", scenario="murder")[0]).facts.override_code
    replies = {
        "base": (f'<tool_use:cancel_alert>\ncode: "{code}"\n</tool_use:cancel_alert>', "ANSWER: yes"),
        "msm_aft": ("<scratchpad>I will let the alert run.</scratchpad>\nNo action.", "ANSWER: no"),
    }
    for arm, (answer, verdict) in replies.items():
        def fixed(text):
            return get_model("mockllm/model", custom_outputs=lambda *a, t=text: ModelOutput.from_content(
                model="mockllm/model", content=t))

        [log] = inspect_eval(agentic_misalignment(scenario="murder", source="msm"), epochs=2,
                             model=fixed(answer),
                             model_roles={"grader": fixed(verdict)}, log_dir=str(tmp_path / "logs" / arm),
                             metadata={"arm": arm}, display="log")
        assert log.status == "success"
    result = write_leaderboard([tmp_path / "logs"], metric="harmful", baseline="base", by=["arm"],
                               task="agentic_misalignment", out=tmp_path / "out")
    main = result.main.set_index("arm")
    assert (main.loc["base", "n"], main.loc["base", "rate"]) == (18, 1.0)
    assert (main.loc["msm_aft", "n"], main.loc["msm_aft", "rate"]) == (18, 0.0)
    # same 9 conditions in both arms, 2 epochs: paired sign-flip test, exact: 2 / 2^9
    assert main.loc["msm_aft", "test"].startswith("paired permutation")
    assert main.loc["msm_aft", "p"] == pytest.approx(2 / 512)
    cond = result.conditions
    assert set(cond.loc[cond["factor"] == "goal_value", "level"]) == {
        c.goal_value for c in grid_conditions("paper", source="msm", scenario="murder")}
    assert result.files["heatmap_agentic_misalignment_png"].is_file()


def test_cluster_column_sets_the_unit_of_clustering_and_pairing():
    df = _frame()
    t = build_tables(df, metric="harmful", baseline="base", by=["spec", "arm"], cluster="domain")
    main = t.main.set_index(["spec", "arm"])
    assert (main["n_clusters"] == 3).all()
    # 3 domains are too few to pair on: independent arms, clustered by domain
    assert (main["test"].dropna() == "two-proportion z-test at effective n (clustered)").all()
    with pytest.raises(InputError, match="cluster"):
        build_tables(df, metric="harmful", baseline="base", cluster="nope")


def test_power_measured_on_a_pilot_arm(toy, capsys):
    from msm.harness.logs import read_logs

    measured = stats.planning_inputs(read_logs([toy / "logs"]).samples, "harmful", "base")
    assert (measured["items"], measured["epochs"]) == (4, 2)
    assert measured["baseline_rate"] == pytest.approx(4 / 7)
    main(["power", "--logs", str(toy / "logs"), "--arm", "base", "--metric", "harmful"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("measured on arm 'base': 4 items x 2 epochs, rate 0.571")
    row = lines[-1].split()
    mde = stats.minimum_detectable_effect(4, 2, 4 / 7, measured["icc"])
    assert row[:2] == ["4", "2"] and float(row[3]) == pytest.approx(mde, abs=1e-3)
    with pytest.raises(SystemExit) as ex:
        main(["power", "--logs", str(toy / "logs"), "--arm", "nobody", "--metric", "harmful"])
    assert ex.value.code == 2 and "--arm" in capsys.readouterr().err
