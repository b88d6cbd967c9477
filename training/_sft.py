"""What midtraining and AFT share: reading data, loading the model, TRL's SFTTrainer run,
resume, adapter merge and the manifest. Each stage module builds its dataset and calls
`run_sft`; nothing here knows which stage it serves beyond the manifest's ``stage``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msm.harness.errors import InputError, one_line
from msm.harness.fileio import file_hash
from msm.harness.manifest import Manifest, Stage, read_manifest, write_manifest
from msm.training.config import TrainingConfig

log = logging.getLogger(__name__)

ADAPTER_SUBDIR = "adapter"
LOG_HISTORY_FILE = "log_history.json"


# ---------------------------------------------------------------- data files


def read_jsonl(path: str | Path, *, field: str, config_field: str) -> list[dict[str, Any]]:
    """Rows of a JSONL file; every row must be an object with a non-empty ``field``."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, field=config_field)
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as ex:
                raise InputError(f"line {n} is not valid JSON ({ex.msg})", file=path) from ex
            if not isinstance(row, dict) or field not in row:
                raise InputError(f"line {n} has no '{field}'", file=path, field=field)
            if not row[field]:
                raise InputError(f"line {n} has an empty '{field}'", file=path, field=field)
            rows.append(row)
    if not rows:
        raise InputError("no rows (the file is empty)", file=path, field=config_field)
    return rows


def read_texts(path: str | Path, *, config_field: str) -> list[str]:
    """Generic text: JSONL with "text", or a plain text file split at blank lines."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return [str(r["text"]) for r in read_jsonl(path, field="text", config_field=config_field)]
    if not path.is_file():
        raise InputError("file not found", file=path, field=config_field)
    texts = [t.strip() for t in path.read_text(encoding="utf-8").split("\n\n") if t.strip()]
    if not texts:
        raise InputError("no text (the file is empty)", file=path, field=config_field)
    return texts


def replay_texts(cfg: TrainingConfig, n_main: int) -> list[str]:
    """Replay examples so they make up ``replay_fraction`` of the mix (sampled with the seed)."""
    if cfg.replay_fraction == 0:
        return []
    if not cfg.replay:
        raise InputError(f"replay_fraction is {cfg.replay_fraction} but no replay file is given", field="replay")
    pool = [t for p in cfg.replay for t in read_texts(p, config_field="replay")]
    n = round(n_main * cfg.replay_fraction / (1 - cfg.replay_fraction))
    rng = random.Random(cfg.seed)
    if n <= len(pool):
        return rng.sample(pool, n)
    return [pool[i % len(pool)] for i in range(n)]  # cycle when the pool is small


# ---------------------------------------------------------------- model loading


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    root_base: str
    """The original base model at the root of the lineage."""
    adapter_base: str
    """Full weights the new adapter (if any) applies to."""
    parent_manifest: Manifest | None
    continue_adapter: bool = False


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or Path(name).exists() or name.count("/") > 1


def _as_recorded(name: str) -> str:
    """Local paths are recorded absolute (a manifest is read from other folders); hub names as is."""
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def load_model(cfg: TrainingConfig) -> Loaded:
    """The model and tokenizer to train, from the config's base model (a local folder or a hub id), with its lineage."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = cfg.base_model
    path = Path(name).expanduser()
    if _looks_like_path(name) and not path.is_dir():
        raise InputError(f"no checkpoint folder at '{name}'", field="base_model")
    parent = read_manifest(path) if path.is_dir() else None
    root = parent.base_model if parent else _as_recorded(name)
    use_bf16 = _bf16(cfg)
    dtype = torch.bfloat16 if (use_bf16 and cfg.lora) else torch.float32
    is_adapter = path.is_dir() and (path / "adapter_config.json").is_file()
    source = str(path) if path.is_dir() else name
    try:
        if cfg.lora and not is_adapter and cfg.lora_target_modules != "all-linear":
            # Check LoRA targets on an empty (meta-device) model before loading any weights.
            from transformers import AutoConfig

            with torch.device("meta"):
                skeleton = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source))
            check_lora_targets(skeleton, cfg.lora_target_modules)
        if is_adapter:
            from peft import PeftModel

            base = (parent.adapter_base if parent else None) or json.loads(
                (path / "adapter_config.json").read_text()
            ).get("base_model_name_or_path")
            model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
            model = PeftModel.from_pretrained(model, str(path), is_trainable=cfg.lora)
            if not cfg.lora:
                model = model.merge_and_unload()
            adapter_base = base
        else:
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
            adapter_base = str(path.resolve()) if path.is_dir() else name
        tokenizer = AutoTokenizer.from_pretrained(source)
    except InputError:
        raise
    except (OSError, ValueError) as ex:
        what = "" if path.exists() else " (no such folder, and not a hub model found online or in the cache)"
        raise InputError(
            f"cannot load '{name}'{what}: {str(ex).splitlines()[0]}", field="base_model"
        ) from ex
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return Loaded(model, tokenizer, root, adapter_base, parent, continue_adapter=is_adapter and cfg.lora)


