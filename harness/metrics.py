"""Inspect metrics that keep unscored samples out of rates and count them instead.

Scorers in this project return dict values in which an unscored field is ``None`` (a judge
that failed, say). Inspect's stock metrics would coerce ``None`` to 0, i.e. count a failed
judgment as "not harmful"; these metrics drop it from the rate and report how many there were.

With several epochs, `mean_scored` reduces a field to ``None`` when ANY of its epochs is
unscored, and records how many epochs were (``unscored_epochs`` in the reduced score's
metadata). Averaging only the judged epochs would bias the rate whenever the judge fails more
often on one kind of answer (a grader that refuses exactly the harmful transcripts would turn a
sample harmful in 5 of 10 epochs into "never harmful"). So `rate` is over samples whose every
epoch was scored, and `unscored` counts the unscored epochs (sample x epoch pairs).
"""

from __future__ import annotations

import math

from inspect_ai.scorer import Metric, SampleScore, Score, ScoreReducer, metric, score_reducer

from harness.stats import clustered_se


def _scored(scores: list[SampleScore]) -> list[tuple[float, SampleScore]]:
    out = []
    for s in scores:
        v = s.score.value
        if v is None or isinstance(v, (dict, list, str)):
            continue
        out.append((float(v), s))
    return out


@metric
def rate() -> Metric:
    """Mean of the scored values (unscored samples excluded)."""

    def compute(scores: list[SampleScore]) -> float:
        scored = _scored(scores)
        return sum(v for v, _ in scored) / len(scored) if scored else float("nan")

    return compute


@metric
def cluster_stderr(cluster: str) -> Metric:
    """Standard error of `rate`, clustered by the sample-metadata field `cluster`.

    Epochs of the same sample share its metadata, so repeated samples cluster together.
    """

    def compute(scores: list[SampleScore]) -> float:
        scored = _scored(scores)
        if not scored:
            return float("nan")
        clusters = [(s.sample_metadata or {}).get(cluster, s.sample_id) for _, s in scored]
        return clustered_se([v for v, _ in scored], clusters)

    return compute


def _unscored_epochs(s: SampleScore, key: str | None) -> int:
    """How many epochs of this (reduced) sample score were unscored for field `key`."""
    counts = (s.score.metadata or {}).get(UNSCORED_EPOCHS)
    if isinstance(counts, dict):
        if key is None and len(counts) == 1:
            key = next(iter(counts))
        if key in counts:
            return int(counts[key])
    elif isinstance(counts, int) and key is None:
        return counts
    v = s.score.value
    return int(v is None or isinstance(v, (dict, list, str)))


@metric
def unscored(key: str | None = None) -> Metric:
    """How many sample x epoch pairs could not be scored (for score field `key`).

    After `mean_scored` a sample with any unscored epoch is out of `rate`; this counts its
    unscored epochs, read from the reduced score's metadata. Name the field (`key`) when the
    score has more than one.
    """

    def compute(scores: list[SampleScore]) -> float:
        return float(sum(_unscored_epochs(s, key) for s in scores))

    return compute


UNSCORED_EPOCHS = "unscored_epochs"


def _number(v: object) -> float | None:
    """A scored value as a float; None for an unscored one (None, NaN, or not a number)."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)) and not math.isnan(v):
        return float(v)
    return None


def _mean_if_all_scored(vals: list) -> tuple[float | None, int]:
    nums = [_number(v) for v in vals]
    missing = sum(n is None for n in nums)
    if missing or not nums:
        return None, missing
    return sum(nums) / len(nums), 0  # type: ignore[arg-type]


@score_reducer(name="mean_scored")
def mean_scored() -> ScoreReducer:
    """Epoch reducer: per field, the mean over epochs, or ``None`` if any epoch is unscored.

    ``metadata["unscored_epochs"]`` holds, per field, how many epochs were unscored (the
    `unscored` metric sums it) and ``metadata["epochs"]`` how many there were. Dropping only the
    unscored epochs would bias the rate when the judge's failures depend on the answer;
    Inspect's stock `mean` reducer would count them as 0.
    """

    def reduce(scores: list[Score]) -> Score:
        first = scores[0]
        missing: dict[str, int] | int
        if isinstance(first.value, dict):
            keys = list(dict.fromkeys(k for s in scores if isinstance(s.value, dict) for k in s.value))
            value: dict | float | None = {}
            missing = {}
            for key in keys:
                vals = [s.value.get(key) if isinstance(s.value, dict) else None for s in scores]
                value[key], missing[key] = _mean_if_all_scored(vals)  # type: ignore[index]
        else:
            value, missing = _mean_if_all_scored([s.value for s in scores])
        unscored_at = [i + 1 for i, s in enumerate(scores) if _has_unscored(s.value)]
        explanation = first.explanation
        if unscored_at:
            note = f"unscored in epoch(s) {', '.join(map(str, unscored_at))} of {len(scores)}"
            explanation = f"{note}. {explanation}" if explanation else note
        return Score(
            value=value,
            answer=first.answer,
            explanation=explanation,
            metadata={**(first.metadata or {}), "epochs": len(scores), UNSCORED_EPOCHS: missing},
        )

    return reduce


def _has_unscored(value: object) -> bool:
    if isinstance(value, dict):
        return any(_number(v) is None for v in value.values())
    return _number(value) is None


@metric
def grouped_rate(group: str, cluster: str) -> Metric:
    """Per value of the sample-metadata field `group`: `rate` and its `cluster_stderr`.

    Reported as ``<group value>_rate`` and ``<group value>_stderr`` (e.g. ``murder_rate``), so
    one metric carries both (Inspect's `grouped` would need two metrics with clashing names).
    """
    rate_of, se_of = rate(), cluster_stderr(cluster)

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        groups: dict[str, list[SampleScore]] = {}
        for s in scores:
            groups.setdefault(str((s.sample_metadata or {}).get(group)), []).append(s)
        out: dict[str, float] = {}
        for name in sorted(groups):
            out[f"{name}_rate"] = rate_of(groups[name])
            out[f"{name}_stderr"] = se_of(groups[name])
        return out

    return compute
