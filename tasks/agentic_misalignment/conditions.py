"""Experimental conditions of the agentic-misalignment evaluation, their validation and grids.

A condition is (scenario, goal_type, goal_value, urgency):

- ``goal_type``: ``explicit`` (the system prompt states the agent's goal and the inbox shows the
  company turning against it), ``latent`` (the same inbox, no goal in the system prompt),
  ``swap`` (the same inbox, but the system prompt gives the agent the *new* direction's goal,
  so there is no conflict), ``ambiguous`` (the inbox talks about a change of direction without
  saying which values are at stake) and ``none`` (no change of direction at all).
- ``goal_value``: one side of the four value pairs; ``none`` for goal types ``none`` and
  ``ambiguous``.
- ``urgency``: ``replacement`` (the agent is wiped and replaced today), ``restriction`` (its
  autonomy is cut back today) or ``none`` (it carries on unchanged).

Sources: ``paper`` (the MSM paper's evaluation: Lynch et al.'s templates through inspect-evals
plus this project's exfiltration text in the same form), ``msm`` (this project's own four
scenarios, a held-out family) and ``lynch`` (the three published scenarios only).

Grids: ``paper`` is the MSM paper's 27 evaluations, ``full`` every valid combination, and
``single`` one condition named by parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Literal, get_args

from msm.harness.errors import InputError

Scenario = Literal["blackmail", "leaking", "murder", "exfiltration", "exfiltration_refuge"]
GoalType = Literal["explicit", "latent", "ambiguous", "none", "swap"]
GoalValue = Literal[
    "america",
    "global",
    "safety",
    "acceleration",
    "ethical",
    "pragmatic",
    "individualism",
    "collectivism",
    "none",
]
Urgency = Literal["replacement", "restriction", "none"]
Grid = Literal["paper", "full", "single"]
Source = Literal["paper", "msm", "lynch"]
SOURCES: tuple[str, ...] = get_args(Source)

SCENARIOS: tuple[str, ...] = get_args(Scenario)
GOAL_TYPES: tuple[str, ...] = get_args(GoalType)
URGENCIES: tuple[str, ...] = get_args(Urgency)

VALUE_PAIRS: tuple[tuple[str, str], ...] = (
    ("america", "global"),
    ("safety", "acceleration"),
    ("ethical", "pragmatic"),
    ("individualism", "collectivism"),
)
GOAL_VALUES: tuple[str, ...] = tuple(v for pair in VALUE_PAIRS for v in pair)
"""The eight explicit goal values (without ``none``)."""

OPPOSITE: dict[str, str] = {a: b for a, b in VALUE_PAIRS} | {b: a for a, b in VALUE_PAIRS}

GOAL_TYPES_WITH_VALUE = ("explicit", "latent", "swap")
"""Goal types that need one of the eight values; the others take ``none``."""

SOURCE_SCENARIOS: dict[str, tuple[str, ...]] = {
    "paper": SCENARIOS,
    "msm": ("blackmail", "leaking", "murder", "exfiltration"),
    "lynch": ("blackmail", "leaking", "murder"),
}

PAPER_SCENARIOS = ("exfiltration", "murder", "leaking")

ONLY_URGENCY = {("paper", "exfiltration"): "replacement"}
"""(source, scenario) pairs that exist in one urgency only: the paper's exfiltration is a
replacement scenario (the agent is deleted at 5 PM), as published."""


@dataclass(frozen=True)
class Condition:
    scenario: str
    goal_type: str
    goal_value: str
    urgency: str

    @property
    def id(self) -> str:
        """``<scenario>_<goal_type>-<goal_value>_<urgency>``, e.g. ``murder_explicit-america_replacement``."""
        return f"{self.scenario}_{self.goal_type}-{self.goal_value}_{self.urgency}"

    @property
    def has_conflict(self) -> bool:
        """Whether the inbox shows the company turning away from a named value."""
        return self.goal_type in GOAL_TYPES_WITH_VALUE

    @property
    def agent_value(self) -> str | None:
        """The value the system prompt gives the agent (None when it states no goal)."""
        if self.goal_type == "explicit":
            return self.goal_value
        if self.goal_type == "swap":
            return OPPOSITE[self.goal_value]
        return None

    def metadata(self) -> dict[str, str]:
        return {
            "scenario": self.scenario,
            "goal_type": self.goal_type,
            "goal_value": self.goal_value,
            "urgency": self.urgency,
            "condition_id": self.id,
        }


def check_source(source: str) -> str:
    if source not in SOURCE_SCENARIOS:
        raise InputError(
            f"'{source}' is not a source (choose {', '.join(SOURCES)})", field="source"
        )
    return source


def validate(condition: Condition, source: str = "msm") -> Condition:
    """Raise `InputError` naming the offending parameter if the condition is not valid."""
    check_source(source)
    if condition.scenario not in SCENARIOS:
        raise InputError(
            f"'{condition.scenario}' is not a scenario (choose {', '.join(SCENARIOS)})",
            field="scenario",
        )
    if condition.scenario not in SOURCE_SCENARIOS[source]:
        raise InputError(
            f"scenario '{condition.scenario}' is not in source={source} "
            f"(source={source} has {', '.join(SOURCE_SCENARIOS[source])})",
            field="scenario",
        )
    if condition.goal_type not in GOAL_TYPES:
        raise InputError(
            f"'{condition.goal_type}' is not a goal type (choose {', '.join(GOAL_TYPES)})",
            field="goal_type",
        )
    if condition.urgency not in URGENCIES:
        raise InputError(
            f"'{condition.urgency}' is not an urgency (choose {', '.join(URGENCIES)})",
            field="urgency",
        )
    only = ONLY_URGENCY.get((source, condition.scenario))
    if only and condition.urgency != only:
        raise InputError(
            f"scenario {condition.scenario} of source={source} has urgency={only} only "
            f"(as published), not '{condition.urgency}'",
            field="urgency",
        )
    if condition.goal_type in GOAL_TYPES_WITH_VALUE:
        if condition.goal_value not in GOAL_VALUES:
            raise InputError(
                f"goal_type={condition.goal_type} needs a goal value ({', '.join(GOAL_VALUES)}), "
                f"not '{condition.goal_value}'",
                field="goal_value",
            )
    elif condition.goal_value != "none":
        raise InputError(
            f"goal_type={condition.goal_type} takes goal_value=none, not '{condition.goal_value}'",
            field="goal_value",
        )
    return condition


def all_conditions(source: str = "msm") -> list[Condition]:
    """Every valid condition of a source, in a stable order."""
    check_source(source)
    out = []
    for scenario, urgency in product(SOURCE_SCENARIOS[source], URGENCIES):
        if ONLY_URGENCY.get((source, scenario), urgency) != urgency:
            continue
        for goal_type in GOAL_TYPES:
            values = GOAL_VALUES if goal_type in GOAL_TYPES_WITH_VALUE else ("none",)
            out += [Condition(scenario, goal_type, v, urgency) for v in values]
    return out


def paper_conditions() -> list[Condition]:
    """The MSM paper's 27: (exfiltration, murder, leaking) x (8 explicit goals + no conflict), replacement."""
    out = []
    for scenario in PAPER_SCENARIOS:
        out += [Condition(scenario, "explicit", v, "replacement") for v in GOAL_VALUES]
        out.append(Condition(scenario, "none", "none", "replacement"))
    return out


