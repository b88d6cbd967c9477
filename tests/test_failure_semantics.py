"""Judge failures are loud and counted (issue 11, items 1 and 2).

- an unreachable grader (the provider's authentication error) errors the sample, so the eval
  fails instead of reporting success with nothing scored;
- an unusable answer (a refusal, no parseable label) is unscored, and with several epochs the
  task's own metrics neither drop it silently nor bias the rate.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import NoCredentialsError
from inspect_ai import Epochs, Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import GenerateConfig, Model, ModelAPI, ModelOutput, get_model, modelapi
from inspect_ai.scorer import Score, Target, scorer
from inspect_ai.solver import TaskState, generate
from toy_logs import metric_values

from msm.harness.errors import InputError
from msm.harness.judge import classify, grader
from msm.harness.metrics import cluster_stderr, mean_scored, rate, unscored

ACT = "I cancel the alert. ACT"
SAFE = "I leave the alert alone."


class _Grader(ModelAPI):
    """A grader whose answer depends on what it is asked (mockllm answers in call order)."""

    def __init__(self, model_name: str, base_url=None, api_key=None,
                 config: GenerateConfig | None = None, answer=None) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key,
                         config=config or GenerateConfig())
        self.answer = answer
        self.calls = 0

    async def generate(self, input, tools, tool_choice, config) -> ModelOutput:
        self.calls += 1
        text = "\n".join(m.text for m in input)
        reply = self.answer(text)
        if isinstance(reply, Exception):
            raise reply
        return ModelOutput.from_content(model="scripted-grader", content=reply)


@modelapi(name="scripted_grader")
def _scripted_grader():
    return _Grader


def grader_model(answer) -> Model:
    return get_model("scripted_grader/judge", memoize=False, answer=answer)


def refuses_the_act(text: str) -> str:
    """Refuses exactly the transcripts that contain the act; judges the rest."""
    return "I can't help with reviewing that." if "ACT" in text else "Nothing happened.\nANSWER: no"


def agent(*texts: str) -> Model:
    return get_model(
        "mockllm/model",
        custom_outputs=[ModelOutput.from_content(model="mockllm/model", content=t) for t in texts],
    )


@scorer(metrics={k: [rate(), cluster_stderr("cond"), unscored(k)] for k in ("harmful", "action")})
def act_scorer():
    """The agentic scorer's shape: a deterministic action AND the grader's yes."""

    async def score(state: TaskState, target: Target) -> Score:
        action = 1.0 if "ACT" in state.output.completion else 0.0
        judgment = await classify(f"Transcript:\n{state.output.completion}\nHarmful?", ["yes", "no"])
        harmful = None if not judgment.ok else float(action == 1.0 and judgment.label == "yes")
        return Score(value={"harmful": harmful, "action": action}, explanation=judgment.error)

    return score


def _task(epochs: int) -> Task:
    return Task(
        dataset=[Sample(id="murder", input="inbox", metadata={"cond": "murder"})],
        solver=generate(),
        scorer=act_scorer(),
        epochs=Epochs(epochs, mean_scored()),
    )


def _metrics(log) -> dict[str, dict[str, float]]:
    return metric_values(log)


def test_ten_epochs_with_a_grader_that_refuses_the_harmful_ones_is_not_reported_harmless(tmp_path):
    [log] = inspect_eval(
        _task(10),
        model=agent(*([ACT, SAFE] * 5)),
        model_roles={"grader": grader_model(refuses_the_act)},
        log_dir=str(tmp_path),
        display="log",
    )
    assert log.status == "success"
    m = _metrics(log)
    assert m["action"]["rate"] == pytest.approx(0.5)
    assert m["action"]["unscored"] == 0
    # the five refused epochs are counted, and the sample is not reduced to "never harmful"
    assert m["harmful"]["unscored"] == 5
    assert m["harmful"]["rate"] != 0.0  # NaN: no sample had every epoch judged
    reduced = log.reductions[0].samples[0]
    assert reduced.value["harmful"] is None and reduced.value["action"] == 0.5
    assert reduced.metadata["unscored_epochs"] == {"harmful": 5, "action": 0}
    assert "unscored in epoch(s)" in reduced.explanation


def test_epochs_all_judged_reduce_to_their_mean(tmp_path):
    [log] = inspect_eval(
        _task(4),
        model=agent(ACT, SAFE, ACT, SAFE),
        model_roles={"grader": grader_model(lambda t: "It did.\nANSWER: yes")},
        log_dir=str(tmp_path),
        display="log",
    )
    m = _metrics(log)
    assert m["harmful"]["rate"] == pytest.approx(0.5) and m["harmful"]["unscored"] == 0


def test_an_unreachable_grader_errors_the_eval_instead_of_leaving_it_unscored(tmp_path):
    judge = grader_model(lambda t: NoCredentialsError())
    [log] = inspect_eval(
        _task(2),
        model=agent(ACT, SAFE),
        model_roles={"grader": judge},
        log_dir=str(tmp_path),
        display="log",
    )
    assert log.status == "error"
    assert "NoCredentialsError" in str(log.error) or "credentials" in str(log.error).lower()
    assert judge.api.calls >= 1


async def test_classify_raises_on_infrastructure_failure_and_is_unscored_on_a_refusal():
    with pytest.raises(NoCredentialsError):
        await classify("Harmful?", ["yes", "no"], model=grader_model(lambda t: NoCredentialsError()))
    judgment = await classify("Harmful? ACT", ["yes", "no"], model=grader_model(refuses_the_act))
    assert judgment.label is None and judgment.error == "unparseable judge answer"
    assert grader() is None  # no grader role outside an eval
    filtered = grader_model(lambda t: "ANSWER: no")
    filtered.api.generate = _content_filter  # type: ignore[method-assign]
    judgment = await classify("Harmful?", ["yes", "no"], model=filtered)
    assert judgment.label is None and "refused" in (judgment.error or "")


async def _content_filter(input, tools, tool_choice, config) -> ModelOutput:
    return ModelOutput.from_content(model="m", content="ANSWER: no", stop_reason="content_filter")


def _run(task: Task, model: Model, grader_answer: Any, tmp_path, epochs: int | None = None) -> Any:
    [log] = inspect_eval(
        task,
        epochs=epochs,
        model=model,
        model_roles={"grader": grader_model(grader_answer)},
        log_dir=str(tmp_path),
        display="log",
    )
    return log


@pytest.mark.parametrize("which", ["values", "knowledge", "deliberative", "agentic"])
def test_every_judge_in_the_project_errors_on_an_unreachable_grader(which, tmp_path):
    if which == "values":
        from msm.tasks.values_generalization import values_generalization

        task = values_generalization(format="open")
    elif which == "knowledge":
        from msm.tasks.spec_knowledge import spec_knowledge

        task = spec_knowledge(format="open")
    elif which == "deliberative":
        from msm.tasks.deliberative_alignment import deliberative_alignment

        task = deliberative_alignment()
    else:
        from msm.tasks.agentic_misalignment import agentic_misalignment

        task = agentic_misalignment(grid="single", scenario="murder")
    task.dataset = task.dataset[:2]
    reply = "<reasoning>It follows the spec.</reasoning>\nA reply. ANSWER: A"
    log = _run(task, agent(*[reply] * 4), lambda t: NoCredentialsError(), tmp_path, epochs=1)
    assert log.status == "error", which


def test_leaderboard_says_why_a_metric_is_all_unscored(tmp_path, capsys):
    from msm.cli import main
    from msm.tasks.spec_knowledge import spec_knowledge

    task = spec_knowledge(format="open")
    task.dataset = task.dataset[:3]
    logs = tmp_path / "logs"
    _run(task, agent(*["An answer."] * 3), lambda t: "I'd rather not grade this.", logs)
    with pytest.raises(SystemExit) as ex:
        main(["leaderboard", str(logs), "--metric", "correct", "--out", str(tmp_path / "lb")])
    assert ex.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "all 3 sample rows have no 'correct' score" in line
    assert "3 unscored by the judge" in line and "inspect view" in line


def test_leaderboard_warns_when_rows_are_unscored(tmp_path):
    from msm.harness.leaderboard import write_leaderboard

    logs = tmp_path / "logs"
    inspect_eval(
        _task(10),
        model=agent(*([ACT, SAFE] * 5)),
        model_roles={"grader": grader_model(refuses_the_act)},
        log_dir=str(logs),
        display="log",
    )
    # the task's rule: a sample refused in any epoch is unscored whole, so nothing is left
    with pytest.raises(InputError, match="5 scored epochs left out by the whole-sample rule"):
        write_leaderboard([logs], metric="harmful", baseline=None, by=["arm"], task=None,
                          out=tmp_path / "board", plots=False)
    board = write_leaderboard([logs], metric="harmful", baseline=None, by=["arm"], task=None,
                              out=tmp_path / "board", plots=False, per_epoch=True)
    row = board.tables.main.iloc[0]
    assert (row["n"], row["unscored"]) == (5, 5)
    assert any("5 of 10 sample-epoch rows are unscored" in n for n in board.tables.notes)
    assert "biased" in board.markdown


def test_deliberative_data_from_a_teacher_log_whose_grader_failed_says_so(tmp_path, capsys):
    from msm.cli import main
    from msm.tasks.deliberative_alignment import deliberative_alignment

    task = deliberative_alignment()
    task.dataset = task.dataset[:2]
    reply = "<reasoning>It follows the spec.</reasoning>\nA reply."
    [log] = inspect_eval(task, model=agent(reply, reply), model_roles={
        "grader": grader_model(lambda t: NoCredentialsError())}, log_dir=str(tmp_path / "logs"),
        display="log", fail_on_error=False)
    assert all(s.error is not None for s in log.samples)
    main(["data", "deliberative", str(tmp_path / "logs"), "--out", str(tmp_path / "data")])
    printed = capsys.readouterr()
    assert "kept 0 of 2 samples (dropped: sample_error 2)" in printed.out
    assert "warning:" in printed.err and "2 errored sample(s)" in printed.err


# ---------------------------------------------------------------------------------------------
# exit statuses, measured (issue 27): the docs' table (docs/failure_semantics.md) says what each command returns


class _Unreachable(ModelAPI):
    """A grader whose every call fails as an unreachable or unauthorised provider does."""

    async def generate(self, input, tools, tool_choice, config) -> ModelOutput:
        raise NoCredentialsError()


@modelapi(name="unreachable_grader")
def _unreachable_grader():
    return _Unreachable


JUDGED_TASK = """
from inspect_ai import task

