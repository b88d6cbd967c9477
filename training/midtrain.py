"""Midtraining: continued pretraining on the synthetic spec documents (the MSM stage).

Plain next-token loss on raw text with TRL's `SFTTrainer` (``dataset_text_field="text"``,
an EOS after every document), LoRA through PEFT or full fine-tuning, an optional replay mix
of generic text, and an optional merge of the adapter into full weights.

Packing: with ``packing: true`` and ``packing_strategy: bfd`` (the default) TRL packs whole
documents into ``max_length`` rows and trains padding-free: the rows carry position ids that
restart at each document, and transformers builds a block-diagonal mask from them for every
attention implementation (flash-attention uses them natively; SDPA/eager, the CPU case, get
an explicit mask), so documents never attend to each other. ``wrapped`` concatenates and cuts
mid-document, the classic pretraining recipe. Without packing each document is one row
(truncated to ``max_length``) and batches are padded.

    msm train midtrain configs/midtrain.yaml --max-steps 100
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import field_validator

from harness.errors import InputError
from training import _sft
from training.config import TrainingConfig


class MidtrainConfig(TrainingConfig):
    documents: list[Path]
    """JSONL with a "text" field per document (docgen's output; its provenance is kept)."""

    @field_validator("documents", mode="before")
    @classmethod
    def _one_or_many_documents(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value


def spec_provenance(rows: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The (spec_name, spec_hash) the documents were generated from; several are joined by ','."""
    names = sorted({str(r["spec_name"]) for r in rows if r.get("spec_name")})
    hashes = sorted({str(r["spec_hash"]) for r in rows if r.get("spec_hash")})
    return (",".join(names) or None, ",".join(hashes) or None)


def midtrain(cfg: MidtrainConfig, *, callbacks: list[Any] | None = None) -> Path:
    """Train on ``cfg.documents`` (plus replay) and return the checkpoint folder.

    Returns at once when ``cfg.output_dir`` already holds a finished run (its manifest);
    resumes from the last ``checkpoint-*`` when a run was interrupted.
    """
    from datasets import Dataset

    if _sft.is_complete(cfg.output_dir):
        return Path(cfg.output_dir)
    if not cfg.documents:
        raise InputError("at least one documents file is needed", field="documents")
    rows = [r for p in cfg.documents for r in _sft.read_jsonl(p, field="text", config_field="documents")]
    spec_name, spec_hash = spec_provenance(rows)
    texts = [str(r["text"]) for r in rows]
    replay = _sft.replay_texts(cfg, len(texts))
    loaded = _sft.load_model(cfg)
    dataset = Dataset.from_list([{"text": t} for t in texts + replay])
    provenance = _sft.Provenance(
        stage="midtrain",
        data=list(cfg.documents) + (list(cfg.replay) if replay else []),
        spec_name=spec_name,
        spec_hash=spec_hash,
        extra_hyperparameters={"n_documents": len(texts), "n_replay": len(replay)},
    )
    return _sft.run_sft(cfg, loaded, dataset, provenance, callbacks=callbacks, dataset_text_field="text")
