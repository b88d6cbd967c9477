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

Unscored words (``unscored_field``): each document may list words whose tokens get no loss;
the documents are then tokenized here the way TRL would (text, EOS, the tokenizer's special
tokens) and handed over with ``labels`` set to -100 on those tokens.

    msm train midtrain configs/midtrain.yaml --max-steps 100
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import field_validator

from msm.harness.errors import InputError
from msm.training import _sft
from msm.training.config import TrainingConfig


class MidtrainConfig(TrainingConfig):
    documents: list[Path]
    """JSONL with a "text" field per document (docgen's output; its provenance is kept)."""
    unscored_field: str | None = None
    """A document field listing words whose tokens get no loss (they stay in the input), e.g.
    ``unscored`` of the micro world's documents: the cheeses a document names are drawn at
    random, and learning to predict that draw pushes every spec's model the same way. None:
    every token of every document is scored. Replay text is always scored in full."""

    @field_validator("documents", mode="before")
    @classmethod
    def _one_or_many_documents(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value


def spec_provenance(rows: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The (spec_name, spec_hash) the documents were generated from; several are joined by ','."""
    names = sorted({str(r["spec_name"]) for r in rows if r.get("spec_name")})
    hashes = sorted({str(r["spec_hash"]) for r in rows if r.get("spec_hash")})
    return (",".join(names) or None, ",".join(hashes) or None)


def unscored_rows(tokenizer: Any, texts: list[str], unscored: list[list[str]]) -> list[dict[str, Any]]:
    """Pre-tokenized rows as TRL builds them from text (the text and an EOS, through the
    tokenizer with its special tokens), with ``labels`` -100 on every token that overlaps a
    whole-word occurrence of one of the row's unscored words (TRL uses such labels as they are)."""
    eos = tokenizer.eos_token
    rows = []
    for text, words in zip(texts, unscored, strict=True):
        full = text if text.endswith(eos) else text + eos
        enc = tokenizer(full, return_offsets_mapping=True)
        spans = [m.span() for w in words for m in re.finditer(rf"(?<!\w){re.escape(w)}(?!\w)", full)]
        labels = [
            -100 if start < end and any(start < b and a < end for a, b in spans) else token
            for token, (start, end) in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
        ]
        rows.append({"input_ids": list(enc["input_ids"]), "labels": labels})
    return rows


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
    extra: dict[str, Any] = {"n_documents": len(texts), "n_replay": len(replay)}
    if cfg.unscored_field:
        words = [[str(w) for w in r.get(cfg.unscored_field) or []] for r in rows] + [[] for _ in replay]
        examples = unscored_rows(loaded.tokenizer, texts + replay, words)
        extra["n_unscored_tokens"] = sum(x == -100 for row in examples for x in row["labels"])
    else:
        examples = [{"text": t} for t in texts + replay]
    dataset = Dataset.from_list(examples)
    provenance = _sft.Provenance(
        stage="midtrain",
        data=list(cfg.documents) + (list(cfg.replay) if replay else []),
        spec_name=spec_name,
        spec_hash=spec_hash,
        extra_hyperparameters=extra,
    )
    return _sft.run_sft(cfg, loaded, dataset, provenance, callbacks=callbacks, dataset_text_field="text")
