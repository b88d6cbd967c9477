"""Data builders for the executor tests (named with ``--allow-code``): one whose first attempt
is killed outright, as a pre-empted or OOM-killed job is, and one that always fails."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def dies_once(sentinel: str, rows: int = 4) -> list[dict]:
    """Kill this process the first time (leaving `sentinel`); return rows the next time."""
    mark = Path(sentinel)
    if not mark.exists():
        mark.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return [{"messages": [{"role": "user", "content": f"q{i}"},
                          {"role": "assistant", "content": f"a{i}"}]} for i in range(rows)]


def always_fails(reason: str = "this stage always fails") -> list[dict]:
    raise ValueError(reason)
