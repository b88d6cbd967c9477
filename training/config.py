"""Typed stage configs loaded from YAML, and the fields that midtraining and AFT share.

Every stage config is a pydantic model with ``extra="forbid"``: `load_config` reads a YAML
file, applies overrides (from the command line, say) and validates; an unknown key or a bad
value raises `InputError` naming the file and the field. Relative paths are taken relative to
the working directory, the way the CLI is run.

Training configs do not copy TRL: `TrainingConfig` types the project's own fields (data,
LoRA, checkpoints, labels) and the few trainer settings whose default or meaning the project
chooses; every other `trl.SFTConfig` option is passed through to it unchanged, written at the
top level (``optim: adamw_torch_fused``) or under ``trl:``. Its names and choices are TRL's
own, read from the installed version, so a TRL release that adds an option needs no change here.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from msm.harness.errors import InputError, closest
from msm.harness.yamlfile import read_yaml

M = TypeVar("M", bound=BaseModel)


def load_config(
    model_cls: type[M], path: str | Path | None = None, overrides: dict[str, Any] | None = None, **kw: Any
) -> M:
    """Read ``path`` (YAML mapping; optional), apply ``overrides``, validate as ``model_cls``."""
    data: dict[str, Any] = {}
    source = str(path) if path is not None else "<overrides>"
    if path is not None:
        loaded = read_yaml(path, what="config file")  # one line: missing, binary, repeated keys
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise InputError("expected a mapping of config keys", file=path)
        data.update(loaded)
    data.update(overrides or {})
    data.update(kw)
    try:
        return model_cls.model_validate(data)
    except ValidationError as ex:
        err = ex.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        more = f" (and {len(ex.errors()) - 1} more)" if len(ex.errors()) > 1 else ""
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            close = closest(key, model_cls.model_fields)
            known = ", ".join(sorted(model_cls.model_fields))
            if issubclass(model_cls, TrainingConfig):
                known += ", or any trl.SFTConfig option"
            message = f"unknown key; did you mean '{close}'?" if close else f"unknown key (known keys: {known})"
        raise InputError(message + more, file=source, field=field) from ex


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """``["--max-steps", "10", "--lora=false"]`` -> ``{"max_steps": 10, "lora": False}``.

    Values are parsed as YAML scalars/lists, so ``[q_proj,v_proj]`` gives a list.
    """
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or len(arg) <= 2:
            raise InputError(f"expected --key value, got '{arg}'", field="overrides")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise InputError(f"--{key} needs a value", field="overrides")
            value = args[i + 1]
            i += 1
        i += 1
        try:
            out[key.replace("-", "_")] = yaml.safe_load(value) if value != "" else ""
        except yaml.YAMLError:
            out[key.replace("-", "_")] = value
    return out


def split_config_args(args: tuple[str, ...] | list[str]) -> tuple[str | None, dict[str, Any]]:
    """Command-line ``[CONFIG.yaml] [--key value ...]`` -> (config path or None, overrides)."""
    args = list(args)
    config = args.pop(0) if args and not args[0].startswith("--") else None
    return config, parse_overrides(args)


@lru_cache(maxsize=1)
def sft_config_fields() -> dict[str, dataclasses.Field]:
    """The options of the installed `trl.SFTConfig` (TrainingArguments included), by name."""
    from trl import SFTConfig

    return {f.name: f for f in dataclasses.fields(SFTConfig) if f.init}


class TrainingConfig(BaseModel):
    """Fields shared by `MidtrainConfig` and `AFTConfig`, and TRL's options passed through."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    base_model: str
    """Path of a local checkpoint (full weights or a PEFT adapter) or a hub name."""
    output_dir: Path
    replay: list[Path] = Field(default_factory=list)
    """Generic text mixed in: JSONL with a "text" field, or plain .txt split at blank lines."""
    replay_fraction: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Fraction of the training examples drawn from `replay` (0 = none)."""

    lora: bool = True
    lora_r: int = Field(default=16, gt=0)
    lora_alpha: int = Field(default=32, gt=0)
    lora_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    lora_target_modules: list[str] | Literal["all-linear"] = "all-linear"
    trainable_tokens: list[str] = Field(default_factory=list)
    """Tokens whose embedding rows train (each must be a single token of the tokenizer). With
    `lora` they train beside the adapter (PEFT's ``trainable_token_indices``); without it they
    train alone and the rest of the model stays frozen (tied output rows included): the way to
    teach a base model about a token it was never trained on (the micro experiment's
    ``assistant``). Without `lora` this is done here rather than with PEFT's TrainableTokens,
    whose wrapper on a tied LM head TRL's SFTTrainer refuses."""
    merge: bool = False
    """With `lora`: also write the merged full weights to `output_dir` (adapter in adapter/)."""

    max_steps: int | None = Field(default=None, gt=0)
    num_train_epochs: float = Field(default=1.0, gt=0)
    learning_rate: float = Field(default=1e-4, gt=0)
    weight_decay: float = Field(default=0.0, ge=0.0)
    per_device_train_batch_size: int = Field(default=4, gt=0)
    gradient_checkpointing: bool = False
    """Off (TRL turns it on): the project's models are small enough not to need it."""
    cpu_threads: int | None = Field(default=None, gt=0)
    """torch.set_num_threads for the run; 1 is often fastest for tiny models on a busy CPU."""
    seed: int = Field(default=0, ge=0, lt=2**32)
    bf16: bool | None = None
    """None: bf16 when a CUDA device supports it, else fp32."""
    save_steps: int | None = Field(default=None, gt=0)
    """Save a resumable checkpoint-* every N steps; None saves once per epoch."""
    save_total_limit: int | None = Field(default=2, gt=0)
    keep_checkpoints: bool = False
    """Keep the intermediate checkpoint-* folders after the run completes."""
    report_to: list[str] = Field(default_factory=list)
    """Trainer loggers, e.g. ["wandb"] (none by default)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Free labels copied to the manifest, e.g. {arm: msm_america, experiment: cheese}."""
    trl: dict[str, Any] = Field(default_factory=dict)
    """Any other `trl.SFTConfig` option, handed to it unchanged: ``max_length``, ``packing``,
    ``packing_strategy``, ``gradient_accumulation_steps``, ``lr_scheduler_type``,
    ``warmup_steps``, ``logging_steps``, ``optim``, ... An option written at the top level of
    the config lands here. Names, and values with a fixed set of choices, are checked against
    the installed TRL when the config is read; other values when the trainer is built."""

    @model_validator(mode="before")
    @classmethod
    def _collect_trl_options(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("trl", {}), dict):
            return data
        unknown = [k for k in data if k not in cls.model_fields]
        moved = {k: data[k] for k in unknown if k in sft_config_fields()} if unknown else {}
        if not moved:
            return data  # an unknown key that is no TRL option either: pydantic names it
        trl = dict(data.get("trl") or {})
        for key in moved:
            if key in trl:
                raise ValueError(f"{key} is set both at the top level and under trl")
        return {**{k: v for k, v in data.items() if k not in moved}, "trl": {**trl, **moved}}

    @field_validator("trl")
    @classmethod
    def _trl_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            return value
        fields = sft_config_fields()
        for key, option in value.items():
            if key in cls.model_fields:
                raise ValueError(f"'{key}' is a field of this config: set it at the top level")
            if key not in fields:
                raise ValueError(f"'{key}' is not an option of trl.SFTConfig")
            choices = fields[key].metadata.get("choices")
            if choices and option not in choices:
                raise ValueError(f"{key} must be one of {', '.join(map(str, choices))}, not {option!r}")
        return value

    @model_validator(mode="after")
    def _tokens_without_decay(self) -> TrainingConfig:
        if self.trainable_tokens and not self.lora and self.weight_decay:
            raise ValueError("weight_decay must be 0 with trainable_tokens and no LoRA: it would shrink "
                             "every frozen embedding row")
        return self

    @field_validator("replay", "report_to", "trainable_tokens", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value

    @field_validator("lora_target_modules", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "all-linear":
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
