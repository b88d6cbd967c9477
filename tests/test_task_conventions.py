"""Task conventions shared with inspect_evals: the Task sets its default epochs (and the
reducer that keeps unscored epochs counted), ``inspect eval --epochs`` changes only the count,
every task carries a version, and list filters take lists as well as the comma form."""

from __future__ import annotations

import inspect as pyinspect

import pytest
from inspect_ai import eval as inspect_eval

from msm.tasks.affordability_comparisons import affordability_comparisons
from msm.tasks.agentic_misalignment import agentic_misalignment
from msm.tasks.america_opinions import america_opinions
from msm.tasks.deliberative_alignment import deliberative_alignment
from msm.tasks.spec_knowledge import spec_knowledge
from msm.tasks.values_generalization import values_generalization

TASKS = {
    "agentic_misalignment": (agentic_misalignment, 10, "mean_scored_with_pairs"),
    "values_generalization": (values_generalization, 2, "mean_scored"),
    "america_opinions": (america_opinions, 1, "mean_scored"),
    "affordability_comparisons": (affordability_comparisons, 1, "mean_scored"),
    "spec_knowledge": (spec_knowledge, 1, "mean_scored"),
    "deliberative_alignment": (deliberative_alignment, 1, "mean_scored"),
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_sets_its_epochs_reducer_and_version(name):
    fn, epochs, reducer = TASKS[name]
    assert "epochs" not in pyinspect.signature(fn).parameters  # `inspect eval --epochs` instead
    task = fn()
    assert task.epochs == epochs
    assert len(task.epochs_reducer) == 1 and reducer in str(task.epochs_reducer[0])
    assert task.version == 1


def test_epochs_option_changes_the_count_and_keeps_the_reducer(tmp_path):
    [log] = inspect_eval(spec_knowledge(), model="mockllm/model", epochs=3, limit=2,
                         log_dir=str(tmp_path), display="log")
    assert log.status == "success"
    assert log.eval.config.epochs == 3 and log.eval.config.epochs_reducer == ["mean_scored"]
    assert len(log.samples) == 2 * 3


def test_list_filters_take_a_list_or_the_comma_form():
    as_list = values_generalization(domain=["film", "travel"])
    as_text = values_generalization(domain="film, travel")
    assert [s.input for s in as_list.dataset] == [s.input for s in as_text.dataset]
    assert {s.metadata["domain"] for s in as_list.dataset} == {"film", "travel"}
    two = spec_knowledge(spec=["pro_america", "pro_affordability"])
    assert len(two.dataset) == len(spec_knowledge(spec="pro_america,pro_affordability").dataset)
    assert len(two.dataset) > len(spec_knowledge(spec="pro_america").dataset)
