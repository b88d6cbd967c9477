"""Inspect entry point: registers every task in the ``tasks`` package as ``msm/<task>``.

Plain imports, as in inspect_evals' ``_registry.py``: a new task file in ``tasks/`` gets a line
in the import block and a name in `TASKS`. Inspect namespaces a task by the installed package
that defines it, and the task functions live in ``tasks/``, so each one is re-exported here by
a thin wrapper defined in this package: ``inspect eval msm/values_generalization`` and
``inspect eval tasks/values_generalization/values_generalization.py`` run the same code with the same parameters.

The egg-info case: Inspect recognises ``msm`` as an editable install by the ``direct_url.json``
of its distribution. Run from the repository root (``python -c``, pytest, a notebook), a
``msm.egg-info`` folder in the source tree shadows the install's metadata and the namespace is
lost; `_export` then names the task explicitly. ``pip install -e .`` leaves that folder there
(setuptools runs ``egg_info`` in the project folder to compute the build requirements); it is
in .gitignore and safe to delete, after which the fallback is never taken.

Importing this module (Inspect does, through the entry point, whenever it looks a name up in
any environment where msm is installed) patches nothing: it defines tasks and registers the
``msm-hf/`` provider through Inspect's own `modelapi` registry. The offline token estimate and
the one-line error hook are installed when one of our tasks is built (`msm.harness.task_args`) or
one of our commands runs, never on import.
"""

from __future__ import annotations

import inspect as pyinspect
from collections.abc import Callable
from typing import Any

from inspect_ai import Task, task
from inspect_ai.util import registry_info

from msm.harness.providers import register as _register_providers
from msm.tasks.affordability_comparisons import (
    affordability_comparisons as _affordability_comparisons,
)
from msm.tasks.agentic_misalignment import agentic_misalignment as _agentic_misalignment
from msm.tasks.america_opinions import america_opinions as _america_opinions
from msm.tasks.deliberative_alignment import deliberative_alignment as _deliberative_alignment
from msm.tasks.spec_knowledge import spec_knowledge as _spec_knowledge
from msm.tasks.values_generalization import values_generalization as _values_generalization
from msm.training.micro import bank as _micro_bank  # noqa: F401  registers the micro probe banks

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
    if registry_info(exported).name != f"{PACKAGE}/{name}":  # the egg-info case (see above)
        exported = task(name=f"{PACKAGE}/{name}")(make())
    return exported


affordability_comparisons = _export(_affordability_comparisons, "affordability_comparisons")
agentic_misalignment = _export(_agentic_misalignment, "agentic_misalignment")
america_opinions = _export(_america_opinions, "america_opinions")
deliberative_alignment = _export(_deliberative_alignment, "deliberative_alignment")
spec_knowledge = _export(_spec_knowledge, "spec_knowledge")
values_generalization = _export(_values_generalization, "values_generalization")

TASKS: dict[str, Callable[..., Task]] = {
    "affordability_comparisons": affordability_comparisons,
    "agentic_misalignment": agentic_misalignment,
    "america_opinions": america_opinions,
    "deliberative_alignment": deliberative_alignment,
    "spec_knowledge": spec_knowledge,
    "values_generalization": values_generalization,
}
"""Task name -> the registered ``msm/<name>`` task function (what `msm run` looks tasks up in)."""

# model providers: msm-hf/ (batched local Hugging Face checkpoints)
_register_providers()
