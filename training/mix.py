"""The instruction-tuning mix of the paper's AFT recipe.

The paper mixes every AFT set with one shared instruction-tuning set, and its baseline arm is a
LoRA trained on that mix alone. In an AFT config (or an experiment's ``aft:`` settings)::

    mix: [allenai/tulu-3-sft-mixture]   # hub dataset names (read from the local datasets
                                        # cache) or local JSONL files of {"messages": [...]}
    mix_split: train
    mix_fraction: 0.5                   # the mix's share of the AFT set, or
    mix_rows: 5000                      # a fixed number of mix conversations

`mix_conversations` draws the rows (without replacement, with the config's seed), so the same
config always trains on the same mix. An arm with ``mix`` and no ``data`` trains on the mix
alone; it needs ``mix_rows`` (a fraction of nothing is nothing), and ``mix_fraction: null``
drops a fraction set in the experiment's defaults.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from msm.harness.errors import InputError

_HUB_DATASET_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


def is_local(value: str | Path) -> bool:
    """Whether a mix entry names a local file (JSONL) rather than a hub dataset."""
    text = str(value)
    return (
        text.endswith((".jsonl", ".json"))
        or text.startswith(("/", "./", "../", "~"))
        or Path(text).exists()
        or text.count("/") != 1
        or not set(text) <= _HUB_DATASET_CHARS
    )


def check_settings(settings: dict[str, Any], *, resolve: Any, file: Path, field: str) -> None:
    """Experiment-file checks of the mix settings of one AFT block (nothing is downloaded)."""
    if not settings.get("mix"):
        for key in ("mix_fraction", "mix_rows", "mix_split"):
            if settings.get(key) is not None:
                raise InputError(f"{key} without a mix", file=file, field=f"{field}.{key}")
        return
    mix = settings["mix"]
    items = mix if isinstance(mix, list) else [mix]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise InputError(
            "expected a hub dataset name or a JSONL path (or a list of them)",
            file=file,
            field=f"{field}.mix",
        )
    for item in items:
        if is_local(item) and not Path(resolve(item)).is_file():
            raise InputError(f"mix file '{item}' not found", file=file, field=f"{field}.mix")
    if settings.get("mix_fraction") is not None and settings.get("mix_rows") is not None:
        raise InputError(
            "give mix_fraction or mix_rows, not both", file=file, field=f"{field}.mix_rows"
        )


def _read(entry: Path | str, split: str) -> list[dict[str, Any]]:
    from msm.training import _sft

    if is_local(entry):
        return _sft.read_jsonl(entry, field="messages", config_field="mix")
    from datasets import load_dataset

    try:
        ds = load_dataset(str(entry), split=split)
    except Exception as ex:
        first = (str(ex).strip().splitlines() or [type(ex).__name__])[0]
        raise InputError(
            f"cannot load hub dataset '{entry}' split '{split}' ({first}); download it first "
            "(`huggingface-cli download --repo-type dataset NAME`) or give a local JSONL",
            field="mix",
        ) from ex
    if "messages" not in ds.column_names:
        raise InputError(
            f"hub dataset '{entry}' has no 'messages' column (columns: "
            f"{', '.join(ds.column_names)})",
            field="mix",
        )
    return [{"messages": m} for m in ds["messages"]]


def mix_conversations(cfg: Any, n_main: int) -> list[dict[str, Any]]:
    """The mix rows for an AFT run with `n_main` demonstrations of its own (sampled with
    ``cfg.seed``, without replacement; `InputError` when the mix is too small)."""
    if not cfg.mix:
        return []
    if cfg.mix_rows is not None:
        n = cfg.mix_rows
    elif cfg.mix_fraction is not None:
        if n_main == 0:
            raise InputError(
                "the mix alone (no data) needs mix_rows; mix_fraction is a share of the data",
                field="mix_fraction",
            )
        n = round(n_main * cfg.mix_fraction / (1 - cfg.mix_fraction))
    else:
        raise InputError("a mix needs mix_fraction or mix_rows", field="mix")
    pool: list[dict[str, Any]] = []
    for entry in cfg.mix:
        pool += _read(entry, cfg.mix_split)
    if n > len(pool):
        raise InputError(
            f"{n} mix conversations asked for, but the mix has {len(pool)}", field="mix_rows"
        )
    rng = random.Random(cfg.seed)
    return rng.sample(pool, n)


# --------------------------------------------------------------------------------------------
# experiment-file checks of the recipe (called by `msm.experiment.validate`)


def has_mix(exp: Any, arm: Any) -> bool:
    """Whether the arm's AFT data is a mix (``aft.mix``)."""
    return bool(exp.stage_settings(arm, "aft").get("mix"))


def check_arm(exp: Any, name: str, arm: Any) -> None:
    """The mix settings of an arm's AFT, and an AFT that continues the MSM adapter: when
    midtraining keeps its LoRA adapter (``merge: false``) AFT trains that same adapter further,
    so an AFT ``lora_r``/``lora_alpha``/``lora_target_modules`` different from midtraining's
    would be silently ignored; it is refused instead."""
    where = f"arms.{name}"
    if "mix" in arm.aft or "mix" in exp.defaults.aft:
        origin = f"{where}.aft" if "mix" in arm.aft else "defaults.aft"
    else:
        origin = f"{where}.aft"
    if "aft" in arm.stages:
        settings = exp.stage_settings(arm, "aft")
        check_settings(settings, resolve=exp.resolve, file=exp.path, field=origin)
        alone = not settings.get("data") and not arm.aft_data_from
        if settings.get("mix") and alone and settings.get("mix_rows") is None:
            raise InputError(
                "an AFT on the mix alone (no data) needs mix_rows; mix_fraction is a share of "
                "the data",
                file=exp.path,
                field=f"{where}.aft.mix_rows",
            )
    if "midtrain" not in arm.stages or "aft" not in arm.stages:
        return
    mid = exp.stage_settings(arm, "midtrain")
    aft = exp.stage_settings(arm, "aft")
    if not mid.get("lora", True) or mid.get("merge", False) or not aft.get("lora", True):
        return
    for key in ("lora_r", "lora_alpha", "lora_target_modules"):
        if key in aft and key in mid and aft[key] != mid[key]:
            field = f"{where}.aft.{key}" if key in arm.aft else f"defaults.aft.{key}"
            raise InputError(
                f"AFT continues the midtraining adapter (midtrain.merge is false), whose {key} is "
                f"{mid[key]}; drop aft.{key} or set it to the same value",
                file=exp.path,
                field=field,
            )
