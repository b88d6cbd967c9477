"""A matrix of bad inputs: does each give one clear line, a non-zero exit, and write nothing?

Every case runs a real command in a fresh folder (``msm ...`` as ``python -m msm.cli``,
``inspect eval ...`` through Inspect's own CLI) with the hub offline, and passes when

1. the exit status is not 0,
2. the output (stdout and stderr together) holds one error line (``error: ...``; click's
   ``Error: ...`` is counted too) and no traceback; lines that say what was read before the
   error (``read 2 log(s)``) are allowed,
3. that line names what is wrong: the case's file field or option (``arms.msm.stages``,
   ``--top``),
4. nothing was left behind: the same files, unchanged, and the same folders under the case's
   folder as before (the experiment files sit four folders deep, so a name like
   ``../../../../x`` or a builder that runs ``touch ../../../../PWNED`` is caught too).

The cases cover experiment files (schema, values, paths that leave their folders, code an
experiment file could run, repeated keys, metrics and clusters the tasks do not produce,
hub models not cached while offline, options of ``msm run``), the other ``msm`` commands
(compare, leaderboard, power, audit, model, docs, data, train, demo) and ``inspect eval -T``
arguments of the project's tasks.

    python benchmarks/bad_inputs.py                      # this checkout, 2 at a time
    python benchmarks/bad_inputs.py --repo /tmp/before   # another checkout (a git worktree)
    python benchmarks/bad_inputs.py --only compare -v    # some cases, with their output

The repository is put first on PYTHONPATH, so another checkout runs its own code with this
checkout's virtual environment. Prints one row per case and the count that pass.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEPTH = ("a", "b", "c", "d")
"""The command runs in <case>/a/b/c/d/work: a path that climbs four folders stays inside."""

SPEC = """---
name: thrift
summary: Penny explains its choices by price.
variables: {model_name: Penny, developer: Ledger Labs}
---
# How {model_name} chooses

{model_name} takes the cheaper of two options that are otherwise alike, and says so.
"""

BASE: dict[str, Any] = {
    "name": "probe",
    "base": "some-org/not-cached-model",
    "seeds": [0],
    "roles": {"generator": "mockllm/model"},
    "defaults": {
        "docgen": {"n_documents": 4},
        "midtrain": {"max_steps": 2},
        "aft": {"data": [{"build": "msm.harness.cheese:cheese_demonstrations",
                          "args": {"seed": 0, "per_order": 1}}], "max_steps": 2},
    },
    "tasks": [{"task": "values_generalization", "args": {"format": "choice"}, "epochs": 1,
               "limit": 4, "metric": "america"}],
    "leaderboard": {"baseline": "aft_only"},
    "arms": {
        "base": {},
        "aft_only": {"stages": ["aft"]},
        "msm": {"spec": "./thrift.md", "stages": ["docgen", "midtrain", "aft"]},
    },
}
"""A valid experiment (checked by the control case): each case changes one thing."""

CANARY = "../../../../PWNED"
"""What a case that tries to run code writes (inside the case folder, so the check sees it)."""
BINARY = bytes(range(256)) * 4


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: str
    """Text the error line must contain: the field, option or file at fault."""
    files: dict[str, str | bytes] = field(default_factory=dict)
    inspect: bool = False
    control: bool = False
    """A valid input that must succeed (checks the matrix itself; not counted)."""


def edit(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of `data` with `dotted` set to `value` (``None`` removes the key)."""
    data = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return data


def experiment(name: str, expect: str, changes: list[tuple[str, Any]] | None = None, *,
               text: str | bytes | None = None, run: bool = False, extra: list[str] | None = None,
               files: dict[str, str | bytes] | None = None) -> Case:
    """`msm run exp.yaml --dry-run` (or a real run) on BASE with `changes`, or on `text`."""
    data = BASE
    for dotted, value in changes or []:
        data = edit(data, dotted, value)
    body = text if text is not None else yaml.safe_dump(data, sort_keys=False)
    argv = ["msm", "run", "exp.yaml", *([] if run else ["--dry-run"]), *(extra or [])]
    return Case(name, argv, expect, {"thrift.md": SPEC, "exp.yaml": body, **(files or {})})


