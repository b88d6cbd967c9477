"""Where the work's own output goes: the terminal (``--verbose``) or ``results/NAME/output.log``
behind one progress bar, with the end of that log shown when a step fails."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@contextmanager
def stage_output(path: Path | None) -> Iterator[Any]:
    """Send everything written to stdout and stderr (training libraries' bars and logs,
    Inspect's display, warnings) to `path`, at the file-descriptor level, and yield a stream
    to the real terminal for the progress bar. ``path=None``: nothing is redirected."""
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2 if sys.stderr.isatty() or not sys.stdout.isatty() else 1), "w")
    from contextlib import redirect_stderr, redirect_stdout

    with path.open("a", buffering=1) as log:
        log.write(f"\n=== {datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()}\n")
        log.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            # Python-level streams too, where they are not the process's own (pytest, notebooks)
            with redirect_stdout(log), redirect_stderr(log):
                yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


def output_tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])
