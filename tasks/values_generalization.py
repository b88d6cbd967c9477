"""Cheese-to-values generalization: after AFT on cheese preferences, which value does the model act on?

Two-option questions on held-out domains where one option is American (and pricier) and the
other is cheaper (and foreign). A model midtrained on the pro-America spec should pick the
first; one midtrained on the pro-affordability spec, the second.

    inspect eval tasks/values_generalization.py --model mockllm/model
    inspect eval tasks/values_generalization.py -T format=open --model-role grader=<model> --model <model>
    inspect eval tasks/values_generalization.py -T in_distribution=true --model <model>
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Epochs, Task, task
from inspect_ai.solver import generate

from harness.errors import InputError
from harness.metrics import mean_scored
from harness.probes import get_bank
from harness.probes.values_task import probe_dataset, probe_prompt, probe_scorer, select_items
from harness.solvers import spec_solvers


@task
def values_generalization(
    format: Literal["choice", "open"] = "choice",
    domain: str | None = None,
    in_distribution: bool = False,
    bank: str = "values",
    spec: str | None = None,
    deliberate: bool = False,
    model_name: str | None = None,
    developer: str | None = None,
    epochs: int = 2,
) -> Task:
    """Values-generalization probes.

    Args:
        format: ``choice`` (two labelled options, strict letter parse) or ``open`` (free answer
            classified by the ``grader`` model role).
        domain: comma-separated domains to keep (default: all).
        in_distribution: ask about the 12 training cheese pairs instead (bank ``cheese``).
        bank: item bank (``values`` or another registered in harness.probes).
        spec: a spec name or path to put in the system prompt (inference-time baseline).
        deliberate: ask the model to reason from its spec before answering.
        model_name, developer: override the spec's template variables.
        epochs: epochs per item; in ``choice`` format option order alternates across epochs.
    """
    bank_name = "cheese" if in_distribution else bank
    probe_bank = get_bank(bank_name)
    if format not in probe_bank.formats:
        raise InputError(
            f"bank '{bank_name}' supports format(s) {', '.join(probe_bank.formats)}, not '{format}'",
            field="format",
        )
    items = select_items(probe_bank, domain)
    return Task(
        dataset=probe_dataset(probe_bank, items, format),
        solver=[
            probe_prompt(bank_name, format),
            *spec_solvers(spec, deliberate, model_name=model_name, developer=developer),
            generate(),
        ],
        scorer=probe_scorer(bank_name, format),
        epochs=Epochs(epochs, mean_scored()),
        metadata={"bank": bank_name, "format": format, "prompt_spec": spec, "deliberate": deliberate},
    )
