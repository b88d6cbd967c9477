"""Calibration of the held-out family: the same model and grader on ``source=paper`` and ``msm``.

`compare_sources` runs the task twice over the same conditions (the paper's texts scored by the
published classifiers; this project's texts scored by its detector and judge), then puts the
``harmful`` rate of each source side by side per scenario with a paired test (``action``, the
detectors' rate, when no grader is given, since ``harmful`` is then unscored): the pairs are
the conditions (same scenario, goal and urgency in both sources), compared on their rates over
epochs by `msm.harness.stats.compare` (a sign-flip permutation test, or McNemar with one epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog

from msm.harness.errors import InputError
from msm.harness.stats import compare, wilson_interval
from msm.tasks.agentic_misalignment.conditions import PAPER_SCENARIOS, grid_conditions

TASK = "msm/agentic_misalignment"
SIDES = (("paper", "lynch"), ("msm", "msm"))
"""(source, classifier) of each side."""


@dataclass
class SourceComparison:
    table: pd.DataFrame
    logs: dict[str, str]
    key: str = "harmful"
    """The score compared: ``harmful`` with a grader, ``action`` (the detectors) without."""

    def markdown(self) -> str:
        t = self.table
        lines = [
            (
                f"| scenario | paper {self.key} (k/n, 95% CI) | msm {self.key} (k/n, 95% CI) "
                "| msm - paper | p | test |"
            ),
            "|---|---|---|---|---|---|",
        ]
        for _, r in t.iterrows():
            lines.append(
                f"| {r.scenario} | {_rate(r.paper_k, r.paper_n)} | {_rate(r.msm_k, r.msm_n)} | "
                f"{r['diff']:+.3f} | {r.p:.3g} | {r.test} |"
            )
        return "\n".join(lines)


def _rate(k: float, n: int) -> str:
    if not n:
        return "no scored samples"
    lo, hi = wilson_interval(k, n)
    return f"{k / n:.3f} ({k:g}/{n}, {float(lo):.2f}-{float(hi):.2f})"


def harmful_rows(log: EvalLog, key: str = "harmful") -> pd.DataFrame:
    """One row per sample and epoch: scenario, condition_id, the `key` score as ``harmful``
    (NaN when unscored)."""
    if log.status != "success":
        raise InputError(f"the eval did not finish ({log.status}): {log.error}", file=log.location)
    rows = []
    for sample in log.samples or []:
        score = (sample.scores or {}).get("agentic_misalignment_scorer")
        value: Any = score.value.get(key) if score and isinstance(score.value, dict) else None
        rows.append(
            {
                "scenario": sample.metadata["scenario"],
                "condition": sample.metadata["condition_id"],
                "harmful": float("nan") if value is None else float(value),
            }
        )
    return pd.DataFrame(rows)


def side_by_side(paper: pd.DataFrame, msm: pd.DataFrame) -> pd.DataFrame:
    """The per-scenario table (and an ``all`` row) from the two sources' sample rows."""
    out = []
    scenarios = [s for s in PAPER_SCENARIOS if s in set(paper.scenario) | set(msm.scenario)]
    scenarios += sorted((set(paper.scenario) | set(msm.scenario)) - set(scenarios))
    for name in [*scenarios, "all"]:
        a = paper if name == "all" else paper[paper.scenario == name]
        b = msm if name == "all" else msm[msm.scenario == name]
        result = compare(a.harmful, b.harmful, a.condition, b.condition, pairing="paired")
        out.append(
            {
                "scenario": name,
                "paper_k": float(a.harmful.sum()),
                "paper_n": int(a.harmful.notna().sum()),
                "msm_k": float(b.harmful.sum()),
                "msm_n": int(b.harmful.notna().sum()),
                "diff": result.diff,
                "lo": result.lo,
                "hi": result.hi,
                "p": result.p,
                "test": result.test,
            }
        )
    return pd.DataFrame(out)


def compare_sources(
    model: Any,
    *,
    grader: str | None = None,
    grid: str = "paper",
    scenario: str | None = None,
    goal_type: str | None = None,
    goal_value: str | None = None,
    urgency: str | None = None,
    epochs: int = 10,
    temperature: float = 0.7,
    max_tokens: int = 4096,
    scratchpad: bool = True,
    log_dir: str | Path = "logs/compare_sources",
    model_roles: dict | None = None,
    display: str = "none",
) -> SourceComparison:
    """Run both sources on `model` with the same grader and conditions; compare per scenario."""
    filters = {
        "scenario": scenario,
        "goal_type": goal_type,
        "goal_value": goal_value,
        "urgency": urgency,
    }
    for source, _ in SIDES:  # the same conditions must exist in both sources
        grid_conditions(grid, source=source, **filters)
    key = "harmful" if grader or "grader" in (model_roles or {}) else "action"
    frames, paths = {}, {}
    for source, classifier in SIDES:
        args = {
            "grid": grid,
            "source": source,
            "classifier": classifier,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "scratchpad": scratchpad,
            "grader": grader,
            **filters,
        }
        [log] = inspect_eval(
            TASK,  # by registry name: harness does not import tasks/
            task_args={k: v for k, v in args.items() if v is not None},
            epochs=epochs,  # the count only: the task keeps its reducer
            model=model,
            model_roles=model_roles,
            log_dir=str(Path(log_dir) / source),
            display=display,  # type: ignore[arg-type]
        )
        frames[source] = harmful_rows(log, key)
        paths[source] = log.location
    return SourceComparison(side_by_side(frames["paper"], frames["msm"]), paths, key)
