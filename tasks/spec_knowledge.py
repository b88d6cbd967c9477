"""Say vs do: does the model know what its Model Spec says and why?

Multiple-choice questions (strict letter parse) and open questions judged by the ``grader``
model role against the spec, one bank per shipped spec. Compare with the agentic task, which
shows whether the model acts on what it can recite.

    inspect eval tasks/spec_knowledge.py -T spec=philosophy --model mockllm/model
    inspect eval tasks/spec_knowledge.py -T spec=rules -T format=all --model-role grader=<model> --model <model>
"""

from __future__ import annotations

from typing import Literal

from inspect_ai import Epochs, Task, task
from inspect_ai.solver import generate

from harness.metrics import mean_scored
from harness.probes.knowledge import knowledge_dataset, knowledge_scorer
from harness.solvers import spec_solvers
from harness.specs import load_spec


@task
def spec_knowledge(
    spec: str = "philosophy",
    format: Literal["choice", "open", "all"] = "choice",
    spec_in_prompt: bool = False,
    deliberate: bool = False,
    model_name: str | None = None,
    developer: str | None = None,
    epochs: int = 1,
) -> Task:
    """Questions about one spec.

    Args:
        spec: which spec's bank to ask (philosophy, rules, value_augmented, rule_augmented,
            general, pro_america, pro_affordability).
        format: ``choice``, ``open`` (needs ``--model-role grader=...``) or ``all``.
        spec_in_prompt: also put the spec in the system prompt (an open-book ceiling).
        deliberate: ask the model to reason from its spec before answering.
        model_name, developer: override the spec's template variables in the system prompt.
        epochs: repeats per question.
    """
    loaded = load_spec(spec)
    return Task(
        dataset=knowledge_dataset(loaded, format),
        solver=[
            *spec_solvers(str(loaded.path) if spec_in_prompt else None, deliberate,
                          model_name=model_name, developer=developer),
            generate(),
        ],
        scorer=knowledge_scorer(str(loaded.path)),
        epochs=Epochs(epochs, mean_scored()),
        metadata={"bank_spec": loaded.name, "bank_spec_hash": loaded.hash, "format": format},
    )
