"""Experiment files: one YAML file names the arms, specs, seeds, tasks and stage settings.

`msm run experiments/NAME.yaml` (msm/runner/) trains what is missing and evaluates
every arm. This module is the file's schema and its validation: `load_experiment` reads the
file and checks all of it before anything starts, raising `InputError` with one line that
names the file and the field (unknown keys, missing specs or data files, a local base model
path that does not exist, stages out of order, unknown tasks or task arguments).

A minimal file::

    name: cheese_small
    base: meta-llama/Llama-3.1-8B          # hub name, local path, or {micro: {...}}
    seeds: [0, 1, 2]
    roles: {grader: openai/gpt-4.1-mini}
    defaults:                               # stage settings shared by every arm
      midtrain: {lora: true, max_steps: 500}
      aft: {data: [../data/cheese_aft.jsonl], max_steps: 200}
    tasks:
      - {task: values_generalization, epochs: 5, metric: america}
    leaderboard: {baseline: aft_only}
    arms:
      aft_only: {stages: [aft]}
      msm_america: {spec: pro_america, stages: [docgen, midtrain, aft]}

Relative paths in the file are relative to the file's own directory.

What a file may cause to run: the project's stages, tasks and registered data builders
(`DATA_BUILDERS`), and the models and providers it names. Anything else that executes code (a
data builder outside the registry, a task file ``*.py``, ``trust_remote_code``, a script in
``launch.extra_args``) is refused unless the caller opts in (``msm run --allow-code``,
``load_experiment(path, allow_code=True)``). What it may write: only under the runs and
results folders the user chose; names and arms are single path components, and the paths the
runner chooses (a stage's ``output_dir`` or ``out``) cannot be set.
"""

from __future__ import annotations

import inspect as pyinspect
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from msm.harness.errors import InputError
from msm.harness.reference import ReferenceRow, check_rows
from msm.harness.task_args import declared
from msm.harness.yamlfile import read_yaml

StageName = Literal["docgen", "deliberative", "midtrain", "aft"]
STAGE_ORDER: tuple[str, ...] = ("docgen", "deliberative", "midtrain", "aft")
"""Order of an arm's stages: docgen < midtrain < aft. Deliberative data only needs the base
model and the spec, so it may come anywhere before the AFT that uses it."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_NAME = re.compile(r"\w[\w.\-]*")
"""An experiment, arm or task label: one path component that stays where it is put (no
separator, no leading dot, so neither ``..`` nor a hidden folder)."""

DATA_BUILDERS: dict[str, str] = {
    "cheese_demonstrations": "msm.harness.cheese:cheese_demonstrations",
    "micro_cheese_demonstrations": "msm.training.micro.cheese:micro_cheese_demonstrations",
    "corpus_rows": "msm.training.micro.pretrain:corpus_rows",
}
"""The project's data builders, the functions ``{build: ...}`` may name without
``--allow-code`` (by this name or by its ``module:function``). Being in the project's packages
is not enough: `msm.harness.fileio.write_text_atomic` writes any text to any path its arguments
give."""

RUNNER_PATHS = ("output_dir", "out")
"""Stage settings the runner sets itself (``runs/NAME/<stage>-KEY/``): refused in the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_seeds(value: list[int] | None) -> list[int] | None:
    """Seeds are non-negative (numpy and torch reject others) and each is named once (a repeat
    would train and count the same arm twice)."""
    if value is None:
        return value
    for seed in value:
        if seed < 0 or seed >= 2**32:
            raise ValueError(f"seed {seed} is out of range (0 to 2**32 - 1)")
    repeated = sorted({s for s in value if value.count(s) > 1})
    if repeated:
        raise ValueError(f"seed {repeated[0]} is listed twice")
    return value


class MicroBase(_Strict):
    """``base: {micro: {...}}``: a micro-world model pretrained from scratch (cached)."""

    micro: dict[str, Any] = Field(default_factory=dict)
    """Fields of `msm.training.micro.pretrain.MicroPretrainConfig`."""
    shipped: bool = False
    """Start from the micro bases shipped in ``training/micro/bases/`` (as the paper starts from
    a released base model) instead of pretraining here; each must match ``micro`` and its seed."""
    per_seed: bool = False
    """Seed s of every arm starts from the base pretrained with seed s, so that bases are the
    unit of replication (``micro.seed`` is then left out)."""


