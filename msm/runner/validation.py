"""Stage configs: each stage's config class and entry point, validated with errors that say
where in the experiment file the bad key was set, and reduced to the identity its key hashes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from msm.experiment import Experiment, _spec_ref
from msm.harness.errors import InputError

NOT_HASHED = {
    "output_dir",
    "out",
    "labels",
    "progress",
    "max_connections",
    "batch",
    "logging_steps",
    "report_to",
    "save_steps",
    "save_total_limit",
    "keep_checkpoints",
    "cache",
}


def identity_dump(config: Any, identities: dict[str, str]) -> Any:
    """The config as JSON with fields that do not matter dropped and every path replaced by
    the identity of what it holds (a file's hash, a step's key)."""
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else config

    def sub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items() if k not in NOT_HASHED}
        if isinstance(value, list):
            return [sub(v) for v in value]
        if isinstance(value, str) and value in identities:
            return identities[value]
        return value

    return sub(data)


def stage_api(kind: str) -> tuple[type[BaseModel], Callable[..., Any]]:
    modules = {
        "docgen": ("msm.training.docgen", "DocgenConfig", "generate_documents"),
        "midtrain": ("msm.training.midtrain", "MidtrainConfig", "midtrain"),
        "aft": ("msm.training.aft", "AFTConfig", "aft"),
        "pretrain": ("msm.training.micro.pretrain", "MicroPretrainConfig", "pretrain"),
    }
    module_name, cfg_name, fn_name = modules[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as ex:
        raise InputError(f"stage '{kind}' is not available ({ex})", field=kind) from ex
    return getattr(module, cfg_name), getattr(module, fn_name)


def validate_config(
    exp: Experiment, kind: str, cls: type[BaseModel], data: dict[str, Any], field_: str
) -> BaseModel:
    """Validate a stage config; an error names where in the file the bad key was set."""
    try:
        return cls.model_validate(data)
    except ValidationError as ex:
        err = ex.errors()[0]
        loc = [str(p) for p in err["loc"]]
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        where = field_
        parts = field_.split(".")
        if loc and len(parts) == 3 and parts[0] == "arms":
            arm = exp.arms[parts[1]]
            if loc[0] not in getattr(arm, kind, {}) and loc[0] in getattr(exp.defaults, kind, {}):
                where = f"defaults.{kind}"
        raise InputError(msg, file=exp.path, field=".".join([where, *loc])) from ex


def resolve_spec(exp: Experiment, spec: str) -> Path:
    from msm.harness.specs import spec_path as find_spec

    return find_spec(_spec_ref(exp, spec)).resolve()
