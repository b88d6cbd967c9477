"""What each stage does when it runs: the functions the plan's steps call with their config.

The planner (`msm.runner.planning`) binds each to its inputs; each returns the stage's
result (``{"path": ..., ...}``), which the executor writes to the stage's marker.
"""

from __future__ import annotations

import inspect as pyinspect
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.markup import escape

from msm.experiment import DataBuild, DeliberativeSettings, Experiment, project_task
from msm.harness.errors import InputError
from msm.harness.fileio import write_jsonl_atomic
from msm.runner.evaluation import eval_roles, generate_args, make_tasks, open_model
from msm.runner.plan import StageFailed
from msm.runner.progress import console


def run_data_build(
    fn: Callable[..., Any], build: DataBuild, out: Path, exp_path: Path | None, _cfg: Any
) -> dict[str, str]:
    """A built data file (``build: module:function``): the rows it returns, or the file it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "data.jsonl"
    kwargs = dict(build.args)
    if "out" in pyinspect.signature(fn).parameters:
        kwargs["out"] = target
    value = fn(**kwargs)
    if isinstance(value, (str, Path)) and Path(value).is_file():
        return {"path": str(value)}
    if isinstance(value, list):
        write_jsonl_atomic(target, value)
    if not target.is_file():
        raise InputError(
            f"'{build.build}' returned neither rows nor a file", file=exp_path, field="build"
        )
    return {"path": str(target)}


def run_docgen(fn: Callable[..., Any], model_override: Any, cfg: Any) -> dict[str, str]:
    """Generate documents; a run short of its target fails (a rerun continues it)."""
    result = fn(cfg, model=model_override) if model_override is not None else fn(cfg)
    if not getattr(result, "complete", True):
        raise StageFailed(
            f"docgen kept {result.n_kept} documents, short of its target (see {result.report}); "
            "rerun to continue"
        )
    return {
        "path": str(result.documents),
        "report": str(result.report),
        "n_kept": str(result.n_kept),
    }


def run_deliberative(
    exp: Experiment,
    roles: dict[str, Any],
    settings: DeliberativeSettings,
    spec_path: Path,
    out: Path,
    cfg: dict[str, Any],
) -> dict[str, str]:
    """The teacher answers the deliberative task with the spec in context (an `eval_set`);
    its transcripts become AFT data with and without the reasoning."""
    from inspect_ai import eval_set

    from msm.training.deliberative import build_deliberative_data

    args = dict(settings.task_args)
    fn = project_task(settings.task)
    if fn is not None and "spec" in pyinspect.signature(fn).parameters:
        args.setdefault("spec", str(spec_path))
    tasks = make_tasks(exp, settings.task, args, settings.epochs, settings.limit)
    log_dir = out / "logs"
    with open_model(cfg["teacher"], exp) as teacher:
        ok, logs = eval_set(
            tasks,
            log_dir=str(log_dir),
            model=teacher,
            model_roles=eval_roles(roles),
            retry_attempts=exp.eval.retry_attempts,
            display=exp.eval.display,
            **generate_args(exp),
        )
    if not ok:
        raise StageFailed(f"the deliberative teacher task did not finish (logs in {log_dir}); rerun")
    res = build_deliberative_data(Path(logs[0].location), out / "data")
    return {
        "path": str(out / "data"),
        "with_cot": str(res.with_cot),
        "without_cot": str(res.without_cot),
        "report": str(res.report),
    }


def run_training(
    exp: Experiment, kind: str, fn: Callable[[BaseModel], Any], out: Path, cfg: BaseModel
) -> dict[str, str]:
    """Midtrain or AFT (documents audited first), in this process or under accelerate."""
    if kind == "midtrain":
        audit_documents(exp, cfg)
    if exp.launch.launcher == "accelerate":
        accelerate(exp, kind, cfg, out)
    return {"path": str(fn(cfg))}


def audit_documents(exp: Experiment, cfg: Any) -> None:
    """Audit the documents about to be midtrained on against every evaluation family
    (`experiment.audit`: warn, strict or off; see `msm.harness.audit.audit_documents`). Micro-world
    documents are in the micro language: lexical evidence only, no English embedding model."""
    import msm.tasks.agentic_misalignment  # noqa: F401  registers its prompts with the audit
    from msm.harness.audit import audit_documents

    audit_documents(cfg.documents, exp.audit, semantic=isinstance(exp.base, str))


def accelerate(exp: Experiment, kind: str, cfg: BaseModel, out: Path) -> None:
    """Run a training stage under ``accelerate launch`` (FSDP/DeepSpeed via its own config)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg_file = out.parent / f"{out.name}.config.json"
    cfg_file.write_text(cfg.model_dump_json(indent=2))
    # through this interpreter, not an `accelerate` found on PATH: `.venv/bin/msm run` works
    # without an activated venv, and the stage runs in the same environment as the runner
    cmd = [sys.executable, "-m", "accelerate.commands.launch"]
    if exp.launch.config_file:
        cmd += ["--config_file", str(exp.resolve(exp.launch.config_file))]
    if exp.launch.num_processes:
        cmd += ["--num_processes", str(exp.launch.num_processes)]
    cmd += [*exp.launch.extra_args, "-m", "msm.training._launch", kind, str(cfg_file)]
    console.print(f"  $ {escape(shlex.join(cmd))}", soft_wrap=True)
    subprocess.run(cmd, check=True)
