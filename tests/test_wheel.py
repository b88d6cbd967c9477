"""What a built wheel installs: one top-level package, ``msm``, that works outside the checkout.

The folders stay where the design card puts them (harness/, tasks/, training/, specs/,
experiments/) and install inside ``msm`` (pyproject's ``package-dir``). The wheel is built from a
copy of the sources (setuptools writes build/ and msm.egg-info beside the project), installed
with ``--no-deps`` into a fresh venv that borrows this interpreter's installed dependencies
through a ``.pth`` file, and used from a folder outside the checkout with PYTHONPATH unset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "msm", "harness", "tasks", "training", "specs", "experiments")
LIBRARIES = ("harness", "tasks", "training")

# Runs inside the wheel's venv: every shipped spec loads, every shipped experiment file plans
# (`msm run FILE --dry-run`), the task registry answers msm/<task>, and nothing is top level
# but msm.
CHECKS = """
import importlib.util, json, sys
from pathlib import Path
import msm
from msm.harness import shipped
from msm.harness.specs import available_specs, load_spec
from msm.cli import main

out = Path(sys.argv[1])
specs = available_specs()
for name in specs:
    load_spec(name)
planned = []
for path in sorted(shipped("experiments").glob("*.yaml")):
    try:
        main(["run", str(path), "--dry-run", "--out", str(out / "results"), "--runs", str(out / "runs")])
    except SystemExit as ex:
        if ex.code:
            raise
    planned.append(path.name)
from inspect_ai import eval as inspect_eval
log = inspect_eval("msm/values_generalization", model="mockllm/model", limit=2,
                   log_dir=str(out / "logs"), display="none")[0]
print(json.dumps({
    "msm": msm.__file__, "specs": specs, "planned": planned, "eval": log.status,
    "top_level": {name: importlib.util.find_spec(name) is not None for name in ("harness", "tasks", "training")},
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (nothing is written into the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "dist")], check=True, timeout=300)
    (built,) = (tmp / "dist").glob("msm-*.whl")
    return built


def _shipped_files() -> set[str]:
    """Every file of the packaged folders the wheel must hold, as its path inside the wheel."""
    wanted = set()
    for folder in (*LIBRARIES, "specs", "experiments"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                wanted.add("msm/" + path.relative_to(ROOT).as_posix())
    for path in (ROOT / "msm").rglob("*.py"):
        if "__pycache__" not in path.parts:
            wanted.add(path.relative_to(ROOT).as_posix())
    return wanted


def test_the_wheel_holds_only_msm_and_every_shipped_file(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"msm"}, f"top-level names in the wheel: {sorted(top)}"
    missing = sorted(_shipped_files() - set(names))
    assert not missing, f"files of the checkout not in the wheel: {missing[:20]}"


def _venv_with_wheel(tmp: Path, wheel: Path) -> Path:
    """A fresh venv with the wheel installed (no dependencies) and this interpreter's
    site-packages on its path, processed as plain folders (no editable-install hooks)."""
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib, "_borrowed_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, timeout=300)
    return env_dir


def test_the_installed_wheel_works_outside_the_checkout(wheel, tmp_path):
    env_dir = _venv_with_wheel(tmp_path, wheel)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=outside, env=env, capture_output=True, text=True, timeout=600,
                              check=False)

    shown = run(str(env_dir / "bin" / "msm"), "demo", "--help")
    assert shown.returncode == 0 and "Usage: msm demo" in shown.stdout, shown.stderr[-2000:]

    done = run(str(env_dir / "bin" / "python"), "-c", CHECKS, str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["msm"]).is_relative_to(env_dir), found["msm"]  # the wheel's, not the checkout's
    assert sorted(found["specs"]) == sorted(p.stem for p in (ROOT / "specs").glob("*.md"))
    assert found["planned"] == sorted(p.name for p in (ROOT / "experiments").glob("*.yaml"))
    assert found["eval"] == "success"
    assert found["top_level"] == {"harness": False, "tasks": False, "training": False}