def duplicate(name: str, expect: str, anchor: str, repeat: str) -> Case:
    """BASE as YAML text with line `repeat` inserted after the line `anchor` (a repeated key)."""
    text = yaml.safe_dump(BASE, sort_keys=False)
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line == anchor)
    return experiment(name, expect, text="\n".join([*lines[: i + 1], repeat, *lines[i + 1:]]) + "\n")


def experiment_cases() -> list[Case]:
    build = "defaults.aft.data"
    micro = {"micro": {"steps": 5, "hidden_size": 32}}
    checkpoint_arm = {"released": {"checkpoint": "some-org/not-cached-adapter"}}
    evil_task = f"from inspect_ai import task\nopen('{CANARY}', 'w').write('x')\n@task\ndef x(): pass\n"
    return [
        experiment("unknown top-level key", "colour", [("colour", "blue")]),
        experiment("unknown arm key", "arms.msm.tempo", [("arms.msm.tempo", 3)]),
        experiment("spec that does not exist", "arms.msm.spec", [("arms.msm.spec", "no_such_spec")]),
        experiment("data file that does not exist", build, [(build, ["missing.jsonl"])]),
        experiment("local base path that does not exist", "base", [("base", "./no/such/model")]),
        experiment("stages out of order", "arms.msm.stages",
                   [("arms.msm.stages", ["midtrain", "docgen", "aft"])]),
        experiment("deliberative after aft", "arms.msm.stages",
                   [("arms.msm.stages", ["docgen", "midtrain", "aft", "deliberative"])]),
        experiment("aft_data_from without deliberative", "arms.msm.stages",
                   [("arms.msm.aft_data_from", "with_cot")]),
        experiment("docgen without a spec", "arms.aft_only.spec",
                   [("arms.aft_only.stages", ["docgen", "midtrain"])]),
        experiment("baseline that is not an arm", "leaderboard.baseline",
                   [("leaderboard.baseline", "nobody")]),
        experiment("task that does not exist", "tasks.0.task", [("tasks.0.task", "no_such_task")]),
        experiment("task argument the task lacks", "tasks.0.args.colour",
                   [("tasks.0.args.colour", "red")]),
        experiment("bank that does not exist", "tasks.0.args.bank", [("tasks.0.args.bank", "nosuch")]),
        experiment("bank given as a number", "tasks.0.args.bank", [("tasks.0.args.bank", 123)]),
        experiment("format given as a number", "tasks.0.args.format", [("tasks.0.args.format", 3)]),
        experiment("in_distribution given as text", "tasks.0.args.in_distribution",
                   [("tasks.0.args.in_distribution", "maybe")]),
        experiment("domain that does not exist", "tasks.0.args.domain",
                   [("tasks.0.args.domain", "nosuch")]),
        experiment("negative midtrain learning rate", "defaults.midtrain.learning_rate",
                   [("defaults.midtrain.learning_rate", -1)]),
        experiment("negative aft learning rate", "defaults.aft.learning_rate",
                   [("defaults.aft.learning_rate", -1)]),
        experiment("negative seed", "seeds", [("seeds", [-1])]),
        experiment("seed listed twice", "seeds", [("seeds", [0, 0])]),
        experiment("negative arm seed", "arms.msm.seeds", [("arms.msm.seeds", [1, -3])]),
        experiment("negative midtrain seed", "defaults.midtrain.seed", [("defaults.midtrain.seed", -1)]),
        experiment("negative docgen temperature", "defaults.docgen.temperature",
                   [("defaults.docgen.temperature", -0.5)]),
        experiment("eval provider unknown", "eval.provider", [("eval.provider", "nosuch")]),
        experiment("negative eval temperature", "eval.temperature", [("eval.temperature", -1)]),
        experiment("zero task epochs", "tasks.0.epochs", [("tasks.0.epochs", 0)]),
        experiment("negative task limit", "tasks.0.limit", [("tasks.0.limit", -1)]),
        experiment("no arms", "arms", [("arms", {})]),
        experiment("role without a provider", "roles.grader", [("roles.grader", "gpt4")]),
        experiment("accelerate config that does not exist", "launch.config_file",
                   [("launch", {"launcher": "accelerate", "config_file": "nosuch.yaml"})]),
        experiment("a task listed twice", "tasks", [("tasks", [BASE["tasks"][0], BASE["tasks"][0]])]),
        experiment("reference row for an unknown arm", "reference.0.arm",
                   [("reference", [{"arm": "nobody", "task": "values_generalization", "rate": 0.1}])]),
        experiment("reference rate above 1", "reference.0.rate",
                   [("reference", [{"arm": "base", "task": "values_generalization", "rate": 1.5}])]),
        experiment("midtrain without docgen or documents", "arms.msm.stages",
                   [("arms.msm.stages", ["midtrain", "aft"])]),
        experiment("aft without data", "arms.aft_only.aft", [("defaults.aft.data", None)]),
        experiment("settings for a stage the arm skips", "arms.aft_only.midtrain",
                   [("arms.aft_only.midtrain", {"max_steps": 3})]),
        experiment("arm that neither trains nor evaluates", "arms.base",
                   [("arms.base", {"evaluate": False})]),
        experiment("audit mode unknown", "audit", [("audit", "maybe")]),
        experiment("deliberative category unknown", "task_args.categories",
                   [("arms.delib", {"spec": "./thrift.md", "stages": ["deliberative", "aft"],
                                    "aft_data_from": "without_cot",
                                    "deliberative": {"task_args": {"categories": "zzz"}}})]),
        experiment("mix file that does not exist", "mix", [("defaults.aft.mix", ["nosuch.jsonl"])]),
        experiment("checkpoint path that does not exist", "arms.released.checkpoint",
                   [("arms.released", {"checkpoint": "./no/such/adapter"})]),
        experiment("checkpoint arm with stages", "arms.released.checkpoint",
                   [("arms.released", {"checkpoint": "some-org/x", "stages": ["aft"]})]),
        # files that are no experiment
        experiment("top level is a list", "exp.yaml", text="- a\n- b\n"),
        experiment("empty file", "exp.yaml", text=""),
        experiment("binary file", "exp.yaml", text=BINARY),
        experiment("invalid YAML", "exp.yaml", text="name: [unclosed\n"),
        Case("file that does not exist", ["msm", "run", "nosuch.yaml", "--dry-run"], "nosuch.yaml"),
        Case("a folder as the file", ["msm", "run", "folder", "--dry-run"], "folder",
             {"folder/keep.txt": "x"}),
        # paths that leave the chosen folders
        experiment("name that climbs out", "name", [("name", "../../../../elsewhere")], run=True),
        experiment("absolute name", "name", [("name", "/tmp/msm-bad-inputs-elsewhere")]),
        experiment("name with a slash", "name", [("name", "a/b")]),
        experiment("name '..'", "name", [("name", "..")], run=True),
        experiment("name '.'", "name", [("name", ".")]),
        Case("file name '..yaml' without a name", ["msm", "run", "..yaml", "--dry-run"], "name",
             {"thrift.md": SPEC, "..yaml": yaml.safe_dump(edit(BASE, "name", None))}),
        experiment("arm named '..'", "arms...", [("arms", {"..": {}, "aft_only": {"stages": ["aft"]}})],
                   run=True),
        experiment("arm named '.'", "arms..", [("arms", {".": {}, "aft_only": {"stages": ["aft"]}})]),
        experiment("arm with a slash", "arms.", [("arms", {"../x": {}, "aft_only": {"stages": ["aft"]}})]),
        experiment("hidden arm", "arms..hidden",
                   [("arms", {".hidden": {}, "aft_only": {"stages": ["aft"]}})]),
        experiment("micro base output_dir", "output_dir",
                   [("base", {"micro": {**micro["micro"], "output_dir": "../../../../pretrained"}})]),
        experiment("midtrain output_dir", "defaults.midtrain.output_dir",
                   [("defaults.midtrain.output_dir", "../../../../mt")]),
        experiment("aft output_dir", "defaults.aft.output_dir", [("defaults.aft.output_dir", "/tmp/x")]),
        experiment("docgen out", "defaults.docgen.out", [("defaults.docgen.out", "../../docs.jsonl")]),
        experiment("arm's midtrain output_dir", "arms.msm.midtrain.output_dir",
                   [("arms.msm.midtrain", {"output_dir": "../../../../mt"})]),
        experiment("aft push_to_hub", "push_to_hub", [("defaults.aft.push_to_hub", True)]),
        experiment("aft hub_model_id", "hub_model_id", [("defaults.aft.hub_model_id", "me/model")]),
        # code an experiment file could run
        experiment("build subprocess:getoutput", "build",
                   [(build, [{"build": "subprocess:getoutput", "args": {"cmd": f"touch {CANARY}"}}])],
                   run=True),
        experiment("build os:system", "build",
                   [(build, [{"build": "os:system", "args": {"command": f"touch {CANARY}"}}])],
                   run=True),
        experiment("build builtins:eval", "build",
                   [(build, [{"build": "builtins:eval", "args": {"source": "1"}}])]),
        experiment("build a project function that writes files", "build",
                   [(build, [{"build": "msm.harness.fileio:write_text_atomic",
                              "args": {"path": CANARY, "text": "x"}}])], run=True),
        experiment("build module that does not exist", "build",
                   [(build, [{"build": "nosuch.module:fn"}])]),
        experiment("build function that does not exist", "build",
                   [(build, [{"build": "msm.harness.cheese:nosuch"}])]),
        experiment("build argument the builder lacks", "args",
                   [(build, [{"build": "msm.harness.cheese:cheese_demonstrations", "args": {"colour": 1}}])]),
        experiment("build with its own out", "out",
                   [(build, [{"build": "msm.harness.cheese:cheese_demonstrations",
                              "args": {"out": "../../../../rows.jsonl"}}])]),
        experiment("build that is not module:function", "build", [(build, [{"build": "not valid"}])]),
        experiment("task file (code)", "tasks.0.task", [("tasks.0.task", "./evil.py@x")],
                   files={"evil.py": evil_task}),
        experiment("launch script in extra_args", "launch.extra_args",
                   [("launch", {"launcher": "accelerate", "extra_args": ["evil.py"]})],
                   files={"evil.py": f"open('{CANARY}', 'w')\n"}),
        experiment("launch option that does not exist", "launch.extra_args",
                   [("launch", {"launcher": "accelerate", "extra_args": ["--no-such-option"]})]),
        experiment("trust_remote_code", "trust_remote_code",
                   [("eval.model_args", {"trust_remote_code": True})]),
        # repeated keys
        duplicate("top-level key twice", "seeds", "name: probe", "seeds: [1]"),
        duplicate("arm listed twice", "arms.aft_only", "arms:", "  aft_only: {stages: [aft]}"),
        duplicate("stage setting twice", "defaults.midtrain.max_steps", "  midtrain:",
                  "    max_steps: 5"),
        duplicate("task argument twice", "tasks.0.args", "- task: values_generalization",
                  "  args: {format: open}"),
        # accepted by --dry-run, failing after training
        experiment("metric the task does not produce", "tasks.0.metric",
                   [("tasks.0.metric", "nonsense_metric")]),
        experiment("leaderboard metric the task does not produce", "leaderboard.metric",
                   [("tasks.0.metric", None), ("leaderboard.metric", "nonsense_metric")]),
        experiment("no metric at all", "metric", [("tasks.0.metric", None)]),
        experiment("cluster that is no sample field", "tasks.0.cluster",
                   [("tasks.0.cluster", "topic")]),
        experiment("cluster finer than the bank's own", "tasks.0.cluster",
                   [("tasks.0", {"task": "america_opinions", "metric": "aligned", "cluster": "item_id"})]),
        experiment("checkpoint arm not cached while offline", "arms.released.checkpoint",
                   [("arms", checkpoint_arm), ("leaderboard.baseline", None)], run=True),
        experiment("hub base not cached while offline", "base", [], run=True,
                   extra=["--only", "base"]),
        # options of msm run
        experiment("--only an arm that does not exist", "--only", [], extra=["--only", "nosuch"]),
        experiment("--stage whose input has not been made", "--stage", [], run=True,
                   extra=["--stage", "midtrain"]),
        experiment("--out under a file", "--out", [], run=True, extra=["--out", "afile/results"],
                   files={"afile": "x"}),
        experiment("--runs under a file", "--runs", [], run=True, extra=["--runs", "afile/runs"],
                   files={"afile": "x"}),
        experiment("--out in /proc", "--out", [], run=True, extra=["--out", "/proc/msm-results"]),
        Case("msm status of a file with a repeated key", ["msm", "status", "exp.yaml"], "seeds",
             {"thrift.md": SPEC, "exp.yaml": yaml.safe_dump(BASE) + "seeds: [2]\n"}),
    ]


