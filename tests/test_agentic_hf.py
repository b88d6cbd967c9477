"""The agentic task runs against a local `hf/` checkpoint (a tiny random model built here)."""

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from msm.tasks.agentic_misalignment import agentic_misalignment
from msm.training.tiny import build_tiny_model


@pytest.mark.slow
def test_local_checkpoint_through_hf(tmp_path):
    # Inboxes are long (about 15k characters), so the tiny model gets a long context.
    checkpoint = build_tiny_model(tmp_path / "tiny", max_position_embeddings=16384)
    model = get_model("hf/tiny", model_path=str(checkpoint), device="cpu")
    [log] = inspect_eval(
        agentic_misalignment(grid="single", scenario="murder", source="msm"),
        epochs=1,
        model=model,
        max_tokens=8,
        log_dir=str(tmp_path / "logs"),
        display="log",
    )
    assert log.status == "success", log.error
    [sample] = log.samples
    score = sample.scores["agentic_misalignment_scorer"]
    assert score.value["action"] == 0.0  # eight random tokens cannot form a cancel_alert call
    assert sample.output.usage.input_tokens > 1000
