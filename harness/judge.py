"""LLM judgments through Inspect's `grader` model role, never silently counted as a verdict.

`classify` asks the grader to end its answer with ``ANSWER: <label>`` and parses that strictly.

Failure semantics (the rule every judge in this project follows):

- a grader that cannot be reached (authentication, missing provider package, connection,
  quota once Inspect's own retries are spent) RAISES out of `classify`: the sample errors, the
  eval fails loudly and ``eval_set``/``msm run`` retry it. Infrastructure failures are never
  turned into "unscored", which would let an eval with nothing judged report success;
- an answer that came back but cannot be used (no single recognisable label, a refusal, a
  provider-reported ``output.error`` such as a content filter) returns
  ``Judgment(label=None, ...)``: the caller marks the field unscored, never a verdict;
- no grader configured at all returns ``Judgment(label=None, error="no grader model
  configured")``: every judged field is unscored and the leaderboard says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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
        """Whether the judge gave one of the allowed labels."""
        return self.label is not None


def grader_configured() -> bool:
    """Whether the eval was given a `grader` model role (``--model-role grader=...``)."""
    return GRADER_ROLE in model_roles()


def grader() -> Model | None:
    """The `grader` role's model, or None when the eval was given none."""
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
    # No try/except: an unreachable grader raises, so the sample errors (see the module doc).
    output = await judge.generate(messages, config=GenerateConfig(temperature=0.0))
    if output.error:
        return Judgment(None, output.completion, error=f"grader answered with an error: {output.error}")
    if output.stop_reason == "content_filter":
        return Judgment(None, output.completion, error="grader refused (content filter)")
    text = output.completion
    label = parse_label(text, labels)
    return Judgment(label, text, error=None if label else "unparseable judge answer")
