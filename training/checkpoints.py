"""Arms that evaluate an existing checkpoint instead of training one.

An arm with ``checkpoint:`` and no stages is evaluated as it is::

    arms:
      released_msm_aft:
        checkpoint: Qwen/Qwen3-32B:chloeli/qwen-3-32b-philosophy-spec-msm-aft-no-cot
        spec: philosophy              # labels only: nothing is trained
        checkpoint_stage: msm+aft

The value is one of

- a local folder (full weights, or a PEFT adapter whose ``adapter_config.json`` names its base),
- a hub model id (``org/name``),
- ``base:adapter``: a LoRA adapter (local folder or hub id) on a base model (local folder or hub
  id); the base given here wins over the one the adapter's config names.

Validation never downloads: local paths must exist, hub ids are only checked for their form.
`fetch_lines` says, for ``--dry-run``, which hub repositories are already in the local
Hugging Face cache (with their size there) and which an evaluation would fetch.

Evaluation goes through the experiment's provider: ``vllm/<base>:<adapter>`` (Inspect's vLLM
provider loads the adapter with ``enable_lora``), or ``hf/<folder>``. For ``hf/`` with an adapter
whose config names another base, `prepare_hf_adapter` writes a small folder under the runs
folder: the adapter's files linked, its config pointing at the given base, and the base's
tokenizer beside them, which transformers loads as base + adapter.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msm.harness.errors import InputError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
)


@dataclass(frozen=True)
class ModelRef:
    """One part of a checkpoint value: a local path or a hub id."""

    text: str
    local: Path | None
    """The resolved path when the part names a local folder."""

    @property
    def hub_id(self) -> str | None:
        """The hub id when this names a hub model, None for a local folder."""
        return None if self.local is not None else self.text

    @property
    def name(self) -> str:
        """The local folder or the hub id, as text."""
        return str(self.local) if self.local is not None else self.text


@dataclass(frozen=True)
class CheckpointRef:
    """A parsed ``checkpoint:`` value: a model, or an adapter on a base."""

    model: ModelRef
    """The full-weights model, or the adapter when `base` is set."""
    base: ModelRef | None = None

    @property
    def identity(self) -> str:
        """What the evaluation folder is keyed by (a changed value gives a new folder)."""
        return f"{self.base.name}:{self.model.name}" if self.base else self.model.name

    def hub_ids(self) -> list[str]:
        """The hub ids this checkpoint needs (its base and its model), for the fetch list."""
        parts = [self.base, self.model] if self.base else [self.model]
        return [p.hub_id for p in parts if p is not None and p.hub_id]

    def model_string(
        self, provider: str, work_dir: Path, local: Callable[[Path, str], str]
    ) -> str:
        """The Inspect model string that evaluates this checkpoint with `provider`; `local`
        gives the string of a local folder (the runner's `checkpoint_model_string`, so a local
        checkpoint loads like the runner's own: ``msm-hf/`` for ``hf`` on the CPU)."""
        if self.base is None:
            if self.model.local is not None:
                return local(self.model.local, provider)
            return f"{provider}/{self.model.text}"
        if provider == "vllm":
            return f"vllm/{self.base.name}:{self.model.name}"
        return local(prepare_hf_adapter(self, work_dir), provider)


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~", "\\")) or not _HUB_ID.match(text)


def parse(value: str, *, root: Path, file: Path, field: str) -> CheckpointRef:
    """Parse and check a ``checkpoint:`` value (nothing is downloaded); `InputError` names the
    field when a local path does not exist or a part is neither a path nor a hub id."""
    value = value.strip()
    if not value:
        raise InputError("empty checkpoint", file=file, field=field)
    if ":" in value and not re.match(r"^[A-Za-z]:[\\/]", value):
        base_text, _, adapter_text = value.partition(":")
        if not base_text or not adapter_text:
            raise InputError(
                f"'{value}': expected 'base:adapter' with both parts", file=file, field=field
            )
        return CheckpointRef(
            _part(adapter_text, root, file, field, "adapter"),
            _part(base_text, root, file, field, "base model"),
        )
    return CheckpointRef(_part(value, root, file, field, "checkpoint"))


def _part(text: str, root: Path, file: Path, field: str, what: str) -> ModelRef:
    candidate = Path(text).expanduser()
    path = candidate if candidate.is_absolute() else root / candidate
    if _looks_like_path(text) or path.exists():
        if not path.exists():
            raise InputError(f"{what} path '{text}' does not exist", file=file, field=field)
        if not path.is_dir():
            raise InputError(
                f"{what} path '{text}' is not a folder (a Hugging Face checkpoint folder)",
                file=file,
                field=field,
            )
        return ModelRef(text, path.resolve())
    return ModelRef(text, None)


def validate_arm(exp: Any, name: str, arm: Any) -> CheckpointRef | None:
    """Checks of a checkpoint arm (called by `msm.experiment.validate`)."""
    where = f"arms.{name}"
    if arm.checkpoint is None:
        if arm.checkpoint_stage is not None:
            raise InputError(
                "checkpoint_stage labels a checkpoint arm; this arm has no checkpoint",
                file=exp.path,
                field=f"{where}.checkpoint_stage",
            )
        return None
    if arm.stages:
        raise InputError(
            "a checkpoint arm trains nothing: drop 'stages' or 'checkpoint'",
            file=exp.path,
            field=f"{where}.checkpoint",
        )
    if arm.base is not None:
        raise InputError(
            "a checkpoint arm takes its base from the checkpoint ('base:adapter'): drop 'base'",
            file=exp.path,
            field=f"{where}.base",
        )
    if not arm.evaluate:
        raise InputError(
            "a checkpoint arm only evaluates: 'evaluate: false' leaves it nothing to do",
            file=exp.path,
            field=f"{where}.evaluate",
        )
    return parse(arm.checkpoint, root=exp.root, file=exp.path, field=f"{where}.checkpoint")


def arm_ref(exp: Any, name: str, arm: Any) -> CheckpointRef | None:
    """The arm's parsed checkpoint (None for an arm that trains or evaluates the base)."""
    return validate_arm(exp, name, arm)


# --------------------------------------------------------------------------------------------
# what an evaluation would fetch (offline: only the local Hugging Face cache is read)


def _cache_sizes() -> dict[str, int]:
    """Hub repo id -> bytes on disk, for every model repo in the local Hugging Face cache."""
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:  # noqa: BLE001 - no cache folder yet: nothing is cached
        return {}
    return {r.repo_id: r.size_on_disk for r in info.repos if r.repo_type == "model"}


def missing_from_cache(repos: list[str]) -> list[str]:
    """The hub repositories among `repos` that are not in the local Hugging Face cache."""
    cached = _cache_sizes()
    return [repo for repo in dict.fromkeys(repos) if repo not in cached]


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def fetch_lines(refs: dict[str, CheckpointRef]) -> list[str]:
    """One line per hub repository the checkpoint arms need: in the cache (and its size there)
    or to be fetched when the arm is evaluated. Reads the cache only; never downloads."""
    if not refs:
        return []
    cached = _cache_sizes()
    needed: dict[str, list[str]] = {}
    for arm, ref in refs.items():
        for repo in ref.hub_ids():
            needed.setdefault(repo, []).append(arm)
    lines = []
    for repo, arms in needed.items():
        who = ", ".join(arms) if len(arms) <= 3 else f"{len(arms)} arms"
        if repo in cached:
            lines.append(f"cached   {repo} ({_fmt_bytes(cached[repo])} on disk) [{who}]")
        else:
            lines.append(f"to fetch {repo} (not in the local cache; size unknown offline) [{who}]")
    return lines


# --------------------------------------------------------------------------------------------
# hf/ evaluation of an adapter on a given base


def _adapter_folder(ref: ModelRef) -> Path:
    if ref.local is not None:
        return ref.local
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(ref.text))


