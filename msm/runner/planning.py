"""Planning: every arm and seed's stages, keyed by a hash of their inputs, validated up front.

Each stage's key hashes its settings (minus fields that change neither what it computes nor its
result), the spec's hash, the hashes of its data files, the seed and the keys of the stages it
builds on. Arms and seeds whose inputs are the same share a step. A bad key in the file is
reported where it was set (``arms.X.midtrain.lr`` or ``defaults.midtrain.lr``) before anything
runs.
"""

from __future__ import annotations

import inspect as pyinspect
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from msm.experiment import (
    Arm,
    DataBuild,
    DeliberativeSettings,
    Experiment,
    MicroBase,
    builder_function,
    looks_local,
)
from msm.runner import stages
from msm.runner.evaluation import planned_samples
from msm.runner.plan import (
    Evaluation,
    Plan,
    Step,
    _hash,
    checkpoint_evaluation,
    checkpoint_model_string,
    file_hash,
    task_dirs_for,
)
from msm.runner.validation import (
    NOT_HASHED,
    identity_dump,
    resolve_spec,
    stage_api,
    validate_config,
)


class _Planner:
    """Adds the steps of each arm and seed to one table keyed by input hash (shared steps are
    added once, with every user listed) and returns the arm's evaluations."""

    def __init__(self, exp: Experiment, runs_dir: Path, results_dir: Path, roles: dict[str, Any]):
        self.exp = exp
        self.runs_dir = runs_dir
        self.results_dir = results_dir
        self.roles = roles
        self.steps: dict[str, Step] = {}
        self.identities: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------
    def add(self, step: Step, user: tuple[str, int | None]) -> Step:
        existing = self.steps.setdefault(step.key, step)
        if user not in existing.users:
            existing.users.append(user)
        return existing

    def key_for(self, kind: str, payload: Any) -> str:
        return _hash({"kind": kind, **payload})

    def placeholder(self, key: str) -> str:
        ref = f"<step:{key}>"
        self.identities[ref] = f"step:{key}"
        return ref

    def file_ref(self, value: str) -> str:
        path = self.exp.resolve(value)
        self.identities[str(path)] = file_hash(path)
        return str(path)

    def role_name(self, role: str) -> str | None:
        value = self.roles.get(role)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def hub(self, ref: str, arm_name: str, arm: Arm) -> list[tuple[str, str]]:
        """[(hub id, field naming it)] when model reference `ref` is a hub base model."""
        if not self.identities.get(ref, "").startswith("hub:"):
            return []
        return [(ref, f"arms.{arm_name}.base" if arm.base is not None else "base")]

    def spec_name(self, arm: Arm) -> str | None:
        if not arm.spec:
            return None
        from msm.harness.specs import load_spec

        return load_spec(resolve_spec(self.exp, arm.spec)).name

    # -- base model ----------------------------------------------------------------------
    def base(self, base: str | MicroBase, user: tuple[str, int | None]) -> tuple[str | None, str]:
        """(key of the pretrain step or None, model reference: a path placeholder or hub id)."""
        if isinstance(base, MicroBase):
            micro = {**base.micro, "seed": user[1] or 0} if base.per_seed else dict(base.micro)
            if base.shipped:  # a released base: no step
                from msm.training.micro.bases import shipped_base

                path, identity = shipped_base(micro, file=self.exp.path)
                self.identities[str(path)] = identity
                return None, str(path)
            cls, fn = stage_api("pretrain")
            hashed = {k: v for k, v in micro.items() if k not in NOT_HASHED | {"threads"}}
            key = self.key_for("pretrain", {"micro": hashed})
            out = self.runs_dir / f"pretrain-{key}"
            data = dict(micro)
            for name in ("output_dir", "out"):
                if name in cls.model_fields and name not in data:
                    data[name] = str(out)
            cfg = validate_config(self.exp, "pretrain", cls, data, "base.micro")

            def execute(cfg: Any, fn: Callable[..., Any] = fn) -> dict[str, str]:
                return {"path": str(fn(cfg))}

            step = Step(
                "pretrain", key, out, [], lambda _r, cfg=cfg: cfg, execute, summary="micro world"
            )
            self.add(step, user)
            return key, self.placeholder(key)
        if looks_local(base) or self.exp.resolve(base).exists():  # a folder beside the file
            path = self.exp.resolve(base)
            stamp = max(
                (p.stat().st_mtime_ns for p in path.glob("*.json")), default=path.stat().st_mtime_ns
            )
            self.identities[str(path)] = f"local:{path}:{stamp}"
            return None, str(path)
        self.identities[base] = f"hub:{base}"
        return None, base

    # -- data files ------------------------------------------------------------------------
    def data_refs(self, items: Any, user: tuple[str, int | None]) -> tuple[list[str], list[str]]:
        """(config values, dependency keys) for a list of data entries."""
        items = items if isinstance(items, list) else [items]
        values, deps = [], []
        for item in items:
            if isinstance(item, dict):
                build = DataBuild.model_validate(item)
                step = self.data_step(build, user)
                values.append(self.placeholder(step.key))
                deps.append(step.key)
            else:
                values.append(self.file_ref(item))
        return values, deps

    def data_step(self, build: DataBuild, user: tuple[str, int | None]) -> Step:
        fn = builder_function(build, self.exp.path, "build")
        source = Path(pyinspect.getsourcefile(fn) or sys.modules[fn.__module__].__file__ or "")
        key = self.key_for(
            "data", {"build": build.target, "args": build.args, "source": file_hash(source)}
        )
        out = self.runs_dir / f"data-{key}"

        execute = partial(stages.run_data_build, fn, build, out, self.exp.path)
        return self.add(
            Step("data", key, out, [], lambda _r: None, execute, summary=build.build), user
        )

    # -- stages ----------------------------------------------------------------------------
    def docgen(self, arm_name: str, arm: Arm, user: tuple[str, int | None]) -> Step:
        cls, fn = stage_api("docgen")
        assert arm.spec
        spec_path = resolve_spec(self.exp, arm.spec)
        settings = self.exp.stage_settings(arm, "docgen")
        data = {**settings, "spec": str(spec_path)}
        from msm.harness.specs import load_spec

        self.identities[str(spec_path)] = f"spec:{load_spec(spec_path).hash}"
        generator_model = self.roles.get("generator")
        if data.get("backend", "llm") == "llm" and "generator" not in data:
            data["generator"] = self.role_name("generator")
        probe = validate_config(
            self.exp, "docgen", cls, {**data, "out": "x.jsonl"}, f"arms.{arm_name}.docgen"
        )
        payload = {"config": identity_dump(probe, self.identities)}
        if probe.backend == "template" and probe.template_mode != "english":
            from msm.training.micro.docs import TEMPLATE_VERSION  # micro documents come from code

            payload["template_version"] = TEMPLATE_VERSION
        key = self.key_for("docgen", payload)
        out = self.runs_dir / f"docgen-{key}"
        cfg = validate_config(
            self.exp,
            "docgen",
            cls,
            {**data, "out": str(out / "documents.jsonl")},
            f"arms.{arm_name}.docgen",
        )
        model_override = (
            generator_model if not isinstance(generator_model, (str, type(None))) else None
        )

        execute = partial(stages.run_docgen, fn, model_override)
        return self.add(
            Step("docgen", key, out, [], lambda _r: cfg, execute, summary=f"spec {arm.spec}"), user
        )

    def deliberative(
        self,
        arm_name: str,
        arm: Arm,
        base_key: str | None,
        base_ref: str,
        user: tuple[str, int | None],
    ) -> Step:
        settings = validate_config(
            self.exp,
            "deliberative",
            DeliberativeSettings,
            self.exp.stage_settings(arm, "deliberative"),
            f"arms.{arm_name}.deliberative",
        )
        assert isinstance(settings, DeliberativeSettings)
        spec_ref = settings.spec or arm.spec
        assert spec_ref
        spec_path = resolve_spec(self.exp, spec_ref)
        from msm.harness.specs import load_spec

        spec_hash = load_spec(spec_path).hash
        teacher_id = (
            self.role_name("teacher") or settings.teacher or self.identities.get(base_ref, base_ref)
        )
        key = self.key_for(
            "deliberative",
            {
                "settings": settings.model_dump(mode="json", exclude={"spec"}),
                "spec": spec_hash,
                "teacher": teacher_id,
                "grader": self.role_name("grader"),
            },
        )
        out = self.runs_dir / f"deliberative-{key}"
        provider = self.exp.eval.provider
        exp = self.exp
        roles = self.roles

        def build(results: dict[str, dict[str, str]]) -> dict[str, Any]:
            if roles.get("teacher") is not None:
                teacher = roles["teacher"]
            elif settings.teacher:
                teacher = settings.teacher
            elif base_key is not None:
                teacher = checkpoint_model_string(Path(results[base_key]["path"]), provider)
            else:
                teacher = f"{provider}/{base_ref}"
            return {"teacher": teacher}

        execute = partial(stages.run_deliberative, exp, roles, settings, spec_path, out)

        deps = [base_key] if base_key else []
        teacher_hub = [] if self.role_name("teacher") or settings.teacher else self.hub(base_ref, arm_name, arm)
        return self.add(
            Step("deliberative", key, out, deps, build, execute, summary=f"spec {spec_ref}",
                 hub_models=teacher_hub), user
        )

    def train(
        self,
        kind: Literal["midtrain", "aft"],
        arm_name: str,
        arm: Arm,
        seed: int,
        parent: tuple[str | None, str],
        inputs: list[str],
        input_deps: list[str],
        extra: dict[str, Any],
        user: tuple[str, int | None],
    ) -> Step:
        cls, fn = stage_api(kind)
        settings = dict(self.exp.stage_settings(arm, kind))
        field_ = f"arms.{arm_name}.{kind}"
        data_key = "documents" if kind == "midtrain" else "data"
        extra_values, extra_deps = self.data_refs(settings.pop(data_key, []) or [], user)
        replay_values, replay_deps = self.data_refs(settings.pop("replay", []) or [], user)
        if kind == "aft" and settings.get("mix"):
            from msm.training.mix import is_local as mix_is_local

            items = settings["mix"] if isinstance(settings["mix"], list) else [settings["mix"]]
            settings["mix"] = [self.file_ref(m) if mix_is_local(m) else m for m in items]
        parent_key, parent_ref = parent
        data = {
            "seed": seed,
            **settings,
            **extra,
            "base_model": parent_ref,
            data_key: inputs + extra_values,
            "replay": replay_values,
            "output_dir": "x",
        }
        probe = validate_config(self.exp, kind, cls, data, field_)
        key = self.key_for(kind, {"config": identity_dump(probe, self.identities)})
        out = self.runs_dir / f"{kind}-{key}"
        deps = ([parent_key] if parent_key else []) + input_deps + extra_deps + replay_deps
        labels = {"experiment": self.exp.label, "arm": arm_name, "seed": str(seed)}
        if arm.spec:
            labels["spec"] = self.spec_name(arm) or arm.spec
        exp = self.exp

        def build(results: dict[str, dict[str, str]]) -> BaseModel:
            def real(value: str) -> str:
                if value.startswith("<step:"):
                    return results[value[len("<step:") : -1]]["path"]
                return value

            final = {
                **data,
                "output_dir": str(out),
                "labels": {**labels, **settings.get("labels", {})},
            }
            final["base_model"] = real(parent_ref)
            final[data_key] = [real(v) for v in data[data_key]]
            final["replay"] = [real(v) for v in data["replay"]]
            return validate_config(exp, kind, cls, final, field_)

        execute = partial(stages.run_training, exp, kind, fn, out)

        return self.add(Step(kind, key, out, deps, build, execute, summary=f"seed {seed}",
                             hub_models=self.hub(parent_ref, arm_name, arm)), user)

    # -- the arm ---------------------------------------------------------------------------
    def arm(self, name: str, arm: Arm) -> list[Evaluation]:
        exp = self.exp
        if arm.checkpoint is not None:
            spec = self.spec_name(arm)
            return [checkpoint_evaluation(exp, self.results_dir, name, arm, spec)]
        evaluations = []
        base = arm.base or exp.base
        per_seed = isinstance(base, MicroBase) and base.per_seed  # an untouched base per seed
        seeds: list[int | None] = (
            list(exp.arm_seeds(arm)) if arm.stages or per_seed else [exp.arm_seeds(arm)[0]]
        )
        for seed in seeds:
            user = (name, seed)
            base_key, base_ref = self.base(base, user)
            current: tuple[str | None, str] = (base_key, base_ref)
            docs: Step | None = None
            delib: Step | None = None
            for stage in arm.stages:
                if stage == "docgen":
                    docs = self.docgen(name, arm, (name, None))
                elif stage == "deliberative":
                    delib = self.deliberative(name, arm, base_key, base_ref, user)
                elif stage == "midtrain":
                    inputs, deps = ([self.placeholder(docs.key)], [docs.key]) if docs else ([], [])
                    step = self.train(
                        "midtrain", name, arm, seed or 0, current, inputs, deps, {}, user
                    )
                    current = (step.key, self.placeholder(step.key))
                elif stage == "aft":
                    inputs, deps, extra = [], [], {}
                    if arm.aft_data_from and delib is not None:
                        ref = f"<step:{delib.key}:{arm.aft_data_from}>"
                        self.identities[ref] = f"step:{delib.key}:{arm.aft_data_from}"
                        inputs, deps = [ref], [delib.key]
                        if (
                            arm.aft_data_from == "with_cot"
                            and "reasoning" not in exp.stage_settings(arm, "aft")
                        ):
                            extra["reasoning"] = "keep"
                    step = self.train(
                        "aft", name, arm, seed or 0, current, inputs, deps, extra, user
                    )
                    current = (step.key, self.placeholder(step.key))
            if not arm.evaluate:
                continue
            model_key = current[0]
            model_id = model_key or _hash(self.identities.get(current[1], current[1]))
            log_dir = self.results_dir / "logs" / name / f"seed{seed}-{model_id[:8]}"
            evaluations.append(
                Evaluation(
                    arm=name,
                    seed=seed,
                    spec=self.spec_name(arm),
                    model_step=model_key,
                    base_model=None if model_key else current[1],
                    log_dir=log_dir,
                    task_dirs=task_dirs_for(exp, log_dir),
                    n_samples={t.label: None for t in exp.tasks},
                    hub_models=self.hub(current[1], name, arm),
                )
            )
        return evaluations




def build_plan(
    exp: Experiment,
    *,
    runs_dir: Path | None = None,
    results_dir: Path | None = None,
    roles: dict[str, Any] | None = None,
    count_samples: bool = True,
) -> Plan:
    runs_dir = Path(runs_dir or Path("runs") / exp.label).resolve()
    results_dir = Path(results_dir or exp.results or Path("results") / exp.label).resolve()
    all_roles: dict[str, Any] = {**exp.roles, **(roles or {})}
    planner = _Planner(exp, runs_dir, results_dir, all_roles)
    evaluations = []
    for name, arm in exp.arms.items():
        evaluations += planner.arm(name, arm)
    plan = Plan(exp, runs_dir, results_dir, planner.steps, evaluations, all_roles)
    if count_samples:
        sizes = {t.label: planned_samples(exp, t, f"tasks.{i}") for i, t in enumerate(exp.tasks)}
        for ev in evaluations:
            ev.n_samples = dict(sizes)
    return plan