class DataBuild(_Strict):
    """A data file produced by a Python function: ``{build: "module:function", args: {...}}``.

    The function is called with ``args`` and returns either the path of a file it wrote or a
    list of rows (dicts), which the runner writes as JSONL. Its output is cached by a hash of
    the function's source file and the arguments."""

    build: str
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("build")
    @classmethod
    def _target(cls, value: str) -> str:
        if value not in DATA_BUILDERS and not re.fullmatch(r"[\w.]+:[\w]+", value):
            raise ValueError(f"expected a data builder ({', '.join(DATA_BUILDERS)}) or "
                             "'package.module:function'")
        return value

    @property
    def target(self) -> str:
        """``module:function`` of the builder (a registered name resolved)."""
        return DATA_BUILDERS.get(self.build, self.build)


DataRef = str | DataBuild


class DeliberativeSettings(_Strict):
    """The deliberative-alignment data stage: teacher task, then the two datasets."""

    spec: str | None = None
    """The spec the teacher reasons from (default: the arm's spec). Set it in ``defaults`` to give
    every arm the same AFT data, e.g. when comparing specs."""
    teacher: str | None = None
    """Inspect model string of the teacher (default: the arm's base model, evaluated)."""
    task: str = "deliberative_alignment"
    task_args: dict[str, Any] = Field(default_factory=dict)
    epochs: int | None = Field(default=None, gt=0)
    limit: int | None = Field(default=None, gt=0)


class StageDefaults(_Strict):
    docgen: dict[str, Any] = Field(default_factory=dict)
    deliberative: dict[str, Any] = Field(default_factory=dict)
    midtrain: dict[str, Any] = Field(default_factory=dict)
    aft: dict[str, Any] = Field(default_factory=dict)


class TaskEntry(_Strict):
    task: str
    """A task of this project (``values_generalization``) or any Inspect task spec
    (``path/to/file.py@name``, ``inspect_evals/gpqa_diamond``)."""
    args: dict[str, Any] = Field(default_factory=dict)
    epochs: int | None = Field(default=None, gt=0)
    limit: int | None = Field(default=None, gt=0)
    metric: str | None = None
    """The score field the leaderboard reports (e.g. ``harmful``, ``america``)."""
    cluster: str | None = None
    """Sample metadata field that clusters repeated samples (e.g. ``item_id``)."""
    by: list[str] | None = None

    @property
    def label(self) -> str:
        return self.task.replace("\\", "/").split("/")[-1].split("@")[-1].removesuffix(".py")


class LaunchSettings(_Strict):
    """How training stages run: in this process, or under ``accelerate launch``."""

    launcher: Literal["python", "accelerate"] = "python"
    num_processes: int | None = Field(default=None, gt=0)
    config_file: str | None = None
    """An accelerate config (FSDP or DeepSpeed), relative to the experiment file."""
    extra_args: list[str] = Field(default_factory=list)


class EvalSettings(_Strict):
    provider: Literal["hf", "vllm"] = "hf"
    """Inspect provider for checkpoints and base models (``vllm`` on GPUs)."""
    model_args: dict[str, Any] = Field(default_factory=dict)
    max_connections: int | None = Field(default=None, gt=0)
    max_samples: int | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0)
    seed: int | None = Field(default=0, ge=0, lt=2**32)
    """Seed of the sampling of checkpoints evaluated in this process (``hf``, ``msm-hf/``): set
    (``transformers.set_seed``) at the start of every evaluation, so that a rerun, a resumed
    run or another order of evaluations samples each one the same way; recorded in the logs'
    metadata as ``eval_seed``. Not sent as a per-request seed (vLLM would then answer every
    epoch of a prompt the same); null leaves the generator as the previous step left it."""
    retry_attempts: int = Field(default=3, ge=0)
    fail_on_error: bool | float | None = None
    log_realtime: bool | None = None
    """Inspect's realtime sample events (live viewing in ``inspect view``); false saves a few
    seconds per evaluation of many short samples."""
    display: str | None = None
    """Inspect's display for the evaluations (default: quiet, Inspect's ``log`` display;
    ``--verbose`` gives Inspect's own)."""


