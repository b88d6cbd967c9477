"""Run an experiment file: train what is missing, evaluate every arm, write the leaderboard.

``msm run experiments/NAME.yaml`` validates the whole file (msm/experiment.py), builds a
plan, and executes it:

1. **Stages.** For each arm and seed, the arm's stages (docgen, deliberative data, midtrain,
   AFT; plus micro pretraining and built data files where the file asks for them). Each stage
   is keyed by a hash of its inputs: its settings, the spec's hash, the hashes of its data
   files, the seed, and the keys of the stages it builds on. Its output goes to
   ``runs/NAME/<stage>-<key>/`` and a ``msm_stage.json`` marker is written there when it
   finishes. A finished stage is reused (by every arm and seed whose inputs are the same); a
   changed spec or hyperparameter gives a new key and retrains; an interrupted stage is
   called again and resumes from its own checkpoints.
2. **Evaluation.** Every arm's final checkpoint (for each seed) on every listed task, with
   Inspect's ``eval_set`` into ``results/NAME/logs/<arm>/seed<k>-<key>/<task>-<hash>/``, so
   an interrupted evaluation resumes and finished ones are not rerun. Each checkpoint is loaded
   once for all its tasks and released before the next (a vLLM server is stopped). Model
   roles come from the file; eval metadata ``{arm, spec, seed, experiment, eval_seed}`` labels
   every log. The sampling of in-process models is seeded at the start of each evaluation
   (``eval.seed``), so an evaluation samples the same way whatever ran before it.
3. **Leaderboard.** ``msm.harness.leaderboard.write_leaderboard`` over the logs of every finished
   evaluation, into ``results/NAME/`` (one task) or ``results/NAME/<task>/`` (several).

``results/NAME/run_log.jsonl`` records every step with its timings; ``msm status`` reads it.

The parts, by job (each imports only the ones above it):

- `plan`: the data model (`Step`, `Evaluation`, `Plan`), stage keys, file hashes.
- `progress`: run log, locks, progress lines, the ``--dry-run`` / ``msm status`` tables.
- `output`: the work's own output on the terminal (``--verbose``) or in ``output.log``.
- `evaluation`: Task objects and `eval_set` through Inspect's public API; leaderboards.
- `stages`: what each stage does when it runs (docgen, deliberative data, training, launch).
- `validation`: stage configs validated with file-located errors; what a key hashes.
- `planning`: `build_plan`: every arm and seed's steps, shared where their inputs are.
- `execution`: `run_experiment`, the one entry point; dependency order with `graphlib`.

The ``msm run`` and ``msm status`` commands are in `msm.commands.experiment`.
"""

from msm.runner.execution import RunResult, job_units, run_experiment, show
from msm.runner.plan import (
    KINDS,
    LOCK,
    MARKER,
    RUN_LOG,
    STAGE_CHOICES,
    Evaluation,
    Plan,
    StageFailed,
    Step,
    checkpoint_model_string,
    file_hash,
    log_statuses,
)
from msm.runner.planning import build_plan
from msm.runner.progress import Lock, print_plan

__all__ = [
    "KINDS",
    "LOCK",
    "MARKER",
    "RUN_LOG",
    "STAGE_CHOICES",
    "Evaluation",
    "Lock",
    "Plan",
    "RunResult",
    "StageFailed",
    "Step",
    "build_plan",
    "checkpoint_model_string",
    "file_hash",
    "job_units",
    "log_statuses",
    "print_plan",
    "run_experiment",
    "show",
]
