"""The manifest written beside every checkpoint: where it came from and how to load it.

``msm_manifest.json`` in a checkpoint folder. The harness reads it to label results (arm,
spec, seed) and to build the Inspect model string for the checkpoint.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from msm.harness.fileio import write_text_atomic

MANIFEST_FILE = "msm_manifest.json"

Stage = Literal["pretrain", "midtrain", "aft", "merge", "import"]
"""``import``: a released model converted into a checkpoint (`msm model`)."""


class Manifest(BaseModel):
    stage: Stage
    base_model: str
    """The original base model (name or path) at the root of the lineage."""
    parent: str | None = None
    """The checkpoint this one was trained from (a path, or the base model name)."""
    adapter: bool = False
    """True when the folder holds a PEFT adapter rather than full weights."""
    adapter_base: str | None = None
    """For an adapter: the full-weights model (path or hub name) it applies to."""
    spec_name: str | None = None
    spec_hash: str | None = None
    data_hashes: dict[str, str] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    """Free labels, e.g. {"arm": "msm_america_aft", "experiment": "micro_cheese"}."""
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


def write_manifest(checkpoint: str | Path, manifest: Manifest) -> Path:
    """Write the checkpoint's manifest (msm_manifest.json) atomically; returns its path."""
    return write_text_atomic(Path(checkpoint) / MANIFEST_FILE, manifest.model_dump_json(indent=2))


def read_manifest(checkpoint: str | Path) -> Manifest | None:
    """The checkpoint's manifest, or None when the folder has none."""
    path = Path(checkpoint) / MANIFEST_FILE
    if not path.is_file():
        return None
    return Manifest.model_validate(json.loads(path.read_text()))


def inspect_model_string(checkpoint: str | Path) -> str:
    """The Inspect model string that loads a checkpoint written by the training stages.

    Full (or merged) weights: ``hf/<absolute path>``; Inspect's Hugging Face provider loads the
    weights and the tokenizer saved beside them. A LoRA adapter: ``vllm/<base>:<absolute
    adapter path>``, the form Inspect's vLLM provider parses (``base-model:adapter``; the
    adapter part is a local path when it exists on disk), which starts vLLM with
    ``enable_lora`` and the adapter's rank. ``<base>`` is the full-weights model the adapter
    was trained on (manifest ``adapter_base``, else the adapter's ``adapter_config.json``).
    """
    path = Path(checkpoint).resolve()
    manifest = read_manifest(path)
    adapter_config = path / "adapter_config.json"
    is_adapter = manifest.adapter if manifest is not None else adapter_config.is_file()
    if not is_adapter:
        return f"hf/{path}"
    base = manifest.adapter_base if manifest is not None else None
    if base is None and adapter_config.is_file():
        base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
    if not base:
        from msm.harness.errors import InputError

        raise InputError("adapter without a known base model", file=path, field="adapter_base")
    if Path(base).exists():
        base = str(Path(base).resolve())
    return f"vllm/{base}:{path}"
