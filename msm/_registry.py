"""Inspect entry point: registers every task in the ``tasks`` package as ``msm/<task>``.

Inspect namespaces a task by the installed package that defines it, so each task from
``tasks/`` is re-exported here by a thin wrapper defined in this package. ``inspect eval
msm/agentic_misalignment`` and ``inspect eval tasks/agentic_misalignment.py`` then run the
same code with the same parameters.
"""

from __future__ import annotations

import importlib
import inspect as pyinspect
import pkgutil
from typing import Any, Callable

from inspect_ai import Task, task
from inspect_ai._util.registry import is_registry_object, registry_info

import tasks as _tasks_package

PACKAGE = "msm"


def _export(fn: Callable[..., Task], name: str) -> Callable[..., Task]:
    def make() -> Callable[..., Task]:
        def wrapper(*args: Any, **kwargs: Any) -> Task:
            return fn(*args, **kwargs)

        wrapper.__name__ = wrapper.__qualname__ = name
        wrapper.__doc__ = fn.__doc__
        wrapper.__module__ = __name__
        wrapper.__signature__ = pyinspect.signature(fn)  # type: ignore[attr-defined]
        wrapper.__annotations__ = dict(getattr(fn, "__annotations__", {}))
        return wrapper

    exported = task(make())
    if registry_info(exported).name != f"{PACKAGE}/{name}":
        # Inspect namespaces a task only when its package looks installed. Run from the repo
        # root with the current folder on sys.path (python -c, pytest, a notebook), the
        # msm.egg-info that `pip install -e .` leaves there shadows the install's metadata and
        # the namespace is lost; name it explicitly then.
        exported = task(name=f"{PACKAGE}/{name}")(make())
    return exported


def _discover() -> dict[str, Callable[..., Task]]:
    found: dict[str, Callable[..., Task]] = {}
    for module_info in pkgutil.iter_modules(_tasks_package.__path__):
        module = importlib.import_module(f"tasks.{module_info.name}")
        for obj in vars(module).values():
            if callable(obj) and is_registry_object(obj, type="task"):
                if getattr(obj, "__module__", None) != module.__name__:
                    continue  # imported from elsewhere, exported where it is defined
                name = registry_info(obj).name.split("/")[-1]
                found[name] = _export(obj, name)
    return found


TASKS = _discover()
globals().update(TASKS)

# model providers: msm-hf/ (batched local Hugging Face checkpoints)
from harness.local_hf import register as _register_providers

_register_providers()
