"""Model providers this project registers with Inspect: ``msm-hf/`` (batched local Hugging Face
checkpoints, `msm.harness.local_hf`). `register` is called by the Inspect entry point, the runner
and the benchmarks; the provider class is imported only when a model is made."""

from __future__ import annotations

from msm.harness.local_hf import PROVIDER


def register() -> None:
    """Register ``msm-hf/`` with Inspect (idempotent; the ``msm`` entry point calls it)."""
    from inspect_ai.model import modelapi

    @modelapi(name=PROVIDER)
    def msm_hf() -> type:
        from msm.harness.local_hf_api import BatchedHuggingFaceAPI

        return BatchedHuggingFaceAPI
