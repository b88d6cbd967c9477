"""Say vs do: does the model know what its Model Spec says and why?

Multiple-choice questions (strict letter parse) and open questions judged by the ``grader``
model role against the spec, one bank per shipped spec. Compare with the agentic task, which
shows whether the model acts on what it can recite.

    inspect eval tasks/spec_knowledge -T spec=philosophy --model mockllm/model
    inspect eval tasks/spec_knowledge -T spec=rules -T format=all --model-role grader=<model> --model <model>
    inspect eval tasks/spec_knowledge -T spec=pro_america,pro_affordability --model <model>

Read a trained model's rate against the base model's rate on the same bank (the floor): the
cheese banks offer the rival value as a distractor, so guessing from the cheese names alone
does not reach the answer.
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Epochs, Task, task
from inspect_ai.solver import generate

from msm.harness.errors import InputError, as_list
from msm.harness.metrics import mean_scored
from msm.harness.probes.knowledge import knowledge_dataset, knowledge_scorer
from msm.harness.solvers import spec_solvers
from msm.harness.specs import load_spec
from msm.harness.task_args import checked_args


@task
@checked_args
def spec_knowledge(
    spec: list[str] | str = "philosophy",
    format: Literal["choice", "open", "all"] = "choice",
    spec_in_prompt: bool = False,
    deliberate: bool = False,
    model_name: str | None = None,
    developer: str | None = None,
) -> Task:
    """Questions about one spec.

    Args:
        spec: which spec's bank to ask (philosophy, rules, value_augmented, rule_augmented,
            general, pro_america, pro_affordability, ...), or several (a list, or names
            separated by commas; sample metadata ``domain`` names each item's bank).
        format: ``choice``, ``open`` (needs ``--model-role grader=...``) or ``all``.
        spec_in_prompt: also put the spec in the system prompt (an open-book ceiling).
        deliberate: ask the model to reason from its spec before answering.
        model_name, developer: override the spec's template variables in the system prompt.
    """
    loaded = [load_spec(s) for s in as_list(spec)]
    if not loaded:
        raise InputError("names no spec", field="spec")
    if spec_in_prompt and len(loaded) > 1:
        raise InputError("spec_in_prompt takes one spec, not several", field="spec_in_prompt")
    first = loaded[0]
    return Task(
        dataset=knowledge_dataset(loaded, format),
        solver=[
            *spec_solvers(str(first.path) if spec_in_prompt else None, deliberate,
                          model_name=model_name, developer=developer),
            generate(),
        ],
        scorer=knowledge_scorer(",".join(str(s.path) for s in loaded)),
        epochs=Epochs(1, mean_scored()),  # `--epochs N` repeats each question N times
        version=1,
        metadata={"bank_spec": ",".join(s.name for s in loaded),
                  "bank_spec_hash": ",".join(s.hash for s in loaded), "format": format},
    )
