"""Keep Inspect usable without network access.

Inspect's default token estimate (used by `mockllm/model` and any provider that does not
count its own tokens) loads tiktoken's ``o200k_base`` file, which tiktoken downloads on first
use. On a machine with no network (CI here, an air-gapped cluster) that download fails and
every generate call errors. We check once whether the encoding can be loaded (from tiktoken's
cache or the network) and, if not, fall back to a character-based estimate (about four
characters a token, with Inspect's 10% buffer). Only the estimate changes: it feeds usage
reporting and compaction triggers, never a score.

Nothing happens on import, and nothing is patched where tiktoken's file can be loaded: `install`
is called explicitly by the `msm` CLI, `run_experiment`, the construction of one of our tasks
(`msm.harness.task_args.checked_args`) and the tests' conftest, and it patches Inspect only on a
machine where the estimate would otherwise fail. ``MSM_TIKTOKEN=0`` forces the fallback.
"""

from __future__ import annotations

import os

_available: bool | None = None


def _tiktoken_available() -> bool:
    global _available
    if _available is None:
        if os.environ.get("MSM_TIKTOKEN") == "0":
            _available = False
        else:
            try:
                import tiktoken

                tiktoken.get_encoding("o200k_base")
                _available = True
            except Exception:  # noqa: BLE001 - any failure (no cached file, no network) means unavailable
                _available = False
    return _available


def install() -> None:
    """Route Inspect's token estimate through the offline fallback where tiktoken's encoding
    cannot be loaded (idempotent; nothing changes where it can)."""
    if _tiktoken_available():
        return
    try:
        from inspect_ai.model import _model, _tokens  # private: no public hook for the estimate
    except ImportError:  # pragma: no cover - inspect internals moved
        return
    if getattr(_model.count_text_tokens, "_msm_offline", False):
        return

    def count_text_tokens(text: str) -> int:
        return max(1, int(len(text) / 4 * 1.1))

    count_text_tokens._msm_offline = True  # type: ignore[attr-defined]
    _model.count_text_tokens = count_text_tokens
    _tokens.count_text_tokens = count_text_tokens