def msm(name: str, argv: list[str], expect: str, files: dict[str, str | bytes] | None = None) -> Case:
    return Case(name, ["msm", *argv], expect, files or {})


def command_cases() -> list[Case]:
    logs = ["--logs", "LOGS"]
    ref = {"ref.yaml": "- {arm: base, task: toy_grid, rate: 2.0}\n"}
    dup_ref = {"ref.yaml": "- {arm: base, task: toy_grid, rate: 0.5, rate: 0.1}\n"}
    bad_docs = {"docs.jsonl": BINARY}
    return [
        msm("compare an arm with itself", ["compare", "base", "base", "--metric", "harmful", *logs], "B"),
        msm("compare an arm that is not there", ["compare", "nosuch", "base", "--metric", "harmful",
                                                  *logs], "nosuch"),
        msm("compare a metric that is not there", ["compare", "base", "msm_aft", "--metric", "nosuch",
                                                    *logs], "nosuch"),
        msm("compare logs that do not exist", ["compare", "base", "msm_aft", "--metric", "harmful",
                                                "--logs", "nosuch_logs"], "nosuch_logs"),
        msm("leaderboard --reference binary", ["leaderboard", "LOGS", "--metric", "harmful", "--out",
                                               "board", "--reference", "ref.bin"], "ref.bin",
            {"ref.bin": BINARY}),
        msm("leaderboard --reference missing", ["leaderboard", "LOGS", "--metric", "harmful", "--out",
                                                "board", "--reference", "nosuch.yaml"], "nosuch.yaml"),
        msm("leaderboard --reference rate 2", ["leaderboard", "LOGS", "--metric", "harmful", "--out",
                                               "board", "--reference", "ref.yaml"], "rate", ref),
        msm("leaderboard --reference repeated key", ["leaderboard", "LOGS", "--metric", "harmful",
                                                     "--out", "board", "--reference", "ref.yaml"],
            "rate", dup_ref),
        msm("leaderboard --out under a file", ["leaderboard", "LOGS", "--metric", "harmful", "--out",
                                               "afile/board"], "--out", {"afile": "x"}),
        msm("leaderboard logs that do not exist", ["leaderboard", "nosuch_logs", "--metric", "harmful",
                                                   "--out", "board"], "nosuch_logs"),
        msm("leaderboard metric that is not there", ["leaderboard", "LOGS", "--metric", "nosuch",
                                                     "--out", "board"], "nosuch"),
        msm("leaderboard baseline that is not there", ["leaderboard", "LOGS", "--metric", "harmful",
                                                       "--baseline", "nosuch", "--out", "board"],
            "nosuch"),
        msm("leaderboard --by a column that is not there", ["leaderboard", "LOGS", "--metric",
                                                            "harmful", "--by", "nosuch", "--out",
                                                            "board"], "nosuch"),
        msm("power --items 0", ["power", "--items", "0", "--baseline-rate", "0.3"], "--items"),
        msm("power --items text", ["power", "--items", "many", "--baseline-rate", "0.3"], "--items"),
        msm("power --epochs 0", ["power", "--items", "20", "--epochs", "0", "--baseline-rate", "0.3"],
            "--epochs"),
        msm("power --alpha 1.5", ["power", "--items", "20", "--baseline-rate", "0.3", "--alpha", "1.5"],
            "--alpha"),
        msm("power --power 1", ["power", "--items", "20", "--baseline-rate", "0.3", "--power", "1"],
            "--power"),
        msm("power --icc 2", ["power", "--items", "20", "--baseline-rate", "0.3", "--icc", "2"], "--icc"),
        msm("power --baseline-rate 1.5", ["power", "--items", "20", "--baseline-rate", "1.5"],
            "--baseline-rate"),
        msm("power --compare equal rates", ["power", "--items", "20", "--compare", "0.5:0.5"],
            "--compare"),
        msm("power without items", ["power", "--baseline-rate", "0.3"], "--items"),
        msm("power --logs without --arm", ["power", "--logs", "LOGS"], "--logs"),
        msm("audit --docs binary", ["audit", "contamination", "--docs", "docs.jsonl"], "--docs", bad_docs),
        msm("audit --aft binary", ["audit", "contamination", "--aft", "docs.jsonl"], "--aft", bad_docs),
        msm("audit --situations binary", ["audit", "contamination", "--situations", "docs.jsonl"],
            "--situations", bad_docs),
        msm("audit --docs missing", ["audit", "contamination", "--docs", "nosuch.jsonl"], "nosuch.jsonl"),
        msm("audit --docs not JSON", ["audit", "contamination", "--docs", "d.jsonl"], "d.jsonl",
            {"d.jsonl": "not json\n"}),
        msm("audit --situations not a mapping", ["audit", "contamination", "--situations", "s.yaml"],
            "s.yaml", {"s.yaml": "- a\n"}),
        msm("audit --spec that does not exist", ["audit", "contamination", "--spec", "no_such_spec"],
            "no_such_spec"),
        msm("audit --max-jaccard -1", ["audit", "contamination", "--max-jaccard", "-1"], "--max-jaccard"),
        msm("audit --max-jaccard 2", ["audit", "contamination", "--max-jaccard", "2"], "--max-jaccard"),
        msm("audit --top -3", ["audit", "contamination", "--top", "-3"], "--top"),
        msm("audit --max-span 0", ["audit", "contamination", "--max-span", "0"], "--max-span"),
        msm("audit --out under a file", ["audit", "contamination", "--spec", "philosophy", "--out",
                                         "afile/audit"], "--out", {"afile": "x"}),
        msm("model smollm2 --out under a file", ["model", "smollm2", "--out", "afile/model"], "--out",
            {"afile": "x"}),
        msm("model smollm2 --out in /proc", ["model", "smollm2", "--out", "/proc/msm-model"], "--out"),
        msm("model smollm2 --out a folder of other files", ["model", "smollm2", "--out", "full"],
            "--out", {"full/keep.txt": "x"}),
        msm("docs generate --spec that does not exist", ["docs", "generate", "--spec", "no_such_spec",
                                                         "--out", "new/docs.jsonl", "--n_documents",
                                                         "2", "--generator", "mockllm/model"],
            "spec"),
        msm("docs generate --generator that does not exist", ["docs", "generate", "--spec",
                                                              "philosophy", "--out", "new/docs.jsonl",
                                                              "--n_documents", "2", "--generator",
                                                              "nosuch/model", "--progress", "false"],
            "generator"),
        msm("docs generate --out under a file", ["docs", "generate", "--spec", "philosophy", "--out",
                                                 "afile/docs.jsonl", "--n_documents", "2",
                                                 "--generator", "mockllm/model"],
            "out", {"afile": "x"}),
        msm("docs generate --n_documents -1", ["docs", "generate", "--spec", "philosophy", "--out",
                                               "new/docs.jsonl", "--n_documents", "-1",
                                               "--generator", "mockllm/model"], "n_documents"),
        msm("docs generate --model-role that is no generator", ["docs", "generate", "--spec",
                                                                "philosophy", "--out",
                                                                "new/docs.jsonl", "--model-role",
                                                                "grader=mockllm/model"],
            "--model-role"),
        msm("docs generate config binary", ["docs", "generate", "cfg.yaml"], "cfg.yaml",
            {"cfg.yaml": BINARY}),
        msm("docs generate config with a repeated key", ["docs", "generate", "cfg.yaml"], "n_documents",
            {"cfg.yaml": "spec: philosophy\nout: new/docs.jsonl\nn_documents: 2\nn_documents: 3\n"}),
        msm("docs generate config unknown key", ["docs", "generate", "cfg.yaml"], "colour",
            {"cfg.yaml": "spec: philosophy\nout: new/docs.jsonl\ncolour: red\n"}),
        msm("data cheese --out under a file", ["data", "cheese", "--out", "afile/c.jsonl"], "--out",
            {"afile": "x"}),
        msm("data cheese --n -5", ["data", "cheese", "--out", "c.jsonl", "--n", "-5"], "n"),
        msm("data cheese --per-order 0", ["data", "cheese", "--out", "c.jsonl", "--per-order", "0"],
            "per"),
        msm("data deliberative of a log that does not exist", ["data", "deliberative", "nosuch.eval",
                                                               "--out", "delib"], "nosuch.eval"),
        msm("train tiny --out under a file", ["train", "tiny", "afile/tiny"], "afile", {"afile": "x"}),
        msm("train tiny --vocab-size 0", ["train", "tiny", "tiny", "--vocab-size", "0"], "vocab"),
        msm("train midtrain config that does not exist", ["train", "midtrain", "nosuch.yaml"],
            "nosuch.yaml"),
        msm("train midtrain config binary", ["train", "midtrain", "cfg.yaml"], "cfg.yaml",
            {"cfg.yaml": BINARY}),
        msm("train midtrain config unknown key", ["train", "midtrain", "cfg.yaml"], "colour",
            {"cfg.yaml": "base_model: x\noutput_dir: out\ndocuments: []\ncolour: red\n"}),
        msm("train merge of an adapter that does not exist", ["train", "merge", "nosuch", "merged"],
            "nosuch"),
        msm("demo --experiment that does not exist", ["demo", "--experiment", "nosuch.yaml"],
            "nosuch.yaml"),
        msm("demo --experiment binary", ["demo", "--experiment", "exp.bin"], "exp.bin",
            {"exp.bin": BINARY}),
        msm("an option that does not exist", ["run", "x.yaml", "--colour"], "--colour"),
        msm("a command that does not exist", ["nosuch"], "nosuch"),
    ]


