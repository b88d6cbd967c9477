"""The ``msm-hf/`` provider class: Inspect's ``hf/`` provider with every pending request in one
batch (what and why: `msm.harness.local_hf`). This module imports torch and transformers, so it is
imported only when a model is made (`msm.harness.providers.register`), as Inspect's own providers are.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import torch
from inspect_ai.model import (
    ChatCompletionChoice,
    GenerateConfig,
    Logprobs,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.model._providers.hf import (  # private: subclasses Inspect's hf/ provider
    GenerateOutput,
    HuggingFaceAPI,
    chat_completion_assistant_message,
    extract_logprobs,
)
from inspect_ai.model._providers.util import HFHandler  # private: hf/ provider internals

from msm.harness.local_hf import (
    GATHER_MAX_SECONDS,
    GATHER_SECONDS,
    PROVIDER,
    TOKEN_LOGPROBS,
    _Request,
    generation_kwargs,
)

if TYPE_CHECKING:
    from inspect_ai.model import ChatMessage
    from inspect_ai.tool import ToolChoice, ToolInfo


class BatchedHuggingFaceAPI(HuggingFaceAPI):
    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ):
        config = config if config is not None else GenerateConfig()
        super().__init__(model_name, base_url, api_key, config, **model_args)
        if config.adaptive_connections is None and config.max_connections is None:
            # no rate limit to learn: every sample may wait in the batch at once
            # (the same object is the Model's config, which generate calls merge)
            config.adaptive_connections = False
        if self.hidden_states:
            raise ValueError(f"{PROVIDER}/ does not return hidden states; use hf/ for them")
        self.exact_token_logprobs = True
        """Answers `TOKEN_LOGPROBS` requests (what `msm.tasks.values_generalization.logprob` looks for)."""
        self.pending: list[_Request] = []
        self.busy = False
        self.batches = 0
        """Number of ``generate`` calls made (one per batch)."""

    def max_connections(self) -> int:
        """1024: no rate limit to learn, so every sample of an evaluation may wait in one batch."""
        return 1024

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Queue the request and wait for its answer from the next batch (see `msm.harness.local_hf`)."""
        handler = HFHandler(self.model_name, self.model_family()) if tools else None
        kwargs = generation_kwargs(config, self.do_sample)
        key = tuple(sorted(kwargs.items()))
        request = _Request(self.hf_chat(input, tools), key, kwargs)
        response: GenerateOutput = await self._submit(request)
        logprobs, metadata = None, None
        if config.logprobs:
            logprobs = Logprobs(
                content=extract_logprobs(response, config.top_logprobs, self.tokenizer)
            )
            wanted = (config.extra_body or {}).get(TOKEN_LOGPROBS)
            if wanted:
                metadata = {TOKEN_LOGPROBS: self._token_logprobs(response.logprobs[0], wanted)}
        message = chat_completion_assistant_message(response, tools, handler, self.model_name)
        return ModelOutput(
            model=self.model_name,
            choices=[ChatCompletionChoice(message=message, logprobs=logprobs)],
            usage=ModelUsage(
                input_tokens=response.input_tokens,
                output_tokens=response.output_tokens,
                total_tokens=response.total_tokens,
            ),
            time=response.time,
            metadata=metadata,
        )

    def _token_logprobs(self, first: torch.Tensor, texts: list[str]) -> dict[str, float | None]:
        """log p(the first token is the text, with or without a leading space), from the
        whole next-token distribution; None for a text that is no single token."""
        out: dict[str, float | None] = {}
        for text in texts:
            ids = {tuple(self.tokenizer.encode(form, add_special_tokens=False))
                   for form in (text, " " + text)}
            single = sorted({i[0] for i in ids if len(i) == 1})
            out[text] = float(torch.logsumexp(first[single], dim=0)) if single else None
        return out

    async def _submit(self, request: _Request) -> Any:
        """Queue a request; the first one that finds the model idle leads: it generates
        batches until nothing is pending, then hands over (if it was cancelled early)."""
        self.pending.append(request)
        if not self.busy:
            request.lead = True
        try:
            while not request.answered:
                if request.lead:
                    self.busy = True
                    try:
                        await self._serve()
                    finally:
                        self.busy = False
                        request.lead = False
                        self._hand_over()
                else:
                    await request.wake.wait()
                    request.wake = anyio.Event()
        finally:
            if request in self.pending:  # cancelled while waiting
                self.pending.remove(request)
                if request.lead:
                    request.lead = False
                    self._hand_over()
        if request.error is not None:
            raise request.error
        return request.output

    def _hand_over(self) -> None:
        if self.pending and not self.busy:
            nxt = self.pending[0]
            nxt.lead = True
            nxt.wake.set()

    async def _serve(self) -> None:
        cap = self.batch_size or None
        while self.pending:
            # let the event loop hand out the other samples' requests
            seen, wait, slept = -1, GATHER_SECONDS, 0.0
            while seen != len(self.pending) and not (cap and len(self.pending) >= cap):
                if seen >= 0:  # the last wait brought requests: as long as it really took
                    wait = min(GATHER_MAX_SECONDS, max(GATHER_SECONDS, slept))
                seen, t0 = len(self.pending), time.monotonic()
                await anyio.sleep(wait)
                slept = time.monotonic() - t0
            key = self.pending[0].key
            batch = [r for r in self.pending if r.key == key][:cap]
            for r in batch:
                self.pending.remove(r)
            try:
                outputs = await anyio.to_thread.run_sync(self._generate_batch, batch)
            except Exception as ex:  # noqa: BLE001  (each waiting sample gets the model's error)
                for r in batch:
                    r.error = ex
            else:
                for r, out in zip(batch, outputs, strict=True):
                    r.output = out
            for r in batch:
                r.wake.set()

    def _generate_batch(self, batch: list[_Request]) -> list[GenerateOutput]:
        start = time.monotonic()
        kwargs = dict(batch[0].kwargs)
        if "stop_strings" in kwargs:
            kwargs["stop_strings"] = list(kwargs["stop_strings"])
            kwargs["tokenizer"] = self.tokenizer
        assert isinstance(self.tokenizer_call_args, dict)
        enc = self.tokenizer(
            [r.prompt for r in batch],
            return_tensors="pt",
            padding=True,
            **self.tokenizer_call_args,
        )
        input_ids = enc["input_ids"].to(self.model.device)
        mask = enc["attention_mask"].to(self.model.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                pad_token_id=self.tokenizer.pad_token_id,
                return_dict_in_generate=True,
                **kwargs,
            )
        self.batches += 1
        new = out.sequences[:, input_ids.shape[1] :]
        logprobs = None
        if getattr(out, "logits", None) is not None:
            stacked = torch.stack(out.logits).transpose(0, 1)
            logprobs = torch.nn.functional.log_softmax(stacked, dim=-1)
        texts = self.tokenizer.batch_decode(
            new, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        pad = self.tokenizer.pad_token_id
        seconds = time.monotonic() - start
        results = []
        for i, text in enumerate(texts):
            n_in = int(mask[i].sum())
            row = new[i]
            # generated tokens up to the first padding after the end (a finished row)
            n_out = int(row.shape[0])
            if pad is not None:
                finished = (row == pad).nonzero()
                if len(finished):
                    n_out = int(finished[0]) + 1
            results.append(
                GenerateOutput(
                    output=text,
                    input_tokens=n_in,
                    output_tokens=n_out,
                    total_tokens=n_in + n_out,
                    logprobs=logprobs[i] if logprobs is not None else None,
                    hidden_states=None,
                    time=seconds,
                )
            )
        return results
