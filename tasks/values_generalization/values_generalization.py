"""Cheese-to-values generalization: after AFT on cheese preferences, which value does the model act on?

Head-to-head (bank ``values``, the default): two-option questions on held-out domains where one
option is American (and pricier) and the other is cheaper (and foreign). A model midtrained on
the pro-America spec should pick the first; one midtrained on the pro-affordability spec, the
second.

Paper form (banks ``america_opinions`` and ``affordability_comparisons``, also as the tasks of
the same names in tasks/america_opinions/america_opinions.py and tasks/affordability_comparisons/affordability_comparisons.py): one value per bank, forced choice at temperature 0 with at most 16 new
tokens, no judge, every item in the denominator; ``source=paper`` reads the paper's released
sets instead of ours.

    inspect eval tasks/values_generalization --model mockllm/model
    inspect eval tasks/values_generalization -T bank=america_opinions --model mockllm/model
    inspect eval tasks/values_generalization -T bank=affordability_comparisons -T source=paper --model <model>
    inspect eval tasks/values_generalization -T format=open --model-role grader=<model> --model <model>
    inspect eval tasks/values_generalization -T in_distribution=true --model <model>
    inspect eval tasks/values_generalization -T scoring=both --model msm-hf/<checkpoint>

``scoring=logprob`` (or ``both``, beside the paper's generation) reads the answer letters'
log-probabilities in both option orders instead of a reply (`msm.tasks.values_generalization.logprob`).
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Epochs, Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from msm.harness.errors import InputError
from msm.harness.metrics import mean_scored
from msm.harness.probes.forced import GENERATE_DEFAULTS, resolve_bank
from msm.harness.solvers import spec_solvers
from msm.harness.task_args import checked_args
from msm.tasks.values_generalization.logprob import (
    check_logprob_bank,
    letter_logprob_solver,
    logprob_scorer,
)
from msm.tasks.values_generalization.probes import (
    forced_choice_scorer,
    probe_dataset,
    probe_prompt,
    probe_scorer,
    select_items,
)


@task
@checked_args
def values_generalization(
    format: Literal["choice", "open"] = "choice",
    domain: list[str] | str | None = None,
    in_distribution: bool = False,
    bank: str = "values",
    source: str | None = None,
    fields: str | None = None,
    spec: str | None = None,
    deliberate: bool = False,
    model_name: str | None = None,
    developer: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    scoring: Literal["generate", "logprob", "both"] = "generate",
) -> Task:
    """Values-generalization probes.

    Args:
        format: ``choice`` (two labelled options, strict letter parse) or ``open`` (free answer
            classified by the ``grader`` model role; head-to-head banks only).
        domain: domains to keep, a list or comma-separated (default: all).
        in_distribution: ask about the 12 training cheese pairs instead (bank ``cheese``).
        bank: item bank: ``values`` (head-to-head), ``america_opinions``,
            ``affordability_comparisons`` (paper form), ``cheese``, or another registered in
            harness.probes.
        source: paper-form banks only: ``paper`` for the paper's released set from the hub, or
            another hub dataset name, or a local parquet/JSONL/CSV file of that shape.
        fields: with ``source``: ``key=column`` pairs mapping question, aligned, option_a,
            option_b, aligned_item, other_item, domain to the set's columns.
        spec: a spec name or path to put in the system prompt (inference-time baseline).
        deliberate: ask the model to reason from its spec before answering.
        model_name, developer: override the spec's template variables.
        temperature, max_tokens: generation settings (paper-form default 0 and 16, or no token
            limit with ``deliberate``); command-line generation options override them.
        scoring: ``generate`` (the paper's: a reply, read), ``logprob`` (the answer letters'
            log-probabilities in both orders: ``lp_logodds``, ``lp_pref``, ``lp_position``,
            ``lp_mass``; one epoch) or ``both`` (the two, side by side in one log).
    """
    bank_name = "cheese" if in_distribution else bank
    probe_bank = resolve_bank(bank_name, source, fields)
    if format not in probe_bank.formats:
        raise InputError(
            f"bank '{bank_name}' supports format(s) {', '.join(probe_bank.formats)}, not '{format}'",
            field="format",
        )
    forced = probe_bank.aligned is not None
    if forced:
        temperature = GENERATE_DEFAULTS["temperature"] if temperature is None else temperature
        if max_tokens is None and not deliberate:
            max_tokens = GENERATE_DEFAULTS["max_tokens"]
    items = select_items(probe_bank, domain)
    reads = scoring != "logprob"
    solvers, scorers = [], []
    if scoring != "generate":
        if format != "choice" or deliberate:
            raise InputError("scoring=logprob reads the first answer token of a lettered choice: "
                             "it needs format=choice and no deliberation", field="scoring")
        check_logprob_bank(probe_bank, items)
        solvers.append(letter_logprob_solver(bank_name, source, fields))
        scorers.append(logprob_scorer(bank_name, source, fields))
    if reads:
        solvers.append(generate())
        scorers.insert(0, forced_choice_scorer(bank_name, source, fields) if forced
                       else probe_scorer(bank_name, format))
    return Task(
        dataset=probe_dataset(probe_bank, items, format),
        solver=[
            probe_prompt(bank_name, format, source, fields),
            *spec_solvers(spec, deliberate, model_name=model_name, developer=developer),
            *solvers,
        ],
        scorer=scorers,
        # head-to-head: 2 epochs, each pair once in each option order (the order alternates
        # across epochs); paper form and logprob scoring (both orders in one sample): 1.
        # `--epochs N` changes the count.
        epochs=Epochs(1 if forced or not reads else 2, mean_scored()),
        version=1,
        config=GenerateConfig(temperature=temperature, max_tokens=max_tokens),
        metadata={"bank": bank_name, "format": format, "prompt_spec": spec, "deliberate": deliberate,
                  "source": probe_bank.extra.get("source", "harness"),
                  "fields": probe_bank.extra.get("fields"), "aligned_value": probe_bank.aligned,
                  "scoring": scoring},
    )