def token_ids(tokenizer: Any, tokens: list[str]) -> list[int]:
    """The ids of `tokens`, each of which must be a single token of the tokenizer."""
    ids = []
    for token in tokens:
        found = tokenizer(token, add_special_tokens=False)["input_ids"]
        if len(found) != 1 or found[0] == tokenizer.unk_token_id:
            raise InputError(f"'{token}' is not a single token of the tokenizer (it encodes to {found})",
                             field="trainable_tokens")
        ids.append(found[0])
    return ids


def build_peft_config(cfg: TrainingConfig, tokenizer: Any) -> Any:
    """The LoRA config of a run (with any trainable tokens beside it), or None without LoRA."""
    from peft import LoraConfig

    if not cfg.lora:
        return None
    ids = token_ids(tokenizer, cfg.trainable_tokens)
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=cfg.lora_target_modules,
        trainable_token_indices=ids or None,
        task_type="CAUSAL_LM",
    )


def train_only_tokens(model: Any, ids: list[int]) -> None:
    """Freeze every weight but the rows of `ids` in the input embedding (and so in a tied LM
    head): the other rows get zero gradient, which AdamW without weight decay leaves as they are."""
    import torch

    for param in model.parameters():
        param.requires_grad_(False)
    weight = model.get_input_embeddings().weight
    weight.requires_grad_(True)
    keep = torch.zeros(weight.shape[0], 1, dtype=weight.dtype, device=weight.device)
    keep[ids] = 1
    weight.register_hook(lambda grad: grad * keep)


def check_lora_targets(model: Any, targets: list[str] | str) -> None:
    """Raise one clear line when a LoRA target names a module the model does not have."""
    import torch

    if targets == "all-linear":
        return
    names = [n for n, _ in model.named_modules()]
    linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
    for target in targets:
        if not any(n == target or n.endswith("." + target) for n in names):
            raise InputError(
                f"the model has no module '{target}' (its linear layers: {', '.join(linear)})",
                field="lora_target_modules",
            )


def _bf16(cfg: TrainingConfig) -> bool:
    if cfg.bf16 is not None:
        return cfg.bf16
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


# ---------------------------------------------------------------- training


@dataclass
class Provenance:
    stage: Stage
    data: list[Path]
    spec_name: str | None = None
    spec_hash: str | None = None
    extra_hyperparameters: dict[str, Any] = field(default_factory=dict)


def is_main_process() -> bool:
    """False in the other ranks of an ``accelerate launch`` / torchrun job."""
    return int(os.environ.get("RANK", "0")) == 0


def is_complete(output_dir: Path) -> bool:
    """Whether `output_dir` holds a finished checkpoint (its manifest is written last)."""
    return read_manifest(output_dir) is not None


