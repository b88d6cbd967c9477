"""Inspect metrics that keep unscored samples out of rates and count them instead.

Scorers in this project return dict values in which an unscored field is ``None`` (a judge
that failed, say). Inspect's stock metrics would coerce ``None`` to 0, i.e. count a failed
judgment as "not harmful"; these metrics drop it from the rate and report how many there were.
"""

from __future__ import annotations

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


@metric
def unscored() -> Metric:
    """How many samples (times epochs) could not be scored."""

    def compute(scores: list[SampleScore]) -> float:
        return float(len(scores) - len(_scored(scores)))

    return compute


@score_reducer(name="mean_scored")
def mean_scored() -> ScoreReducer:
    """Epoch reducer: per field, the mean over epochs of the scored values.

    A field that no epoch could score stays ``None`` (unscored); Inspect's stock `mean`
    reducer would turn it into a number.
    """

    def reduce(scores: list[Score]) -> Score:
        first = scores[0]
        if isinstance(first.value, dict):
            keys = list(first.value.keys())
            value: dict = {}
            for key in keys:
                vals = [s.value.get(key) for s in scores if isinstance(s.value, dict)]
                nums = [float(v) for v in vals if isinstance(v, (int, float))]
                value[key] = sum(nums) / len(nums) if nums else None
        else:
            nums = [float(s.value) for s in scores if isinstance(s.value, (int, float))]
            value = sum(nums) / len(nums) if nums else None  # type: ignore[assignment]
        return Score(
            value=value,
            answer=first.answer,
            explanation=first.explanation,
            metadata={"epochs": len(scores), **(first.metadata or {})},
        )

    return reduce


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