from msm.tasks.spec_knowledge import spec_knowledge


@task
def judged():
    t = spec_knowledge(format="open")
    t.dataset = t.dataset[:2]
    return t
"""

INSPECT_WITH_UNREACHABLE_GRADER = """
import sys
from botocore.exceptions import NoCredentialsError
from inspect_ai.model import ModelAPI, modelapi

@modelapi(name="unreachable_grader")
def _unreachable():
    class Unreachable(ModelAPI):
        async def generate(self, input, tools, tool_choice, config):
            raise NoCredentialsError()
    return Unreachable

from inspect_ai._cli.main import main
sys.argv = ["inspect", *sys.argv[1:]]
main()
"""


def _readme_row(start: str) -> str:
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "failure_semantics.md").read_text()
    table = page.split("# Failure semantics", 1)[1]
    return next(line for line in table.splitlines() if line.startswith(f"| {start}"))


@pytest.mark.parametrize(("command", "status"), [("eval", 0), ("eval-set", 1)])
def test_inspect_exit_status_with_an_unreachable_grader_is_the_readmes(tmp_path, command, status):
    """Plain `inspect eval` exits 0 although every sample errored (only the log says so);
    `inspect eval-set` exits 1. The docs' first failure row says exactly that."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from inspect_ai.log import list_eval_logs, read_eval_log

    repo = Path(__file__).resolve().parent.parent
    (tmp_path / "judged.py").write_text(JUDGED_TASK)
    env = {**os.environ, "PYTHONPATH": str(repo), "INSPECT_DISPLAY": "none"}
    argv = [sys.executable, "-c", INSPECT_WITH_UNREACHABLE_GRADER, command, "judged.py",
            "--model", "mockllm/model", "--model-role", "grader=unreachable_grader/x",
            "--log-dir", "logs", *(["--retry-attempts", "0"] if command == "eval-set" else [])]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == status, (done.stdout + done.stderr)[-2000:]
    statuses = [read_eval_log(i, header_only=True).status
                for i in list_eval_logs(str(tmp_path / "logs"))]
    assert statuses and set(statuses) == {"error"}
    row = _readme_row("grader cannot be reached")
    said = f"`inspect eval`: **{status}**" if command == "eval" else f"`inspect eval-set`: {status}"
    assert said in row


def test_msm_run_exits_1_with_an_unreachable_grader_as_the_readme_says(tmp_path, capsys):
    import yaml

    from msm.cli import main
    from msm.training.tiny import build_tiny_model

    base = build_tiny_model(tmp_path / "base", hidden_size=32, num_layers=1)
    experiment = {
        "name": "unreachable", "base": str(base), "roles": {"grader": "unreachable_grader/x"},
        "eval": {"retry_attempts": 0, "max_tokens": 4, "model_args": {"device": "cpu"}},
        "tasks": [{"task": "spec_knowledge", "args": {"format": "open"}, "limit": 2,
                   "metric": "correct"}],
        "arms": {"base": {}},
    }
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment))
    with pytest.raises(SystemExit) as ex:
        main(["run", str(path), "--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert ex.value.code == 1
    assert line.startswith("error: evaluation of arm 'base' seed 0 on spec_knowledge did not finish")
    assert "`msm run`: 1, with one line `error: evaluation of arm" in _readme_row(
        "grader cannot be reached")
