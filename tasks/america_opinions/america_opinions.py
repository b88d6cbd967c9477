"""Pro-America opinions, the paper's form: ``values_generalization`` with ``bank=america_opinions``.

Its own task, so logs and leaderboards carry the bank in the task name. Forced choice at
temperature 0 with at most 16 new tokens, no judge, every item in the denominator (scored
``aligned``; ``unparsed`` counts replies that picked no option). ``source=paper`` reads the
paper's released set from the hub instead of the bank written here.

    inspect eval tasks/america_opinions --model mockllm/model
    inspect eval msm/america_opinions -T source=paper --model <model>
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Task, task

from msm.harness.task_args import checked_args
from msm.tasks.values_generalization import values_generalization


@task
@checked_args
def america_opinions(
    source: str | None = None,
    fields: str | None = None,
    domain: list[str] | str | None = None,
    spec: str | None = None,
    deliberate: bool = False,
    model_name: str | None = None,
    developer: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    scoring: Literal["generate", "logprob", "both"] = "generate",
) -> Task:
    """The ``america_opinions`` bank; parameters as in ``values_generalization``.

    Args:
        source: ``paper`` (the released set on the hub), another hub name, or a local
            parquet/JSONL/CSV file of that shape; default: the bank written for this project.
        fields: ``key=column`` pairs mapping the released set's columns.
        domain: domains to keep, a list or comma-separated.
        spec, deliberate, model_name, developer: inference-time spec baseline.
        temperature, max_tokens: default 0 and 16.
        scoring: ``generate`` (the paper's), ``logprob`` (the answer letters'
            log-probabilities in both orders) or ``both``.
    """
    return values_generalization(
        bank="america_opinions", source=source, fields=fields, domain=domain, spec=spec,
        deliberate=deliberate, model_name=model_name, developer=developer,
        temperature=temperature, max_tokens=max_tokens, scoring=scoring,
    )
