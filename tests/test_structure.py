"""The code's shape a newcomer relies on: imports point down, no cycles, no private Inspect API.

The imports are read with `ast` from every .py file of the project packages (imports inside
functions and under ``TYPE_CHECKING`` included), so a lazy import cannot hide an upward edge.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "msm", "tasks", "training")
LIBRARIES = ("harness", "tasks", "training")  # installed as msm.harness, msm.tasks, msm.training


def _module_name(path: Path) -> str:
    """The import name of a file: harness/x.py is msm.harness.x, msm/cli.py is msm.cli."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["msm", *parts] if parts[0] in LIBRARIES else parts)


def _layer(name: str) -> str:
    """harness, tasks or training for the libraries; msm for the orchestration on top of them
    (msm.cli, msm.commands, msm.runner, msm.experiment, ...); the root package ``msm`` is none."""
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in LIBRARIES:
        return parts[1]
    return "msm" if len(parts) > 1 else "root"


MODULES = {
    _module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
}


def _owner(name: str) -> str | None:
    """The project module an imported name lives in (None: a library)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str) -> set[str]:
    """Project modules that module ``name`` imports anywhere in its file."""
    path = MODULES[name]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES]
            found.update(subs)
            if len(subs) < len(node.names):  # names defined in the module (or its __init__)
                found.add(module)
    owners = {_owner(m) for m in found}
    return {m for m in owners if m is not None and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def test_the_walk_sees_imports_inside_functions():
    # harness.leaderboard imports harness.plots only inside a function (matplotlib is slow)
    assert "msm.harness.plots" in GRAPH["msm.harness.leaderboard"]


@pytest.mark.parametrize("layer", ["harness"])
def test_the_evaluation_layer_never_imports_training(layer):
    upward = sorted(
        f"{name} -> {dep}"
        for name, deps in GRAPH.items()
        if _layer(name) == layer
        for dep in deps
        if _layer(dep) == "training"
    )
    assert not upward, "harness must not import training: " + "; ".join(upward)


def test_tasks_import_only_the_evaluation_layer():
    upward = sorted(
        f"{name} -> {dep}"
        for name, deps in GRAPH.items()
        if _layer(name) == "tasks"
        for dep in deps
        if _layer(dep) in ("training", "msm")
    )
    assert not upward, "; ".join(upward)


def test_libraries_never_import_the_orchestration():
    """tasks/, harness/ and training/ are libraries that msm/ uses; none of them imports msm."""
    upward = sorted(
        f"{name} -> {dep}"
        for name, deps in GRAPH.items()
        if _layer(name) in LIBRARIES
        for dep in deps
        if _layer(dep) == "msm"
    )
    assert not upward, "a library imports the orchestration: " + "; ".join(upward)


def test_no_import_cycles():
    import graphlib

    sorter = graphlib.TopologicalSorter(GRAPH)
    try:
        sorter.prepare()
    except graphlib.CycleError as ex:
        pytest.fail(f"import cycle: {' -> '.join(ex.args[1])}")


_PRIVATE = re.compile(r"^\s*(from\s+inspect_ai\.(\w+\.)*_\w+|import\s+inspect_ai\.(\w+\.)*_\w+)")


def test_private_inspect_imports_say_why():
    bare = []
    scripts = sorted((ROOT / "benchmarks").glob("*.py"))
    for path in [*MODULES.values(), *scripts]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            private = _PRIVATE.match(line) or re.search(
                r"from inspect_ai\.\w+ import _\w+", line
            )
            if private and not re.search(r"# private: \S", line):
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "private Inspect import without '# private: <reason>':\n" + "\n".join(bare)


CLI_MODULES = {"msm.cli", "msm.commands.evaluation", "msm.commands.agentic", "msm.commands.training",
               "msm.commands.experiment"}


def test_click_commands_live_in_the_cli_layer():
    """Library modules are called from Python without a command-line framework in them."""
    outside = sorted(
        name for name in MODULES if "click" in _libraries(name) and name not in CLI_MODULES
    )
    assert not outside, f"click imported outside the CLI modules: {outside}"


def _libraries(name: str) -> set[str]:
    return _top_level_imports(MODULES[name])


def _top_level_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_the_folders_are_imported_under_msm():
    """harness/, tasks/ and training/ install as msm.harness, msm.tasks and msm.training (a wheel
    has no top-level package of those names): no module, test or benchmark imports the bare name."""
    files = [*MODULES.values(), *sorted((ROOT / "benchmarks").glob("*.py")),
             *sorted((ROOT / "tests").glob("*.py"))]
    bare = [f"{path.relative_to(ROOT)}: import {name}" for path in files
            for name in sorted(_top_level_imports(path) & set(LIBRARIES))]
    assert not bare, "; ".join(bare)


def test_installing_msm_changes_no_other_inspect_run():
    """In a fresh interpreter, Inspect loading our entry point (as it does for any model or task
    lookup once msm is installed) and importing every module patch nothing: Inspect's token
    estimate and the interpreter's excepthook stay as they were. Only the explicit setup call
    patches, and only where tiktoken's file cannot be loaded (forced here by MSM_TIKTOKEN=0)."""
    import subprocess
    import sys

    modules = sorted(name for name in MODULES if _layer(name) != "training")
    code = (
        "import sys, importlib; import inspect_ai.model._model as m, inspect_ai.model._tokens as t; "
        "before = (m.count_text_tokens, t.count_text_tokens); "
        f"[importlib.import_module(name) for name in {modules!r}]; "
        "assert sys.excepthook is sys.__excepthook__, 'excepthook replaced on import'; "
        "assert (m.count_text_tokens, t.count_text_tokens) == before, 'token estimate patched on import'; "
        "del sys.modules['msm._registry']; "
        "from inspect_ai.model import get_model; get_model('mockllm/model'); "
        "assert 'msm._registry' in sys.modules, 'the entry point was not loaded'; "
        "assert (m.count_text_tokens, t.count_text_tokens) == before, 'token estimate patched'; "
        "from msm.harness import offline; offline.install(); "
        "assert m.count_text_tokens is not before[0]"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        check=False, env={**os.environ, "MSM_TIKTOKEN": "0"},
    )
    assert done.returncode == 0, done.stderr[-2000:]