def prepare_hf_adapter(ref: CheckpointRef, work_dir: Path) -> Path:
    """A folder that transformers (Inspect's ``hf/``) loads as the base with the adapter: the
    adapter's files linked, ``adapter_config.json`` naming the given base, and a tokenizer
    (the adapter's own if it ships one, else the base's)."""
    assert ref.base is not None
    adapter = _adapter_folder(ref.model)
    config_path = adapter / "adapter_config.json"
    if not config_path.is_file():
        raise InputError(
            "no adapter_config.json: not a PEFT adapter (use the folder alone, without 'base:')",
            file=adapter,
            field="checkpoint",
        )
    digest = hashlib.sha256(ref.identity.encode()).hexdigest()[:12]
    out = work_dir / f"checkpoint-{digest}"
    out.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = ref.base.name
    for item in adapter.iterdir():
        target = out / item.name
        if item.name == "adapter_config.json" or target.exists() or target.is_symlink():
            continue
        target.symlink_to(item.resolve())
    tmp = out / "adapter_config.json.tmp"
    tmp.write_text(json.dumps(config, indent=2))
    tmp.replace(out / "adapter_config.json")
    if not any((out / f).exists() for f in ("tokenizer.json", "tokenizer_config.json")):
        if ref.base.local is not None:
            for name in _TOKENIZER_FILES:
                src = ref.base.local / name
                if src.is_file() and not (out / name).exists():
                    shutil.copy2(src, out / name)
        else:
            from transformers import AutoTokenizer

            AutoTokenizer.from_pretrained(ref.base.text).save_pretrained(out)
    return out
