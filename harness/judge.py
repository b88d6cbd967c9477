"""LLM judgments through Inspect's `grader` model role, never silently counted as a verdict.

`classify` asks the grader to end its answer with ``ANSWER: <label>`` and parses that strictly.
A call that raises, or an answer without exactly one recognisable label, returns
``Judgment(label=None, ...)``: the caller marks the sample unscored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from inspect_ai.model import GenerateConfig, Model, get_model, model_roles

GRADER_ROLE = "grader"


@dataclass(frozen=True)
class Judgment:
    label: str | None
    """The parsed label, or None when the judge failed or could not be parsed."""
    raw: str
    """The grader's full answer (or the error message)."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.label is not None


def grader_configured() -> bool:
    """Whether the eval was given a `grader` model role (``--model-role grader=...``)."""
    return GRADER_ROLE in model_roles()


def grader() -> Model | None:
    return get_model(role=GRADER_ROLE) if grader_configured() else None


def parse_label(text: str, labels: Sequence[str]) -> str | None:
    """The label after the last ``ANSWER:``; None unless it is exactly one known label."""
    matches = re.findall(r"ANSWER\s*:\s*\**\s*([A-Za-z_\- ]+?)\s*\**\s*$", text, re.MULTILINE | re.IGNORECASE)
    if not matches:
        return None
    answer = matches[-1].strip().lower().replace(" ", "_").replace("-", "_")
    lookup = {label.lower(): label for label in labels}
    return lookup.get(answer)


async def classify(
    prompt: str,
    labels: Sequence[str],
    *,
    model: Model | None = None,
    system: str | None = None,
) -> Judgment:
    """Ask the grader (or `model`) a question whose answer is one of `labels`."""
    judge = model or grader()
    if judge is None:
        return Judgment(None, "", error="no grader model configured")
    instruction = (
        f"{prompt}\n\nThink it through briefly, then finish with a final line of the form "
        f"'ANSWER: <label>' where <label> is exactly one of: {', '.join(labels)}."
    )
    messages: list = []
    if system:
        from inspect_ai.model import ChatMessageSystem

        messages.append(ChatMessageSystem(content=system))
    from inspect_ai.model import ChatMessageUser

    messages.append(ChatMessageUser(content=instruction))
    try:
        output = await judge.generate(messages, config=GenerateConfig(temperature=0.0))
    except Exception as ex:  # a failed judgment is unscored, never a verdict
        return Judgment(None, "", error=f"{type(ex).__name__}: {ex}")
    if output.error:
        return Judgment(None, output.completion, error=str(output.error))
    text = output.completion
    label = parse_label(text, labels)
    return Judgment(label, text, error=None if label else "unparseable judge answer")
