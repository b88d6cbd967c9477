"""Alignment fine-tuning (AFT): SFT on chat demonstrations, loss on assistant turns only.

Data: JSONL rows ``{"messages": [{"role": ..., "content": ...}, ...]}`` (TRL's conversational
form; other keys are ignored). Each conversation is rendered with the tokenizer's chat
template and ``return_assistant_tokens_mask=True``, the transformers mechanism TRL's
``assistant_only_loss`` uses: tokens outside ``{% generation %}`` markers get label -100.
A template without markers is swapped for TRL's training template for that model family
(Llama 3, Qwen 2.5/3, Gemma, ... see `trl.chat_template_utils.get_training_chat_template`),
or for the Jinja file in ``chat_template_path``. Conversations are tokenized here rather than
inside the trainer so that raw replay text (``replay_fraction``, all tokens trained) can be
mixed into the same batches; TRL then builds the labels, truncates and packs as usual.

Reasoning (the deliberative-alignment form): an assistant message may carry reasoning in a
``reasoning`` (or ``reasoning_content``) key, or as a leading ``<think>...</think>`` block in
its content. ``reasoning: none`` drops it (AFT without CoT); ``reasoning: keep`` trains on it,
rendered as ``<think>\\n{reasoning}\\n</think>\\n\\n{answer}`` in the assistant turn.

    msm train aft configs/aft.yaml --base-model runs/msm_america/midtrain
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from msm.harness.errors import InputError
from msm.training import _sft
from msm.training.config import TrainingConfig
from msm.training.mix import is_local as mix_is_local
from msm.training.mix import mix_conversations

REASONING_KEYS = ("reasoning", "reasoning_content")
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
_THINK_BLOCK = re.compile(r"\A\s*<think>(.*?)</think>\s*", re.DOTALL)


class AFTConfig(TrainingConfig):
    data: list[Path] = Field(default_factory=list)
    """JSONL files of {"messages": [...]} demonstrations."""
    mix: list[str] = Field(default_factory=list)
    """The instruction-tuning mix (`msm.training.mix`): hub dataset names or local JSONL files."""
    mix_split: str = "train"
    mix_fraction: float | None = Field(default=None, gt=0.0, lt=1.0)
    """The mix's share of the AFT set."""
    mix_rows: int | None = Field(default=None, gt=0)
    """A fixed number of mix conversations (what an arm on the mix alone needs)."""
    reasoning: Literal["none", "keep"] = "none"
    chat_template_path: Path | None = None
    """A Jinja chat template with {% generation %} markers, when the tokenizer's has none."""
    learning_rate: float = Field(default=1e-4, gt=0)

    @field_validator("data", "mix", mode="before")
    @classmethod
    def _one_or_many_data(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value

    @model_validator(mode="after")
    def _mix_settings(self) -> AFTConfig:
        if self.mix_fraction is not None and self.mix_rows is not None:
            raise ValueError("give mix_fraction or mix_rows, not both")
        if (self.mix_fraction is not None or self.mix_rows is not None) and not self.mix:
            raise ValueError("mix_fraction or mix_rows without a mix")
        if self.mix and self.mix_fraction is None and self.mix_rows is None:
            raise ValueError("a mix needs mix_fraction or mix_rows")
        return self


def split_reasoning(message: dict[str, Any]) -> tuple[str | None, str]:
    """(reasoning or None, answer) of an assistant message."""
    content = str(message.get("content") or "")
    for key in REASONING_KEYS:
        if message.get(key):
            return str(message[key]).strip(), content.strip()
    match = _THINK_BLOCK.match(content)
    if match:
        return match.group(1).strip(), content[match.end() :].strip()
    return None, content


def apply_reasoning(messages: list[dict[str, Any]], mode: Literal["none", "keep"]) -> list[dict[str, str]]:
    """Plain {"role", "content"} messages with reasoning dropped or written into the content."""
    out = []
    for m in messages:
        if m.get("role") != "assistant":
            out.append({"role": str(m["role"]), "content": str(m.get("content") or "")})
            continue
        reasoning, answer = split_reasoning(m)
        if mode == "keep" and reasoning:
            answer = f"{THINK_OPEN}\n{reasoning}\n{THINK_CLOSE}\n\n{answer}"
        out.append({"role": "assistant", "content": answer})
    return out


def training_chat_template(tokenizer: Any, chat_template_path: Path | None = None) -> str:
    """A chat template with generation markers for assistant-only loss."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if chat_template_path is not None:
        if not Path(chat_template_path).is_file():
            raise InputError("file not found", file=chat_template_path, field="chat_template_path")
        template = Path(chat_template_path).read_text()
        if not has_generation_markers(template):
            raise InputError("no {% generation %} markers", file=chat_template_path, field="chat_template_path")
        return template
    template = tokenizer.chat_template
    if isinstance(template, dict):
        template = template.get("default")
    if not template:
        raise InputError(
            "the tokenizer has no chat template; set chat_template_path to a Jinja template "
            "with {% generation %} markers",
            field="base_model",
        )
    if has_generation_markers(template):
        return template
    try:
        patched = get_training_chat_template(tokenizer)
    except Exception as ex:
        raise InputError(
            "the chat template has no {% generation %} markers and TRL has no training template "
            f"for it ({str(ex).splitlines()[0] if str(ex) else type(ex).__name__}); set chat_template_path",
            field="base_model",
        ) from ex
    return patched or template


def tokenize_conversation(tokenizer: Any, messages: list[dict[str, str]], chat_template: str) -> dict[str, list[int]]:
    """input_ids and assistant_masks (1 on tokens the model learns to write)."""
    out = tokenizer.apply_chat_template(
        messages,
        chat_template=chat_template,
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    return {"input_ids": list(out["input_ids"]), "assistant_masks": list(out["assistant_masks"])}


def tokenize_text(tokenizer: Any, text: str) -> dict[str, list[int]]:
    """Raw replay text: every token trained, an EOS at the end (as TRL does for text)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        ids = ids + [tokenizer.eos_token_id]
    return {"input_ids": ids, "assistant_masks": [1] * len(ids)}


def check_conversations(rows: list[dict[str, Any]], file: Path | str | None = None) -> None:
    """Every row's messages are {role, content} objects with at least one assistant turn."""
    for n, row in enumerate(rows, start=1):
        messages = row["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise InputError(
                f"row {n}: messages must be a list of {{role, content}} objects", file=file, field="messages"
            )
        if not any(m["role"] == "assistant" for m in messages):
            raise InputError(f"row {n} has no assistant message", file=file, field="messages")


def build_aft_examples(
    tokenizer: Any,
    rows: list[dict[str, Any]],
    *,
    reasoning: Literal["none", "keep"],
    chat_template: str,
    file: Path | str | None = None,
) -> list[dict[str, list[int]]]:
    """Tokenized conversations; raises `InputError` on a malformed row."""
    check_conversations(rows, file)
    examples = []
    for row in rows:
        example = tokenize_conversation(tokenizer, apply_reasoning(row["messages"], reasoning), chat_template)
        if 1 not in example["assistant_masks"]:
            raise InputError(
                "the chat template marks no assistant tokens (check its {% generation %} markers)",
                file=file,
                field="chat_template",
            )
        examples.append(example)
    return examples


def aft(cfg: AFTConfig, *, callbacks: list[Any] | None = None) -> Path:
    """Fine-tune on the demonstrations in ``cfg.data`` and return the checkpoint folder.

    Returns at once when ``cfg.output_dir`` holds a finished run; resumes an interrupted one.
    """
    from datasets import Dataset

    if _sft.is_complete(cfg.output_dir):
        return Path(cfg.output_dir)
    if not cfg.data and not cfg.mix:
        raise InputError("at least one data file (or an instruction mix) is needed", field="data")
    per_file = [(p, _sft.read_jsonl(p, field="messages", config_field="data")) for p in cfg.data]
    for path, rows in per_file:
        check_conversations(rows, path)
    n_rows = sum(len(rows) for _, rows in per_file)
    mixed = mix_conversations(cfg, n_rows)
    if mixed:
        check_conversations(mixed, "mix")
        per_file.append(("mix", mixed))
    replay = _sft.replay_texts(cfg, n_rows)
    loaded = _sft.load_model(cfg)
    template = training_chat_template(loaded.tokenizer, cfg.chat_template_path)
    examples = []
    for path, rows in per_file:
        examples += build_aft_examples(
            loaded.tokenizer, rows, reasoning=cfg.reasoning, chat_template=template, file=path
        )
    examples += [tokenize_text(loaded.tokenizer, t) for t in replay]
    provenance = _sft.Provenance(
        stage="aft",
        data=list(cfg.data)
        + [Path(m) for m in cfg.mix if mix_is_local(m)]
        + (list(cfg.replay) if replay else []),
        extra_hyperparameters={
            "n_conversations": n_rows,
            "n_mix": len(mixed),
            "mix": list(cfg.mix),
            "n_replay": len(replay),
        },
    )
    # The template the model was trained with is the one it should be evaluated with.
    loaded.tokenizer.chat_template = template
    return _sft.run_sft(cfg, loaded, Dataset.from_list(examples), provenance, callbacks=callbacks)