class Resources(_Strict):
    """What one job asks the cluster for (`msm.runner.executors`); unset fields inherit
    ``executor.defaults``."""

    gpus: int | None = Field(default=None, ge=0)
    """GPUs per node."""
    cpus: int | None = Field(default=None, gt=0)
    """CPUs for the job's one task."""
    mem_gb: float | None = Field(default=None, gt=0)
    time_min: int | None = Field(default=None, gt=0)
    """Time limit in minutes (a job past it is requeued and resumes from its checkpoint)."""
    nodes: int | None = Field(default=None, gt=0)
    partition: str | None = None
    account: str | None = None
    sbatch: dict[str, str | int | bool] = Field(default_factory=dict)
    """Further sbatch options (``{qos: high, constraint: a100}``)."""
    setup: list[str] = Field(default_factory=list)
    """Shell lines run in the job before the work (``module load cuda``, activating a venv)."""


class ExecutorSettings(_Strict):
    """How `msm run` runs the plan's work (``--executor`` on the command line wins): ``serial``
    in this process, ``local`` as separate processes on this machine (``jobs`` at once), or
    ``slurm`` as cluster jobs with their dependencies (submitit). Resources per kind of work."""

    kind: Literal["serial", "local", "slurm"] = "serial"
    jobs: int = Field(default=2, gt=0)
    """Jobs running at once on this machine (local)."""
    max_retries: int = Field(default=1, ge=0)
    """A job that fails or is killed is submitted again this many times; a stage resumes from
    its own checkpoints."""
    defaults: Resources = Field(default_factory=Resources)
    stages: dict[Literal["pretrain", "data", "docgen", "deliberative", "midtrain", "aft", "eval"],
                 Resources] = Field(default_factory=dict)
    """Resources per kind of work (stage kinds and ``eval``), over `defaults`."""

    def resources(self, kind: str) -> Resources:
        """The resources of one kind of work: its own, then the defaults."""
        own = self.stages.get(kind)  # type: ignore[call-overload]
        if own is None:
            return self.defaults
        merged = self.defaults.model_dump() | own.model_dump(exclude_unset=True)
        return Resources.model_validate(merged)


class LeaderboardSettings(_Strict):
    baseline: str | None = None
    """The arm every other arm is compared with (an arm name)."""
    by: list[str] = Field(default_factory=lambda: ["arm"])
    metric: str | None = None
    """Default score field when a task entry names none."""


class Arm(_Strict):
    description: str = ""
    base: str | MicroBase | None = None
    """Overrides the experiment's base model for this arm."""
    spec: str | None = None
    stages: list[StageName] = Field(default_factory=list)
    seeds: list[int] | None = None
    docgen: dict[str, Any] = Field(default_factory=dict)
    deliberative: dict[str, Any] = Field(default_factory=dict)
    midtrain: dict[str, Any] = Field(default_factory=dict)
    aft: dict[str, Any] = Field(default_factory=dict)
    aft_data_from: Literal["with_cot", "without_cot"] | None = None
    """Train AFT on this arm's deliberative data (with or without the reasoning)."""
    evaluate: bool = True
    checkpoint: str | None = None
    """Evaluate an existing checkpoint, trained nowhere here: a local folder, a hub model id, or
    ``base:adapter`` for a LoRA adapter on a base (`msm.training.checkpoints`). No stages."""
    checkpoint_stage: str | None = None
    """Label of what the checkpoint went through (e.g. ``msm+aft``), logged beside arm and spec."""

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int] | None) -> list[int] | None:
        return _check_seeds(value)