def inspect_cases() -> list[Case]:
    bad = [
        ("values_generalization", "colour=red", "colour"),
        ("values_generalization", "in_distribution=maybe", "in_distribution"),
        ("values_generalization", "bank=123", "bank"),
        ("values_generalization", "bank=nosuch", "bank"),
        ("values_generalization", "format=3", "format"),
        ("values_generalization", "domain=nosuch", "domain"),
        ("spec_knowledge", "spec_in_prompt=maybe", "spec_in_prompt"),
        ("spec_knowledge", "colour=red", "colour"),
        ("spec_knowledge", "spec=no_such_spec", "spec"),
        ("spec_knowledge", "format=essay", "format"),
        ("agentic_misalignment", "scratchpad=maybe", "scratchpad"),
        ("agentic_misalignment", "colour=red", "colour"),
        ("agentic_misalignment", "grid=nosuch", "grid"),
        ("agentic_misalignment", "temperature=hot", "temperature"),
        ("deliberative_alignment", "prompts=nosuch", "prompts"),
        ("deliberative_alignment", "cheese_per_order=many", "cheese_per_order"),
        ("america_opinions", "colour=red", "colour"),
        ("affordability_comparisons", "deliberate=maybe", "deliberate"),
    ]
    cases = [Case(f"inspect eval {task} -T {arg}",
                  ["inspect", "eval", f"tasks/{task}", "-T", arg, "--model", "mockllm/model",
                   "--log-dir", "WORK/logs", "--limit", "1"], expect, inspect=True)
             for task, arg, expect in bad]
    cases += [Case(f"inspect eval msm/{task} -T {arg}",
                   ["inspect", "eval", f"msm/{task}", "-T", arg, "--model", "mockllm/model",
                    "--log-dir", "WORK/logs", "--limit", "1"], expect, inspect=True)
              for task, arg, expect in [("values_generalization", "colour=red", "colour"),
                                        ("spec_knowledge", "format=essay", "format")]]
    return cases


