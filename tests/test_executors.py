"""Executors: the same experiment serially and as jobs gives the same leaderboard; a killed
job is submitted again and the result is unchanged; a failing stage is reported and does not
stop independent arms; Slurm submissions are checked in the files submitit writes, with a
stand-in ``sbatch`` (no cluster)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from test_runner import SMALL, edit, tiny_base, write_experiment  # noqa: F401  (fixture)

from msm.runner import run_experiment, show
from msm.runner.executors import read_jobs
from msm.runner.plan import StageFailed

AFT = {"max_steps": 2, "per_device_train_batch_size": 2, "lora": False, "max_length": 96,
       "save_steps": 1}


def two_arms(aft_a: dict | None = None, aft_b: dict | None = None) -> dict:
    """Two independent arms (AFT only, different learning rates), each evaluated."""
    data = edit(SMALL, "arms", {
        "a": {"stages": ["aft"], "aft": {"learning_rate": 1e-4, **(aft_a or {})}},
        "b": {"stages": ["aft"], "aft": {"learning_rate": 2e-4, **(aft_b or {})}},
    })
    data = edit(data, "leaderboard", {"baseline": "a"})
    return edit(data, "roles", {})


def board(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "leaderboard.csv")
    return table[["arm", "n", "k", "rate"]].sort_values("arm").reset_index(drop=True)


def test_local_jobs_give_the_serial_leaderboard(tmp_path, tiny_base):  # noqa: F811
    path = write_experiment(tmp_path, two_arms(), tiny_base)
    run_experiment(path, out=tmp_path / "serial", runs=tmp_path / "runs_serial", verbose=False)
    result = run_experiment(path, out=tmp_path / "jobs", runs=tmp_path / "runs_jobs",
                            verbose=False, executor="local", jobs=2)
    pd.testing.assert_frame_equal(board(tmp_path / "serial"), board(tmp_path / "jobs"))
    assert len(result.ran) == 3 and result.leaderboards  # the data, two AFT stages
    jobs = read_jobs(tmp_path / "jobs")
    assert jobs["executor"] == "local" and {j["state"] for j in jobs["jobs"]} == {"done"}
    assert len(jobs["jobs"]) == 5  # the shared AFT data, two AFT stages, two evaluations


def test_a_killed_job_is_submitted_again_and_the_result_is_unchanged(tmp_path, tiny_base):  # noqa: F811
    build = {"build": "executor_helpers:dies_once", "args": {"sentinel": str(tmp_path / "killed")}}
    data = two_arms(aft_a={"data": [build]}, aft_b={"data": [build]})
    path = write_experiment(tmp_path, data, tiny_base)
    os.chdir(Path(__file__).parent)  # the jobs import executor_helpers from here
    run_experiment(path, out=tmp_path / "jobs", runs=tmp_path / "runs", verbose=False,
                   executor="local", jobs=2, allow_code=True)
    jobs = read_jobs(tmp_path / "jobs")["jobs"]
    killed = [j for j in jobs if j["attempts"] == 2]
    assert len(killed) == 1 and killed[0]["state"] == "done"  # the data stage, once more
    assert "ended without a result" in killed[0]["error"]  # what the first attempt ended as
    # a serial run of the same file (nothing killed: the sentinel is there) gives the same board
    run_experiment(path, out=tmp_path / "serial", runs=tmp_path / "runs2", verbose=False,
                   allow_code=True)
    pd.testing.assert_frame_equal(board(tmp_path / "serial"), board(tmp_path / "jobs"))


def test_a_failing_stage_is_reported_and_the_other_arm_goes_on(tmp_path, tiny_base):  # noqa: F811
    data = two_arms(aft_a={"data": [{"build": "executor_helpers:always_fails"}]})
    path = write_experiment(tmp_path, data, tiny_base)
    os.chdir(Path(__file__).parent)
    with pytest.raises(StageFailed) as info:
        run_experiment(path, out=tmp_path / "jobs", runs=tmp_path / "runs", verbose=False,
                       executor="local", jobs=2, allow_code=True)
    message = str(info.value)
    assert "1 job(s) failed" in message and "this stage always fails" in message
    assert "log " in message and ".err" in message  # where to look
    jobs = {j["label"]: j for j in read_jobs(tmp_path / "jobs")["jobs"]}
    states = sorted(j["state"] for j in jobs.values())
    # a's data failed, so a's AFT and evaluation were skipped; b's data, AFT and eval ran
    assert states == ["done", "done", "done", "failed", "skipped", "skipped"]
    assert any(j["state"] == "done" and "[b seed 0]" in label for label, j in jobs.items())


@pytest.fixture
def fake_sbatch(tmp_path, monkeypatch) -> Path:
    """An ``sbatch`` that records each submission file and answers as Slurm does (and an
    ``srun``, which submitit looks for before it submits anything)."""
    bin_dir, record = tmp_path / "bin", tmp_path / "submitted"
    bin_dir.mkdir()
    record.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "srun").chmod(0o755)
    script = bin_dir / "sbatch"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(ls "{record}" | wc -l); n=$((n + 100))\n'
        f'cp "$1" "{record}/$n.sh"\n'
        'echo "Submitted batch job $n"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_slurm_submissions_carry_resources_dependencies_and_the_unit(tmp_path, tiny_base,  # noqa: F811
                                                                     fake_sbatch, capsys):
    data = edit(two_arms(), "executor", {
        "defaults": {"cpus": 4, "time_min": 30, "partition": "gpu", "account": "lab",
                     "setup": ["module load cuda"]},
        "stages": {"aft": {"gpus": 8, "mem_gb": 256, "sbatch": {"qos": "high"}}},
    })
    path = write_experiment(tmp_path, data, tiny_base)
    run_experiment(path, out=tmp_path / "out", runs=tmp_path / "runs", executor="slurm",
                   detach=True)
    files = {int(p.stem): p.read_text() for p in fake_sbatch.glob("*.sh")}
    assert sorted(files) == [100, 101, 102, 103, 104]  # data, two AFT stages, two evaluations
    jobs = read_jobs(tmp_path / "out")["jobs"]
    by_unit = {j["unit"]: j for j in jobs}
    data_job = next(j["job_id"] for j in jobs if j["label"].startswith("data"))
    for unit, job in by_unit.items():
        text = files[int(job["job_id"])]
        assert "#SBATCH --partition=gpu" in text and "#SBATCH --account=lab" in text
        assert "module load cuda" in text and "#SBATCH --time=30" in text
        if job["label"].startswith("aft"):  # the aft resources; after the data it reads
            assert "#SBATCH --gpus-per-node=8" in text and "#SBATCH --qos=high" in text
            assert f"#SBATCH --dependency=afterok:{data_job}" in text
        elif job["label"].startswith("eval"):  # after its checkpoint's stage
            stage = by_unit[f"stage:{_stage_of(tmp_path, unit)}"]["job_id"]
            assert f"#SBATCH --dependency=afterok:{stage}" in text
            assert "gpus-per-node" not in text
        else:
            assert "--dependency" not in text
        # the command the job runs: submitit's runner on the pickled unit
        assert "submitit.core._submit" in text
        pickled = next((tmp_path / "out" / "jobs").glob(f"{job['job_id']}_submitted.pkl"))
        delayed = cloudpickle.loads(pickled.read_bytes())
        assert delayed.args == (unit,)
        assert delayed.function.fn.keywords["out"] == (tmp_path / "out").resolve()
    capsys.readouterr()
    show(path, out=tmp_path / "out", runs=tmp_path / "runs")  # msm status: ids and states
    printed = capsys.readouterr()
    status = printed.out + printed.err
    assert "jobs (slurm;" in status and "100  submitted" in status


def _stage_of(tmp_path: Path, eval_unit: str) -> str:
    from msm.experiment import load_experiment
    from msm.runner import build_plan

    arm = eval_unit.split(":")[1]
    exp = load_experiment(tmp_path / "small.yaml")
    plan = build_plan(exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "out")
    return next(e.model_step for e in plan.evaluations if e.arm == arm)


def test_dry_run_prints_the_job_graph_with_resources(tmp_path, tiny_base, capsys):  # noqa: F811
    data = edit(two_arms(), "executor", {"stages": {"aft": {"gpus": 8, "nodes": 1}}})
    path = write_experiment(tmp_path, data, tiny_base)
    run_experiment(path, out=tmp_path / "out", runs=tmp_path / "runs", executor="slurm",
                   dry_run=True)
    printed = capsys.readouterr()
    out = printed.out + printed.err
    assert "job graph (slurm):" in out and "gpus 8" in out and "after stage:" in out
    assert not (tmp_path / "out" / "jobs").exists()  # nothing submitted


def test_the_papers_example_block_submits_one_8_gpu_node_per_training_stage(tmp_path, fake_sbatch):
    """experiments/agentic_misalignment.yaml's executor block, submitted (not run: no cluster;
    the base model is not in this machine's cache, so the plan's units are submitted directly)."""
    from msm.experiment import load_experiment
    from msm.runner import build_plan, job_units
    from msm.runner.executors import submit_slurm

    example = Path(__file__).resolve().parent.parent / "experiments" / "agentic_misalignment.yaml"
    exp = load_experiment(example)
    plan = build_plan(exp, runs_dir=tmp_path / "runs", results_dir=tmp_path / "out")
    units = job_units(plan)
    submit_slurm(units, print, exp.executor, tmp_path / "jobs", echo=lambda _line: None)
    jobs = read_jobs(tmp_path)["jobs"]
    assert len(jobs) == len(units) == 13  # 7 stages and 6 evaluations
    for job in jobs:
        text = (fake_sbatch / f"{job['job_id']}.sh").read_text()
        assert "#SBATCH --partition=gpu" in text and "source .venv/bin/activate" in text
        if job["label"].startswith(("midtrain", "aft")):
            assert "#SBATCH --gpus-per-node=8" in text and "#SBATCH --nodes=1" in text
            assert "#SBATCH --mem=512GB" in text
        if job["label"].startswith("docgen"):
            assert "gpus-per-node" not in text and "#SBATCH --time=600" in text