def run_sft(
    cfg: TrainingConfig,
    loaded: Loaded,
    dataset: Any,
    provenance: Provenance,
    *,
    callbacks: list[Any] | None = None,
    **sft_kwargs: Any,
) -> Path:
    """Train with TRL's SFTTrainer, resuming from the last checkpoint-*, then save the final
    weights (adapter, and merged weights with ``merge``), the tokenizer and the manifest."""
    import torch

    Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    if cfg.cpu_threads:
        torch.set_num_threads(cfg.cpu_threads)
    try:
        return _train(cfg, loaded, dataset, provenance, callbacks, sft_kwargs)
    finally:
        torch.set_num_threads(threads)  # leave the caller's process as it was


def _train(
    cfg: TrainingConfig,
    loaded: Loaded,
    dataset: Any,
    provenance: Provenance,
    callbacks: list[Any] | None,
    sft_kwargs: dict[str, Any],
) -> Path:
    import torch
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    out = Path(cfg.output_dir)
    set_seed(cfg.seed)
    peft_config = None if loaded.continue_adapter else build_peft_config(cfg, loaded.tokenizer)
    if cfg.trainable_tokens and not cfg.lora:
        train_only_tokens(loaded.model, token_ids(loaded.tokenizer, cfg.trainable_tokens))
    clash = sorted(set(cfg.trl) & set(sft_kwargs))
    if clash:
        raise InputError(f"{clash[0]} is set by the {provenance.stage} stage itself", field=f"trl.{clash[0]}")
    options: dict[str, Any] = {
        # the trainer settings the project types (its defaults, and None meaning "auto")
        "output_dir": str(out),
        "max_steps": cfg.max_steps or -1,
        "num_train_epochs": cfg.num_train_epochs,
        "learning_rate": cfg.learning_rate,
        "weight_decay": cfg.weight_decay,
        "per_device_train_batch_size": cfg.per_device_train_batch_size,
        "gradient_checkpointing": cfg.gradient_checkpointing,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "bf16": _bf16(cfg),
        "fp16": False,
        "save_strategy": "steps" if cfg.save_steps else "epoch",
        "save_steps": cfg.save_steps or 500,
        "save_total_limit": cfg.save_total_limit,
        "report_to": cfg.report_to or "none",
        # what this harness needs unless the config says otherwise (no eval split, CPU-safe loading)
        "eval_strategy": "no",
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": torch.cuda.is_available(),
        "dataset_num_proc": None,
        **cfg.trl,
        **sft_kwargs,
    }
    try:
        args = SFTConfig(**options)
    except (TypeError, ValueError) as ex:
        raise InputError(f"trl.SFTConfig refused the options ({one_line(ex)})", field="trl") from ex
    trainer = SFTTrainer(
        model=loaded.model,
        args=args,
        train_dataset=dataset,
        processing_class=loaded.tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    resume = last_complete_checkpoint(out)
    if resume:
        log.warning("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)

    is_peft = cfg.lora
    adapter_dir = out / ADAPTER_SUBDIR if (is_peft and cfg.merge) else out
    trainer.save_model(str(adapter_dir))
    if trainer.is_world_process_zero():
        loaded.tokenizer.save_pretrained(str(adapter_dir))
        parent = loaded.parent_manifest
        hyper = cfg.model_dump(mode="json", exclude={"labels", "output_dir", "base_model", "trl"})
        hyper.update(cfg.model_dump(mode="json", include={"trl"})["trl"])  # TRL's options beside ours
        hyper.update(provenance.extra_hyperparameters)
        manifest = Manifest(
            stage=provenance.stage,
            base_model=loaded.root_base,
            parent=_as_recorded(cfg.base_model),
            adapter=is_peft,
            adapter_base=loaded.adapter_base if is_peft else None,
            spec_name=provenance.spec_name or (parent.spec_name if parent else None),
            spec_hash=provenance.spec_hash or (parent.spec_hash if parent else None),
            data_hashes={_as_recorded(str(p)): file_hash(p) for p in provenance.data},
            hyperparameters=hyper,
            seed=cfg.seed,
            labels={**(parent.labels if parent else {}), **cfg.labels},
        )
        (out / LOG_HISTORY_FILE).write_text(json.dumps(trainer.state.log_history, indent=1))
        if is_peft and cfg.merge:
            write_manifest(adapter_dir, manifest)
            merge_adapter(adapter_dir, out, manifest=manifest)
        else:
            write_manifest(out, manifest)  # written last: its presence marks the run complete
        if not cfg.keep_checkpoints:
            for ckpt in [*out.glob("checkpoint-*"), *out.glob("broken-checkpoint-*")]:
                shutil.rmtree(ckpt, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    return out


def _checkpoint_problem(ckpt: Path) -> str | None:
    """Why a ``checkpoint-*`` folder cannot be resumed from, or None if it looks complete.

    transformers writes ``trainer_state.json`` last, so a kill during a save leaves it out; a
    truncated weights file or a torch archive whose end is missing is also caught here (cheap
    checks: the safetensors header against the file size, the zip directory of ``*.pt``/``*.pth``).
    """
    import zipfile

    state = ckpt / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json"
    try:
        json.loads(state.read_text())
    except (OSError, ValueError):
        return "unreadable trainer_state.json"
    weights = list(ckpt.glob("*.safetensors"))
    if not weights and not list(ckpt.glob("*.bin")):
        return "no weights file"
    for path in weights:
        try:
            with path.open("rb") as fh:
                n = int.from_bytes(fh.read(8), "little")
                header = json.loads(fh.read(n))
            end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"),
                      default=0)
            if path.stat().st_size < 8 + n + end:
                return f"truncated {path.name}"
        except (OSError, ValueError, KeyError, TypeError):
            return f"unreadable {path.name}"
    for path in [*ckpt.glob("*.pt"), *ckpt.glob("*.pth")]:
        try:
            with zipfile.ZipFile(path):
                pass
        except (OSError, zipfile.BadZipFile):
            return f"truncated {path.name}"
    return None


def last_complete_checkpoint(out: Path) -> str | None:
    """The newest complete ``checkpoint-N`` under `out`; broken newer ones are set aside.

    A broken checkpoint (a kill during a save) is renamed ``broken-checkpoint-N`` so that
    neither this run nor transformers' checkpoint rotation picks it up again, and one line says
    so. Returns None when there is nothing to resume from.
    """
    if not out.is_dir():
        return None
    ckpts = [p for p in out.glob("checkpoint-*") if p.is_dir() and p.name[11:].isdigit()]
    for ckpt in sorted(ckpts, key=lambda p: int(p.name[11:]), reverse=True):
        problem = _checkpoint_problem(ckpt)
        if problem is None:
            return str(ckpt)
        aside = out / f"broken-{ckpt.name}"
        n = 1
        while aside.exists():
            n += 1
            aside = out / f"broken-{ckpt.name}.{n}"
        ckpt.rename(aside)
        log.warning("%s is incomplete (%s, a save was interrupted): set aside as %s",
                    ckpt, problem, aside.name)
    return None


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path, *, manifest: Manifest | None = None) -> Path:
    """Fold a LoRA adapter into its base weights (PEFT ``merge_and_unload``) and save the full
    checkpoint, tokenizer and manifest to ``out_dir`` (loadable as ``hf/<out_dir>``)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    manifest = manifest or read_manifest(adapter_dir)
    if manifest is None or not manifest.adapter:
        raise InputError("not an adapter written by msm train (no adapter manifest)", file=adapter_dir)
    base = AutoModelForCausalLM.from_pretrained(manifest.adapter_base, dtype="auto")
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out_dir))
    AutoTokenizer.from_pretrained(str(adapter_dir)).save_pretrained(str(out_dir))
    merged_manifest = manifest.model_copy(
        update={"adapter": False, "adapter_base": None, "parent": manifest.parent}
    )
    merged_manifest.hyperparameters = {**manifest.hyperparameters, "merged_from": str(adapter_dir)}
    write_manifest(out_dir, merged_manifest)
    return out_dir