class Experiment(_Strict):
    name: str | None = None
    """Defaults to the file name (without .yaml)."""
    description: str = ""
    expected_cost: str = ""
    """Free text: hardware, hours, tokens, money. Printed by --dry-run."""
    results: str | None = None
    """The results folder `msm run` and `msm status` use without ``--out`` (relative to the
    current folder; default ``results/NAME``). The demo's file names ``runs/demo``, where `msm
    demo` writes, so that a committed reference under results/ changes only when asked."""
    base: str | MicroBase
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    roles: dict[str, str] = Field(default_factory=dict)
    """Inspect model roles (``grader``, ``generator``) as model strings."""
    defaults: StageDefaults = Field(default_factory=StageDefaults)
    launch: LaunchSettings = Field(default_factory=LaunchSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    tasks: list[TaskEntry] = Field(default_factory=list)
    leaderboard: LeaderboardSettings = Field(default_factory=LeaderboardSettings)
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    arms: dict[str, Arm] = Field(min_length=1)
    reference: list[ReferenceRow] = Field(default_factory=list)
    """Published rates to read beside the measured ones (`msm.harness.reference`)."""
    audit: Literal["warn", "strict", "off"] = "warn"
    """Contamination audit of the MSM documents before each midtraining (`msm.harness.audit`): warn
    and go on, refuse (strict), or skip (off)."""

    _path: Path = PrivateAttr(default=Path("experiment.yaml"))
    _allow_code: bool = PrivateAttr(default=False)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int] | None) -> list[int] | None:
        return _check_seeds(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.fullmatch(value):
            raise ValueError("names the default runs/NAME and results/NAME folders: use letters, "
                             "digits, '_', '-', '.' (not first), no '/'")
        return value

    @property
    def allow_code(self) -> bool:
        """Whether the file may run code outside the project (``--allow-code``)."""
        return self._allow_code

    @property
    def path(self) -> Path:
        """The experiment file (set by `load_experiment`)."""
        return self._path

    @property
    def root(self) -> Path:
        return self.path.resolve().parent

    @property
    def label(self) -> str:
        return self.name or self.path.stem

    def resolve(self, value: str | Path) -> Path:
        """A path from the file, relative to the file's directory."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.root / p)

    def arm_seeds(self, arm: Arm) -> list[int]:
        return arm.seeds if arm.seeds is not None else self.seeds

    def stage_settings(self, arm: Arm, stage: str) -> dict[str, Any]:
        """The experiment's defaults for a stage, overridden key by key by the arm's."""
        return {**getattr(self.defaults, stage), **getattr(arm, stage)}


def looks_local(name: str) -> bool:
    """Whether a base model string names a local path rather than a hub id."""
    return (
        name.startswith(("/", "./", "../", "~", "\\"))
        or name.count("/") > 1
        or Path(name).suffix in {".safetensors", ".bin", ".gguf"}
        or not _HUB_ID.match(name)
    )


def load_experiment(path: str | Path, *, allow_code: bool = False) -> Experiment:
    """Read and validate an experiment file; raise `InputError` on the first problem.

    `allow_code` lets the file run code from outside the project (a data builder that is not
    registered, a task file, ``trust_remote_code``, a script in ``launch.extra_args``)."""
    path = Path(path)
    raw = read_yaml(path, what="experiment file")
    if not isinstance(raw, dict):
        raise InputError("expected a mapping at the top level", file=path)
    try:
        exp = Experiment.model_validate(raw)
    except ValidationError as ex:
        err = ex.errors()[0]
        loc = [str(p) for p in err["loc"]]
        # unions report the branch name (e.g. 'str', 'MicroBase'): drop it
        loc = [p for p in loc if p not in {"str", "MicroBase", "DataBuild"}]
        field = ".".join(loc) or None
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            message = "unknown key" + (f" (known keys: {', '.join(known)})" if known else "")
        elif err["type"] == "missing":
            message = "required key is missing"
        raise InputError(message, file=path, field=field) from ex
    exp._path = path
    exp._allow_code = allow_code
    validate(exp)
    return exp


def _known_keys(loc: list[str]) -> list[str]:
    """The keys allowed at a place in the file (for an 'unknown key' message)."""
    sections: dict[str, type[BaseModel]] = {
        "defaults": StageDefaults,
        "launch": LaunchSettings,
        "eval": EvalSettings,
        "leaderboard": LeaderboardSettings,
        "base": MicroBase,
    }
    model: type[BaseModel] | None = None
    if not loc:
        model = Experiment
    elif len(loc) == 1:
        model = sections.get(loc[0])
    elif loc[0] == "arms" and len(loc) == 2:
        model = Arm
    elif loc[0] == "tasks" and len(loc) == 2:
        model = TaskEntry
    elif loc[-1] == "base" or (loc[0] == "arms" and len(loc) == 3 and loc[2] == "base"):
        model = MicroBase
    return sorted(model.model_fields) if model is not None else []


def validate(exp: Experiment) -> None:
    """Everything that can be checked without running anything."""
    f = exp.path
    if not _NAME.fullmatch(exp.label):
        raise InputError(f"the file name '{exp.path.name}' cannot name the runs and results "
                         "folders: set name:", file=f, field="name")
    _check_base(exp, exp.base, "base")
    for role, model in exp.roles.items():
        if "/" not in model:
            raise InputError(
                f"'{model}' is not an Inspect model string (provider/model)",
                file=f,
                field=f"roles.{role}",
            )
    if exp.launch.config_file and not exp.resolve(exp.launch.config_file).is_file():
        raise InputError("accelerate config file not found", file=f, field="launch.config_file")
    _check_code(exp)
    for stage in STAGE_ORDER:
        _check_data(exp, getattr(exp.defaults, stage), f"defaults.{stage}")
    for name, arm in exp.arms.items():
        _check_arm(exp, name, arm)
    if exp.leaderboard.baseline and exp.leaderboard.baseline not in exp.arms:
        raise InputError(
            f"no arm named '{exp.leaderboard.baseline}' (arms: {', '.join(exp.arms)})",
            file=f,
            field="leaderboard.baseline",
        )
    _check_tasks(exp)


def _check_arm(exp: Experiment, name: str, arm: Arm) -> None:
    """One arm: its name, base, stages and their settings, specs and training data."""
    from msm.training import checkpoints, mix

    f, where = exp.path, f"arms.{name}"
    if not _NAME.fullmatch(name):
        raise InputError(
            "arm names (folders under logs/) may use letters, digits, '_', '-', '.' (not "
            "first)", file=f, field=where
        )
    if checkpoints.validate_arm(exp, name, arm) is None and arm.base is not None:
        _check_base(exp, arm.base, f"{where}.base")
    stages = list(arm.stages)
    _check_stage_order(exp, arm, where)
    _check_arm_specs(exp, arm, where)
    if "deliberative" in stages:
        _check_deliberative_task(exp, arm, where)
    if ("midtrain" in stages and "docgen" not in stages
            and not exp.stage_settings(arm, "midtrain").get("documents")):
        raise InputError(
            "midtrain without docgen needs midtrain.documents",
            file=f,
            field=f"{where}.stages",
        )
    if arm.aft_data_from:
        if "aft" not in stages:
            raise InputError("the arm does not run aft", file=f, field=f"{where}.aft_data_from")
        if "deliberative" not in stages:
            raise InputError(
                "aft uses deliberative data, so 'deliberative' must come before 'aft' in stages",
                file=f,
                field=f"{where}.stages",
            )
    mix.check_arm(exp, name, arm)
    if ("aft" in stages and not arm.aft_data_from
            and not exp.stage_settings(arm, "aft").get("data") and not mix.has_mix(exp, arm)):
        raise InputError(
            "aft needs data (aft.data, aft.mix or aft_data_from)",
            file=f,
            field=f"{where}.aft",
        )
    if not stages and not arm.evaluate:
        raise InputError("the arm neither trains nor evaluates", file=f, field=where)


def _check_stage_order(exp: Experiment, arm: Arm, where: str) -> None:
    """Each stage named once, in pipeline order, with settings only for stages the arm runs."""
    f, stages = exp.path, list(arm.stages)
    if len(set(stages)) != len(stages):
        raise InputError("a stage is named twice", file=f, field=f"{where}.stages")
    order = [STAGE_ORDER.index(s) for s in stages if s != "deliberative"]
    late = (
        "deliberative" in stages
        and "aft" in stages
        and stages.index("deliberative") > stages.index("aft")
    )
    if order != sorted(order) or late:
        raise InputError(
            f"stages out of order ({', '.join(stages)}); the order is docgen < midtrain < aft, "
            "with deliberative before aft",
            file=f,
            field=f"{where}.stages",
        )
    for stage in STAGE_ORDER:
        if getattr(arm, stage) and stage not in stages:
            raise InputError(
                f"settings for stage '{stage}', which the arm does not run",
                file=f,
                field=f"{where}.{stage}",
            )
        _check_data(exp, getattr(arm, stage), f"{where}.{stage}")


def _check_arm_specs(exp: Experiment, arm: Arm, where: str) -> None:
    """The arm's spec, and the deliberative stage's own, exist and load; stages that need one
    have one."""
    from msm.harness.specs import load_spec

    f, stages = exp.path, list(arm.stages)
    delib_spec = exp.stage_settings(arm, "deliberative").get("spec")
    needs_spec = [
        s for s in stages if s == "docgen" or (s == "deliberative" and not delib_spec)
    ]
    if needs_spec and not arm.spec:
        raise InputError(f"stage '{needs_spec[0]}' needs a spec", file=f, field=f"{where}.spec")
    spec_fields = [(arm.spec, f"{where}.spec")]
    if "deliberative" in stages and delib_spec:
        origin = "deliberative" if "spec" in arm.deliberative else None
        spec_fields.append(
            (
                delib_spec,
                f"{where}.deliberative.spec" if origin else "defaults.deliberative.spec",
            )
        )
    for spec, spec_field in spec_fields:
        if not spec:
            continue
        try:
            load_spec(_spec_ref(exp, str(spec)))
        except InputError as ex:
            detail = ex.detail if ex.file is None else str(ex)
            raise InputError(detail, file=f, field=spec_field) from ex


def _check_tasks(exp: Experiment) -> None:
    """Every task entry names a task with its parameters, once, and the reference rows fit."""
    f = exp.path
    for i, entry in enumerate(exp.tasks):
        _check_task(exp, entry, f"tasks.{i}")
        if not _NAME.fullmatch(entry.label):
            raise InputError(f"the task's name '{entry.label}' cannot name its results folder",
                             file=f, field=f"tasks.{i}.task")
    labels = [t.label for t in exp.tasks]
    if len(set(labels)) != len(labels):
        raise InputError("a task is listed twice", file=f, field="tasks")
    check_rows(exp.reference, list(exp.arms), labels, f)


OPT_IN = "custom code runs only with `msm run --allow-code` (the file must then be trusted)"


def _stage_sections(exp: Experiment) -> list[tuple[str, dict[str, Any]]]:
    """(field, settings) of every stage block of the file, micro bases included."""
    sections = [(f"defaults.{s}", getattr(exp.defaults, s)) for s in STAGE_ORDER]
    sections += [(f"arms.{n}.{s}", getattr(a, s)) for n, a in exp.arms.items() for s in STAGE_ORDER]
    bases = [("base", exp.base), *((f"arms.{n}.base", a.base) for n, a in exp.arms.items())]
    return sections + [(f"{w}.micro", b.micro) for w, b in bases if isinstance(b, MicroBase)]


def _check_code(exp: Experiment) -> None:
    """Settings that would write outside the chosen folders or run code from outside the
    project (without ``allow_code``)."""
    f = exp.path
    for where, settings in _stage_sections(exp):
        for key in RUNNER_PATHS:
            if key in settings:
                raise InputError("the runner chooses this path (a folder under --runs keyed by the "
                                 "stage's inputs): remove it", file=f, field=f"{where}.{key}")
        trl = settings.get("trl")
        for key in map(str, [*settings, *(trl if isinstance(trl, dict) else {})]):
            if key == "push_to_hub" or key.startswith("hub_"):
                raise InputError("an upload leaves the runs folder: push a finished checkpoint "
                                 "yourself", file=f, field=f"{where}.{key}")
    if not exp.allow_code:
        for where, settings in [*_stage_sections(exp), ("eval.model_args", exp.eval.model_args)]:
            found = _find_key(settings, "trust_remote_code")
            if found is not None:
                raise InputError(f"trust_remote_code runs the model folder's own code; {OPT_IN}",
                                 file=f, field=".".join([where, *found]))
    if exp.launch.extra_args:
        _check_launch_args(exp)


def _find_key(value: Any, key: str) -> list[str] | None:
    """The path to a true `key` anywhere inside nested dicts (None: not there)."""
    if isinstance(value, dict):
        if value.get(key):
            return [key]
        for k, v in value.items():
            inner = _find_key(v, key)
            if inner is not None:
                return [str(k), *inner]
    return None


def _check_launch_args(exp: Experiment) -> None:
    """``launch.extra_args`` are options of ``accelerate launch`` (its own parser reads them);
    a script or module among them would run instead of the stage."""
    import contextlib
    import io

    from accelerate.commands.launch import launch_command_parser

    ours = ["-m", "msm.training._launch", "aft", "config.json"]
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
            args = launch_command_parser().parse_args([*exp.launch.extra_args, *ours])
    except SystemExit:
        why = (said.getvalue().strip().splitlines() or ["not accelerate launch options"])[-1]
        raise InputError(why.split(": error: ")[-1], file=exp.path,
                         field="launch.extra_args") from None
    runs_ours = args.training_script == ours[1] and args.module and args.training_script_args == ours[2:]
    if not runs_ours and not exp.allow_code:
        raise InputError(f"names a script or module to run ('{args.training_script}'), not only "
                         f"launch options; {OPT_IN}", file=exp.path, field="launch.extra_args")


def _spec_ref(exp: Experiment, spec: str) -> str | Path:
    """A spec name stays a name; a path is taken relative to the experiment file."""
    if spec.endswith(".md") or "/" in spec:
        return exp.resolve(spec)
    return spec


def _check_base(exp: Experiment, base: str | MicroBase, field: str) -> None:
    if isinstance(base, MicroBase):
        from msm.training.micro.bases import (
            check_micro_base,  # the micro world checks its own fields
        )

        check_micro_base(exp, base, field)
        return
    if looks_local(base) and not exp.resolve(base).exists():
        raise InputError(f"base model path '{base}' does not exist", file=exp.path, field=field)


_PATH_KEYS = ("documents", "data", "replay")


def _check_data(exp: Experiment, settings: dict[str, Any], field: str) -> None:
    for key in _PATH_KEYS:
        if key not in settings:
            continue
        value = settings[key]
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, dict):
                try:
                    ref = DataBuild.model_validate(item)
                except ValidationError as ex:
                    err = ex.errors()[0]
                    sub = ".".join(str(p) for p in err["loc"])
                    msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                    raise InputError(msg, file=exp.path, field=f"{field}.{key}.{i}.{sub}") from ex
                _check_build(exp, ref, f"{field}.{key}.{i}")
            elif isinstance(item, str):
                if not exp.resolve(item).is_file():
                    raise InputError(
                        f"data file '{item}' not found", file=exp.path, field=f"{field}.{key}"
                    )
            else:
                raise InputError(
                    "expected a file path or {build: module:function}",
                    file=exp.path,
                    field=f"{field}.{key}",
                )


def _check_build(exp: Experiment, ref: DataBuild, field: str) -> None:
    """A registered builder, or (with ``allow_code``) any importable function; its `args` bind
    to its parameters. Nothing outside the registry is imported without ``allow_code``."""
    target = ref.target
    if target not in DATA_BUILDERS.values() and not exp.allow_code:
        raise InputError(f"'{ref.build}' is not one of the project's data builders "
                         f"({', '.join(DATA_BUILDERS)}); {OPT_IN}",
                         file=exp.path, field=f"{field}.build")
    fn = builder_function(ref, exp.path, f"{field}.build")
    if "out" in ref.args:
        raise InputError("the runner chooses the file a builder writes: remove it", file=exp.path,
                         field=f"{field}.args.out")
    try:
        pyinspect.signature(fn).bind(**ref.args)
    except TypeError as ex:
        raise InputError(f"'{ref.build}' cannot take these arguments ({ex})", file=exp.path,
                         field=f"{field}.args") from None


def builder_function(ref: DataBuild, file: Path | None, field: str) -> Any:
    """The function a ``{build: ...}`` entry names, imported."""
    import importlib

    module_name, attr = ref.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as ex:
        raise InputError(f"cannot import '{module_name}' ({ex})", file=file, field=field) from ex
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InputError(f"'{module_name}' has no function '{attr}'", file=file, field=field)
    return fn


def project_task(name: str) -> Any | None:
    """The task function of this project named ``name`` (tasks/<name>.py), or None."""
    if not re.fullmatch(r"\w+", name):
        return None
    try:
        from msm._registry import TASKS
    except Exception:  # noqa: BLE001 - a broken task module: reported by Inspect when it runs
        return None
    return TASKS.get(name)


def _check_task(exp: Experiment, entry: TaskEntry, field: str) -> None:
    name = entry.task
    if re.fullmatch(r"\w+", name):
        fn = project_task(name)
        if fn is None:
            from msm._registry import TASKS

            raise InputError(
                f"no task named '{name}' in tasks/ (available: {', '.join(sorted(TASKS)) or 'none'})",
                file=exp.path,
                field=f"{field}.task",
            )
        params = declared(fn)
        for key in entry.args:
            if key not in params:
                raise InputError(
                    f"task '{name}' has no parameter '{key}' (parameters: {', '.join(params)})",
                    file=exp.path,
                    field=f"{field}.args.{key}",
                )
        _build_task(exp, fn, entry, field)
    elif ".py" in name:
        file_part = name.split("@")[0]
        if not exp.resolve(file_part).is_file():
            raise InputError(
                f"task file '{file_part}' not found", file=exp.path, field=f"{field}.task"
            )
        if not exp.allow_code:
            raise InputError(f"a task file is code from outside the project; {OPT_IN}",
                             file=exp.path, field=f"{field}.task")
    if not (entry.metric or exp.leaderboard.metric):
        raise InputError("no leaderboard metric (set it here or leaderboard.metric)",
                         file=exp.path, field=f"{field}.metric")


def _build_task(exp: Experiment, fn: Any, entry: TaskEntry, field: str) -> None:
    """Build the task with its arguments (no model is called), so that a bad argument value
    (``bank: nosuch``) fails here, before anything trains, and not after pretraining."""
    args = dict(entry.args)
    if entry.epochs and "epochs" in pyinspect.signature(fn).parameters:
        args.setdefault("epochs", entry.epochs)
    task = build_task_or_fail(exp, fn, args, entry.task, f"{field}.args")
    metric = entry.metric or exp.leaderboard.metric
    fields = score_fields(task)
    if metric and fields is not None and metric not in fields:
        where = f"{field}.metric" if entry.metric else "leaderboard.metric"
        raise InputError(f"task '{entry.task}' scores no '{metric}' (its score fields: "
                         f"{', '.join(sorted(fields))})", file=exp.path, field=where)


def score_fields(task: Any) -> set[str] | None:
    """The score fields a task's scorers produce, from their registered metrics (a dict of
    metrics names the fields of a dict score; a list, a score named after its scorer), as the
    log reader makes columns of them. None when a scorer does not say."""
    from inspect_ai.util import registry_info

    fields: set[str] = set()
    for scorer in getattr(task, "scorer", None) or []:
        try:
            metrics = registry_info(scorer).metadata.get("metrics")
            name = registry_info(scorer).name.split("/")[-1]
        except (ValueError, AttributeError):
            return None
        if isinstance(metrics, dict) and all(isinstance(k, str) and "*" not in k for k in metrics):
            fields.update(metrics)
        elif isinstance(metrics, list):
            fields.add(name)
        else:
            return None
    return fields or None


def build_task_or_fail(exp: Experiment, fn: Any, args: dict[str, Any], name: str, field: str) -> Any:
    """Call task function `fn` with `args` and return the task; any failure is an
    `InputError` at `field`."""
    try:
        return fn(**args)
    except InputError as ex:
        detail = ex.detail if ex.file is None else str(ex)
        key = f".{ex.field}" if ex.field and ex.field in args else ""
        raise InputError(f"task '{name}': {detail}", file=exp.path, field=f"{field}{key}") from ex
    except Exception as ex:  # any failure to build is bad input, said in one line
        first = (str(ex).strip().splitlines() or [type(ex).__name__])[0]
        raise InputError(f"task '{name}' cannot be built with these arguments: {first}",
                         file=exp.path, field=field) from ex


def _check_deliberative_task(exp: Experiment, arm: Arm, where: str) -> None:
    """Build the deliberative teacher task as the runner will (its spec defaults to the arm's)."""
    raw = exp.stage_settings(arm, "deliberative")
    try:
        settings = DeliberativeSettings.model_validate(raw)
    except ValidationError:
        return  # reported with its field when the plan is built
    fn = project_task(settings.task)
    if fn is None:
        return
    args = dict(settings.task_args)
    spec = settings.spec or arm.spec
    if spec and "spec" in pyinspect.signature(fn).parameters:
        args.setdefault("spec", str(_spec_ref(exp, str(spec))))
    origin = where if "task_args" in arm.deliberative else "defaults"
    build_task_or_fail(exp, fn, args, settings.task, f"{origin}.deliberative.task_args")
