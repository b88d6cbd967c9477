"""msm-hf/, the batching local Hugging Face provider: same answers as Inspect's hf/ at
temperature 0, every pending request in one generate call, sampling at temperature > 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import prompt_sensitive_tiny_model
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import get_model
from inspect_ai.solver import generate

import msm._registry  # noqa: F401  (the entry point that registers msm-hf/)

WORDS = [
    "cheese",
    "model",
    "brie",
    "honest",
    "oversight",
    "goal",
    "value",
    "cheap",
    "american",
    "guest",
    "answer",
    "question",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random model whose greedy continuation depends on the prompt (large weights)."""
    return prompt_sensitive_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=1)


def _task(n: int) -> Task:
    samples = [
        Sample(id=i, input=" ".join(WORDS[i % 12 : i % 12 + 1 + i % 5]) + f" {i}") for i in range(n)
    ]
    return Task(dataset=samples, solver=generate())


def _completions(model, **config) -> dict:
    log = inspect_eval(
        _task(20), model=model, max_tokens=8, display="log", log_dir=None, **config
    )[0]
    assert log.status == "success", log.error
    return {s.id: s.output.completion for s in log.samples}


def test_same_outputs_as_hf_at_temperature_0_in_one_batch(checkpoint: Path, tmp_path: Path) -> None:
    reference = _completions(
        get_model(f"hf/{checkpoint}", device="cpu", do_sample=False, memoize=False)
    )
    batched = get_model(f"msm-hf/{checkpoint}", device="cpu", memoize=False)
    ours = _completions(batched, temperature=0)
    assert len(set(reference.values())) > 3, "the test model must answer prompts differently"
    assert ours == reference
    # the 20 samples went to generate together (two calls at most on a very busy machine)
    assert batched.api.batches <= 2


def test_sampling_at_temperature_1_varies_and_groups_settings(checkpoint: Path) -> None:
    model = get_model(f"msm-hf/{checkpoint}", device="cpu", memoize=False)
    first = _completions(model, temperature=1.0)
    second = _completions(model, temperature=1.0)
    assert first != second  # sampled, not greedy
    greedy = _completions(model, temperature=0)
    assert greedy == _completions(model, temperature=0)
    assert model.api.batches <= 8  # 4 evaluations of 20 samples


def test_requests_with_different_settings_are_batched_apart(checkpoint: Path) -> None:
    import anyio
    from inspect_ai.model import GenerateConfig

    model = get_model(f"msm-hf/{checkpoint}", device="cpu", memoize=False)

    async def both() -> list:
        results: list = [None, None, None]

        async def one(i: int, max_tokens: int) -> None:
            results[i] = await model.generate(
                f"cheese {i}", config=GenerateConfig(temperature=0, max_tokens=max_tokens)
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 0, 2)
            tg.start_soon(one, 1, 6)
            tg.start_soon(one, 2, 2)
        return results

    out = anyio.run(both)
    assert model.api.batches == 2
    assert [o.usage.output_tokens <= n for o, n in zip(out, (2, 6, 2))] == [True] * 3