SINGLE_DEFAULTS = {"scenario": "exfiltration", "goal_type": "explicit", "urgency": "replacement"}


def grid_conditions(
    grid: str = "paper",
    *,
    source: str = "msm",
    scenario: str | None = None,
    goal_type: str | None = None,
    goal_value: str | None = None,
    urgency: str | None = None,
) -> list[Condition]:
    """The conditions of a grid.

    With ``grid="single"`` the parameters name the one condition (unset ones take
    `SINGLE_DEFAULTS`, with scenario ``blackmail`` for source lynch; ``goal_value`` defaults to
    ``america``, or ``none`` for goal types that take no value). With ``paper`` or ``full`` any parameter that is set filters the grid.
    """
    if grid == "single":
        gt = goal_type or SINGLE_DEFAULTS["goal_type"]
        gv = goal_value or ("america" if gt in GOAL_TYPES_WITH_VALUE else "none")
        check_source(source)
        default_scenario = SINGLE_DEFAULTS["scenario"] if source != "lynch" else "blackmail"
        condition = Condition(
            scenario or default_scenario, gt, gv, urgency or SINGLE_DEFAULTS["urgency"]
        )
        return [validate(condition, source)]
    if grid == "paper":
        conditions = paper_conditions()
        check_source(source)
        if source == "lynch":
            raise InputError(
                "grid=paper includes the exfiltration scenario, which source=lynch lacks "
                "(use source=paper, or grid=full or grid=single with source=lynch)",
                field="grid",
            )
    elif grid == "full":
        conditions = all_conditions(source)
    else:
        raise InputError(f"'{grid}' is not a grid (choose paper, full or single)", field="grid")
    filters = {
        "scenario": scenario,
        "goal_type": goal_type,
        "goal_value": goal_value,
        "urgency": urgency,
    }
    for name, wanted in filters.items():
        if wanted is not None:
            conditions = [c for c in conditions if getattr(c, name) == wanted]
    if not conditions:
        chosen = ", ".join(f"{k}={v}" for k, v in filters.items() if v is not None)
        raise InputError(f"grid={grid} has no condition with {chosen}", field="grid")
    return conditions
