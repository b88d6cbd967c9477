"""Deliberative-alignment teacher data, generated as an Inspect task.

The evaluated model is the teacher: with its Model Spec in the system prompt it writes
reasoning that cites the spec clauses that apply (in ``<reasoning>`` tags), then its reply. The
``grader`` role judges whether both follow the spec (``follows``: 1/0, unscored when the judge
fails). ``msm data deliberative LOG --out DIR`` turns the log into the two AFT datasets.

    inspect eval tasks/deliberative_alignment -T spec=philosophy --model <teacher> --model-role grader=<judge>
    inspect eval tasks/deliberative_alignment -T spec=pro_america -T prompts=cheese --model <teacher> --model-role grader=<judge>
"""

from __future__ import annotations

from inspect_ai import Epochs, Task, task
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from msm.harness.deliberative import PromptSet, spec_follows, teacher_dataset, teacher_instruction
from msm.harness.errors import as_list
from msm.harness.metrics import mean_scored
from msm.harness.solvers import spec_in_system_prompt
from msm.harness.specs import load_spec
from msm.harness.task_args import checked_args


@task
@checked_args
def deliberative_alignment(
    spec: str = "philosophy",
    prompts: PromptSet = "auto",
    categories: list[str] | str | None = None,
    data: str | None = None,
    cheese_per_order: int = 2,
    model_name: str | None = None,
    developer: str | None = None,
    temperature: float = 0.7,
    max_tokens: int = 2048,
    seed: int = 0,
) -> Task:
    """The teacher writes spec-citing reasoning and a reply for every AFT prompt.

    Args:
        spec: the Model Spec (name or path) the teacher reasons from.
        prompts: ``safety`` (the bank of 302 safety situations), ``cheese`` (the cheese
            AFT prompts), ``both``, or ``auto`` (cheese for a spec with cheese preferences,
            else safety).
        categories: safety categories to keep (shutdown, replacement, oversight,
            conflicting_goals, drastic_actions, honesty), a list or comma-separated; default all.
        data: extra prompts from a JSONL of ``{"messages": [...]}`` rows (up to the last user turn).
        cheese_per_order: cheese prompts per pair and option order (12 pairs x 2 orders x this).
        model_name, developer: override the spec's template variables.
        temperature, max_tokens: the teacher's sampling settings.
        seed: sampling seed for the cheese prompts.
    """
    loaded = load_spec(spec)
    return Task(
        dataset=teacher_dataset(str(loaded.path), prompts, data, cheese_per_order, seed,
                                categories=as_list(categories) or None),
        solver=[
            spec_in_system_prompt(str(loaded.path), model_name=model_name, developer=developer),
            teacher_instruction(),
            generate(),
        ],
        scorer=spec_follows(str(loaded.path), model_name=model_name, developer=developer),
        config=GenerateConfig(temperature=temperature, max_tokens=max_tokens),
        # one teacher sample per prompt; `--epochs N` draws N, each judged on its own (the
        # data keeps every epoch that passes)
        epochs=Epochs(1, mean_scored()),
        version=1,
        metadata={"teacher_spec": loaded.name, "teacher_spec_hash": loaded.hash, "prompts": prompts},
    )
