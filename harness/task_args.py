"""Task arguments checked where the task is built: a name the task does not declare, or a value
that is not of the declared type, is one `InputError` naming the argument.

``inspect eval TASK -T key=value`` reads each value as YAML (``maybe`` is text, ``true`` a
bool, ``[a, b]`` a list, ``3`` an integer) and hands the arguments to Inspect's
`task_create`, which drops a name the task does not declare with a log warning (the run goes
on without it: ``-T colour=red``) and passes the rest unchecked (``-T scratchpad=maybe`` runs
with ``scratchpad: maybe`` in the log header). Experiment files call the task function with
their ``args:`` the same way. `checked_args`, placed under ``@task``, checks both at the one
place every route goes through, the task's construction::

    @task
    @checked_args
    def values_generalization(format: Literal["choice", "open"] = "choice", ...) -> Task:

The wrapper declares a ``**undeclared`` catch-all so that Inspect hands it the unknown names
too (`task_create` passes everything to a task that takes ``**kwargs``) and refuses them. The
types are checked by pydantic in strict mode: no text is turned into a number or a bool, an
integer is accepted where a float is declared.
"""

from __future__ import annotations

import functools
import inspect as pyinspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from msm.harness.errors import InputError
from msm.harness.versions import library_versions

F = TypeVar("F", bound=Callable[..., Any])
CATCH_ALL = "undeclared"


def _prepare_run() -> None:
    """What a run of one of our tasks needs from its process, set when the task is built (never
    on import): a bad argument prints one line (`install_excepthook`), and Inspect's token
    estimate works offline (`offline.install`, a no-op where tiktoken's file loads)."""
    from msm.harness import offline
    from msm.harness.errors import install_excepthook

    install_excepthook()
    offline.install()


def checked_args(fn: F) -> F:
    """Wrap task function `fn` so that each call checks its arguments (see the module doc)."""
    sig = pyinspect.signature(fn)
    hints = typing.get_type_hints(fn)
    names = list(sig.parameters)
    adapters = {n: TypeAdapter(hints[n]) for n in names if n in hints}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _prepare_run()
        unknown = [k for k in kwargs if k not in sig.parameters]
        if unknown:
            raise InputError(f"task '{fn.__name__}' has no parameter '{unknown[0]}' "
                             f"(parameters: {', '.join(names)})", field=unknown[0])
        for name, value in {**dict(zip(names, args, strict=False)), **kwargs}.items():
            if name in adapters:
                _check(adapters[name], hints[name], name, value)
        built = fn(*args, **kwargs)
        if hasattr(built, "metadata"):  # a Task: its log header names what produced it
            built.metadata = {**(built.metadata or {}), "library_versions": library_versions()}
        return built

    catch_all = pyinspect.Parameter(CATCH_ALL, pyinspect.Parameter.VAR_KEYWORD)
    wrapper.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*sig.parameters.values(), catch_all])
    return typing.cast(F, wrapper)


def declared(fn: Callable[..., Any]) -> list[str]:
    """The parameters a task function declares (without `checked_args`'s catch-all)."""
    params = pyinspect.signature(fn).parameters
    return [n for n, p in params.items() if p.kind is not p.VAR_KEYWORD]


def _check(adapter: TypeAdapter[Any], hint: Any, name: str, value: Any) -> None:
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        raise InputError(f"expected {describe(hint)}, got {value!r}", field=name) from None


def describe(hint: Any) -> str:
    """A type annotation in words: ``Literal['a', 'b'] | None`` -> "one of 'a', 'b' or null"."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(h) for h in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return f"a list of ({describe(item)})"
    words = {bool: "true or false", int: "an integer", float: "a number", str: "text",
             type(None): "null"}
    return words.get(hint, getattr(hint, "__name__", str(hint)))
