"""``msm-hf/``: Inspect's Hugging Face provider with every pending request in one batch.

Inspect's ``hf/`` provider queues each request for a background thread that waits until no
request has arrived for two seconds before it generates, and each waiting sample polls its
result once a second: an evaluation of a few hundred short samples on a small local model
spends most of its time sleeping. ``msm-hf/`` keeps everything of ``hf/`` that decides what the
model sees and says (model and tokenizer loading, model args, the chat template, tool
handling, left padding, decoding) by subclassing it, and replaces only the batching: the first
request that finds the model idle collects every request that arrives while the event loop
is still handing them out (a few milliseconds), runs them as one ``generate`` call in a worker
thread, answers each at once, and repeats while requests are pending. Nothing polls or sleeps
while a batch is waiting.

Differences from ``hf/``:

- Temperature 0 means greedy decoding (``do_sample=False``, no temperature passed to
  transformers, which refuses a temperature of 0 when sampling).
- ``input_tokens`` is the request's own prompt length, not the padded batch width.
- ``max_connections`` defaults to 1024, so an evaluation's samples all reach one batch;
  ``-M batch_size=N`` caps the rows of one ``generate`` call (memory on a large model).
- Exact next-token log-probabilities of named texts: a request with ``logprobs`` and
  ``extra_body={TOKEN_LOGPROBS: ["A", "B"]}`` gets, in the output's metadata under the same
  key, the log-probability that the first generated token is each text (with or without a
  leading space), from the whole distribution rather than the top few
  (`msm.tasks.values_generalization.logprob`, ``scoring=logprob``).

    inspect eval msm/values_generalization --model msm-hf/path/to/checkpoint -M device=cpu
    get_model("msm-hf/path/to/checkpoint", device="cpu")

The provider class is `msm.harness.local_hf_api.BatchedHuggingFaceAPI`, imported only when a model is
made; `msm.harness.providers.register` registers it. This module holds what is light: the names,
the request record and the generation settings. The experiment runner evaluates local checkpoints with it when ``eval.provider`` is ``hf``
and the model runs on the CPU (``msm.runner.checkpoint_model_string``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from inspect_ai.model import GenerateConfig

PROVIDER = "msm-hf"
GATHER_SECONDS = 0.005
"""Collecting a batch ends once a wait of this long brings no new request. A wait that brought
requests but took longer than asked (a busy event loop or machine) sets the next wait to what
it took (at most `GATHER_MAX_SECONDS`): samples then reach the model more slowly, and the wait
stretches with them."""
GATHER_MAX_SECONDS = 0.1
TOKEN_LOGPROBS = "msm_token_logprobs"
"""``extra_body`` key of a request for exact first-token log-probabilities, and the output
metadata key that answers it: ``{text: logprob or None}``."""


@dataclass
class _Request:
    prompt: str
    key: Hashable
    kwargs: dict[str, Any]
    wake: anyio.Event = field(default_factory=anyio.Event)
    output: Any = None
    error: BaseException | None = None
    lead: bool = False

    @property
    def answered(self) -> bool:
        return self.output is not None or self.error is not None


def generation_kwargs(config: GenerateConfig, do_sample: bool) -> dict[str, Any]:
    """``generate`` keyword arguments for one request (``hf/``'s, with temperature 0 greedy)."""
    greedy = config.temperature == 0 or not do_sample
    kwargs: dict[str, Any] = {"do_sample": not greedy}
    if config.max_tokens is not None:
        kwargs["max_new_tokens"] = config.max_tokens
    if not greedy:
        if config.temperature is not None:
            kwargs["temperature"] = config.temperature
        if config.top_p is not None:
            kwargs["top_p"] = config.top_p
        if config.top_k is not None:
            kwargs["top_k"] = config.top_k
    if config.logprobs:
        kwargs["output_logits"] = True
    if config.stop_seqs:
        kwargs["stop_strings"] = tuple(config.stop_seqs)
    return kwargs
