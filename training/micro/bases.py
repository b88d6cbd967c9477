"""The shipped micro bases: pretrained by this project's own `pretrain` with seeds 0, 1, 2, ...
and stored in the package, so that ``msm demo`` starts from released bases, as the paper starts
from a released base model, and gives the same result on every machine.

Each base is ``training/micro/bases/seed<N>/``: the Hugging Face checkpoint (``model.safetensors``,
``config.json``, ``generation_config.json``, the tokenizer files), ``pretrain_report.json``,
``msm_manifest.json`` (stage ``pretrain``) and ``shipped.json``: the seed, the pretraining
fields and their hash, the CPU that made it (model name, AVX2 / AVX-512 / AMX flags, the kernel
set torch used), the torch and transformers versions, the first steps' losses and the sha256 of
every other file. An experiment file selects them with ``base: {micro: {...}, shipped: true}``;
a base is used only if its hash matches the file's fields and seed.

Remake them (minutes per base on 2 cores; the seeds are consecutive, no base is chosen by its
result)::

    python -m msm.training.micro.bases                       # seeds 0 1 2, fields of micro_cheese.yaml
    python -m msm.training.micro.bases --seeds 0 1 2 3 --experiment experiments/micro_cheese.yaml
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from msm.harness import shipped
from msm.harness.errors import InputError
from msm.harness.fileio import write_json_atomic
from msm.training.micro.pretrain import CORPUS_FILE, REPORT_FILE, MicroPretrainConfig, pretrain

SHIPPED = Path(__file__).resolve().parent / "bases"
MANIFEST = "shipped.json"
NOT_HASHED = ("output_dir", "labels", "threads")
"""Fields that change neither the corpus nor the training (as the runner's pretrain key)."""
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16")


def config_of(fields: dict[str, Any]) -> dict[str, Any]:
    """Every pretraining field that shapes a base (defaults filled in), as JSON."""
    cfg = MicroPretrainConfig(**{k: v for k, v in fields.items() if k not in NOT_HASHED})
    return cfg.model_dump(mode="json", exclude=set(NOT_HASHED))


def config_hash(fields: dict[str, Any]) -> str:
    """16 hex digits of the pretraining fields that shape a base."""
    return hashlib.sha256(json.dumps(config_of(fields), sort_keys=True).encode()).hexdigest()[:16]


def sha256(path: Path) -> str:
    """The file's SHA-256, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def base_dir(seed: int, root: Path = SHIPPED) -> Path:
    """The folder of the base pretrained with `seed` under `root`."""
    return root / f"seed{seed}"


def shipped_base(fields: dict[str, Any], root: Path = SHIPPED, file: str | Path | None = None
                 ) -> tuple[Path, str]:
    """(folder, identity) of the shipped base for these pretraining fields (seed included);
    `InputError` naming ``base.shipped`` when there is none or it was made from other fields."""
    seed = int(fields.get("seed", 0))
    folder = base_dir(seed, root)
    path = folder / MANIFEST
    if not path.is_file():
        have = sorted(p.name for p in root.glob("seed*") if (p / MANIFEST).is_file())
        raise InputError(f"no shipped micro base for seed {seed} (shipped: {', '.join(have) or 'none'}); "
                         "set base.shipped: false (or msm demo --pretrain) to pretrain it here",
                         file=file, field="base.shipped")
    manifest = json.loads(path.read_text())
    if manifest["config_hash"] != config_hash(fields):
        theirs, ours = manifest["config"], config_of({**fields, "seed": seed})
        differ = sorted(k for k in ours if theirs.get(k) != ours[k])
        raise InputError(f"the shipped micro base seed{seed} was pretrained with other fields "
                         f"({', '.join(differ)}); set base.shipped: false (or msm demo --pretrain) to "
                         "pretrain these here, or remake the bases (python -m msm.training.micro.bases)",
                         file=file, field="base.shipped")
    return folder, f"shipped:{manifest['config_hash']}:{manifest['files']['model.safetensors']}"


def check_micro_base(exp, base, field: str) -> None:
    """Validate ``base: {micro: ...}`` of an experiment file: with ``per_seed`` the arms' seeds
    pick the bases, so ``micro.seed`` must not be set. (Whether the shipped bases it needs
    exist is checked when the run is planned, after ``msm demo --pretrain`` had its say.)"""
    if base.per_seed and "seed" in base.micro:
        raise InputError("with per_seed the arms' seeds pick the bases: leave micro.seed out",
                         file=exp.path, field=f"{field}.micro.seed")


def verify(folder: Path) -> list[str]:
    """What in a shipped base does not match its manifest (empty when all does)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    problems = [f"{name}: missing" for name in manifest["files"] if not (folder / name).is_file()]
    problems += [f"{name}: sha256 differs" for name, digest in manifest["files"].items()
                 if (folder / name).is_file() and sha256(folder / name) != digest]
    extra = {p.name for p in folder.iterdir()} - set(manifest["files"]) - {MANIFEST}
    problems += [f"{name}: not in the manifest" for name in sorted(extra)]
    if manifest["config_hash"] != config_hash(manifest["config"]):
        problems.append("config_hash does not match config")
    return problems


def cpu() -> dict[str, Any]:
    """The CPU's model name, its vector-extension flags and the kernel set torch dispatches to."""
    import torch

    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    lines = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    flags = set(lines.get("flags\t\t", "").split())
    return {
        "model": lines.get("model name\t", platform.processor()).strip(),
        "flags": [f for f in CPU_FLAGS if f in flags],
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
    }


def make_base(fields: dict[str, Any], seed: int, root: Path = SHIPPED, work: Path | None = None) -> Path:
    """Pretrain the base of `seed` and store it (without its corpus, which the fields rebuild)
    under `root` with its manifest."""
    import tempfile

    import torch
    import transformers

    threads = fields.get("threads") or 2  # the thread count changes float rounding: recorded
    fields = {**{k: v for k, v in fields.items() if k not in NOT_HASHED}, "seed": seed}
    scratch = Path(work or tempfile.mkdtemp(prefix="micro_base_")) / f"seed{seed}"
    trained = pretrain(MicroPretrainConfig(**fields, threads=threads, output_dir=scratch,
                                           labels={"shipped": "true"}))
    folder = base_dir(seed, root)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path in sorted(trained.iterdir()):
        if path.name != CORPUS_FILE:
            shutil.copy2(path, folder / path.name)
    report = json.loads((folder / REPORT_FILE).read_text())
    write_json_atomic(folder / MANIFEST, {
        "seed": seed,
        "config": config_of(fields),
        "config_hash": config_hash(fields),
        "cpu": cpu(),
        "threads": threads,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m msm.training.micro.bases --seeds {seed}",
        "first_losses": report["first_losses"],
        "files": {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.name != MANIFEST},
    })
    return folder


def experiment_fields(path: Path) -> dict[str, Any]:
    """The micro pretraining fields of an experiment file (``base.micro``, read as written: the
    bases it names may not exist yet)."""
    import yaml

    if not path.is_file():
        raise InputError("experiment file not found", file=path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    micro = raw.get("base", {}).get("micro") if isinstance(raw, dict) and isinstance(raw.get("base"), dict) else None
    if not isinstance(micro, dict):
        raise InputError("no micro base", file=path, field="base.micro")
    try:
        config_of(micro)
    except ValueError as ex:
        raise InputError(str(ex).splitlines()[0], file=path, field="base.micro") from ex
    return micro


def main(argv: list[str] | None = None) -> None:
    """Pretrain the shipped micro bases for the given seeds and store them with their hashes."""
    import argparse

    parser = argparse.ArgumentParser(description="Pretrain and store the shipped micro bases.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--experiment", type=Path, default=shipped("experiments") / "micro_cheese.yaml")
    parser.add_argument("--root", type=Path, default=SHIPPED, help="where to store them")
    args = parser.parse_args(argv)
    fields = experiment_fields(args.experiment)
    for seed in args.seeds:
        folder = make_base(fields, seed, args.root)
        report = json.loads((folder / REPORT_FILE).read_text())
        print(f"{folder}: held-out personas follow their value {report['heldout_value_agreement_mean']:.0%}, "
              f"{report['seconds']} s", flush=True)


if __name__ == "__main__":
    import sys

    try:
        main()
    except InputError as ex:
        sys.exit(f"error: {ex}")