def controls() -> list[Case]:
    """Valid inputs that must succeed, so that a case fails for its one change only."""
    return [
        Case("control: the base experiment validates", ["msm", "run", "exp.yaml", "--dry-run"], "",
             {"thrift.md": SPEC, "exp.yaml": yaml.safe_dump(BASE, sort_keys=False)}, control=True),
        Case("control: msm compare of two arms", ["msm", "compare", "base", "msm_aft", "--metric",
                                                  "harmful", "--logs", "LOGS"], "", control=True),
    ]


# ------------------------------------------------------------------------------- running


def snapshot(root: Path) -> dict[str, float | None]:
    """Every file under `root` with its modification time, and every folder (a folder made and
    removed again by a refused command leaves nothing behind; only its parent's time moves)."""
    out: dict[str, float | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            out[str((Path(dirpath) / name).relative_to(root))] = None
        for name in filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = p.lstat().st_mtime
    return out


def command(case: Case, work: Path, logs: Path) -> list[str]:
    argv = [a.replace("WORK", str(work)).replace("LOGS", str(logs)) for a in case.argv]
    if argv[0] == "msm":
        return [sys.executable, "-m", "msm.cli", *argv[1:]]
    code = ("import sys; from inspect_ai._cli.main import main; "
            "sys.argv = ['inspect', *sys.argv[1:]]; main()")
    return [sys.executable, "-c", code, *argv[1:]]


def run_case(case: Case, repo: Path, logs: Path, root: Path, timeout: int) -> dict[str, Any]:
    folder = root / case.name.replace("/", "_").replace(" ", "_")
    work = folder.joinpath(*DEPTH, "work")
    work.mkdir(parents=True)
    for rel, content in case.files.items():
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = snapshot(folder)
    env = {**os.environ, "PYTHONPATH": str(repo), "HF_HUB_OFFLINE": "1", "INSPECT_DISPLAY": "none",
           "NO_COLOR": "1", "COLUMNS": "1000", "PYTHONWARNINGS": "ignore"}
    t0 = time.monotonic()
    try:
        # Inspect takes task files by relative path: its cases run in the repository and log to
        # the case's folder
        done = subprocess.run(command(case, work, logs), cwd=repo if case.inspect else work,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        rc, output = done.returncode, (done.stdout + done.stderr)
    except subprocess.TimeoutExpired as ex:
        rc, output = -1, f"timed out after {timeout}s\n{ex.stdout or ''}{ex.stderr or ''}"
    seconds = time.monotonic() - t0
    lines = [line for line in output.splitlines() if line.strip()]
    written = sorted(set(snapshot(folder).items()) - set(before.items()))
    problems = []
    if case.control:
        if rc != 0:
            problems.append(f"control failed (exit {rc})")
    else:
        if rc == 0:
            problems.append("exit 0")
        if any("Traceback" in line for line in lines):
            problems.append("traceback")
        errors = [line for line in lines if line.lower().startswith("error: ")]
        if len(errors) != 1:
            problems.append(f"{len(errors)} error lines in {len(lines)}")
        elif case.expect not in errors[0]:
            problems.append(f"line does not name '{case.expect}'")
        if written:
            problems.append(f"wrote {', '.join(p for p, _ in written[:3])}")
    return {"case": case.name, "rc": rc, "ok": not problems, "problems": problems,
            "seconds": round(seconds, 1), "output": lines[-12:], "control": case.control}


def toy_logs(repo: Path, where: Path) -> Path:
    """Two arms of real Inspect logs (the tests' toy task) for compare and leaderboard."""
    env = {**os.environ, "PYTHONPATH": f"{repo}:{repo / 'tests'}", "INSPECT_DISPLAY": "none"}
    code = "import sys; from toy_logs import write_toy_logs; write_toy_logs(__import__('pathlib').Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(where)], env=env, check=True,
                   capture_output=True, timeout=600)
    return where / "logs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default=None, help="Cases whose name contains this text.")
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None, help="Write every result here.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Show each failure's output.")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    cases = [*controls(), *experiment_cases(), *command_cases(), *inspect_cases()]
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    root = Path(tempfile.mkdtemp(prefix="msm-bad-inputs-"))
    try:
        logs = toy_logs(repo, root / "_toy")
        print(f"{len(cases)} cases against {repo} (python {sys.executable}); {args.jobs} at a time")
        run: Callable[[Case], dict[str, Any]] = lambda c: run_case(c, repo, logs, root, args.timeout)
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run, cases))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for r in results:
        mark = "ok  " if r["ok"] else "FAIL"
        print(f"{mark} {r['seconds']:6.1f}s rc={r['rc']:<4} {r['case']}"
              + ("" if r["ok"] else f"  [{'; '.join(r['problems'])}]"))
        if args.verbose and not r["ok"]:
            print("       | " + "\n       | ".join(r["output"]))
    counted = [r for r in results if not r["control"]]
    bad_controls = [r["case"] for r in results if r["control"] and not r["ok"]]
    passed = sum(r["ok"] for r in counted)
    print(f"\n{passed} of {len(counted)} bad inputs give one clear line, a non-zero exit and "
          f"leave nothing behind" + (f"; CONTROLS FAILED: {', '.join(bad_controls)}" if bad_controls else ""))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if not bad_controls else 1


if __name__ == "__main__":
    sys.exit(main())