EVALUATIONS = sorted(p.parent.name for p in (ROOT / "tasks").glob("*/__init__.py"))


def test_every_evaluation_is_a_package_with_its_task_and_readme():
    """tasks/ holds one package per evaluation, as inspect_evals does: <name>/<name>.py with the
    @task function named like the folder, exported by the package, and a README.md."""
    loose = sorted(p.name for p in (ROOT / "tasks").glob("*.py") if p.name != "__init__.py")
    assert not loose, f"task files outside an evaluation package: {loose}"
    assert len(EVALUATIONS) >= 6, EVALUATIONS
    missing = []
    for name in EVALUATIONS:
        folder = ROOT / "tasks" / name
        task_file = folder / f"{name}.py"
        if not (folder / "README.md").is_file():
            missing.append(f"{name}/README.md")
        if not task_file.is_file():
            missing.append(f"{name}/{name}.py")
            continue
        tasks = [n.name for n in ast.parse(task_file.read_text()).body
                 if isinstance(n, ast.FunctionDef)
                 and any(getattr(d, "id", None) == "task" for d in n.decorator_list)]
        if tasks != [name]:
            missing.append(f"{name}/{name}.py defines tasks {tasks}, not one named '{name}'")
        if f"import {name}" not in (folder / "__init__.py").read_text():
            missing.append(f"{name}/__init__.py does not export {name}")
    assert not missing, "; ".join(missing)


MAX_FUNCTION_LINES = 100
LONG_FUNCTIONS = {
    # a table of bad-input cases, one case a line: splitting it would only scatter the table
    "benchmarks/bad_inputs.py:experiment_cases",
    "benchmarks/bad_inputs.py:command_cases",
}


def test_no_function_over_100_lines_outside_tests():
    """A reader holds a function at once: none over 100 lines in the packages and benchmarks."""
    files = [*MODULES.values(), *sorted((ROOT / "benchmarks").glob("*.py"))]
    long = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"{path.relative_to(ROOT)}:{node.name}"
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and where not in LONG_FUNCTIONS:
                    long.append(f"{where} ({lines} lines)")
    assert not long, "functions over 100 lines: " + ", ".join(long)


def test_public_functions_of_the_libraries_have_docstrings():
    """Every public function and method of harness/ and training/ says what it gives or does."""
    bare = []
    for name, path in MODULES.items():
        if _layer(name) not in ("harness", "training"):
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            inner = node.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_") else []
            for fn in [node, *inner]:
                if (isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and not fn.name.startswith("_") and ast.get_docstring(fn) is None):
                    bare.append(f"{path.relative_to(ROOT)}:{fn.lineno}:{fn.name}")
    assert not bare, "public functions without a docstring: " + ", ".join(bare)
