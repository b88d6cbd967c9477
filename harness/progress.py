"""The project's one progress style: a rich bar with count, elapsed time and ETA.

Long loops outside Inspect (document generation, micro pretraining, reading many logs) show
the same columns, so a reader learns one display. Inspect's own evaluations keep Inspect's
display. `bar` returns a started-on-enter `rich.progress.Progress`; `track` wraps an iterable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def bar(*, extra: str | None = None, transient: bool = False, console: Console | None = None,
        disable: bool = False) -> Progress:
    """A progress display: description, bar, done/total, elapsed, ETA (and the task field
    `extra`, e.g. token usage, when given). Use as a context manager; add tasks with
    ``add_task(description, total=..., **{extra: text})``."""
    columns: list[ProgressColumn] = [
        TextColumn("[bold]{task.description:<15}"),  # stages of one display line up
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    if extra:
        columns.append(TextColumn(f"{{task.fields[{extra}]}}"))
    return Progress(*columns, transient=transient, console=console, disable=disable)


def track(items: Iterable[T], description: str, *, total: int | None = None,
          enabled: bool = True, transient: bool = True) -> Iterator[T]:
    """Iterate over `items` with a `bar` on stderr (nothing shown when not `enabled`)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with bar(transient=transient, console=Console(stderr=True), disable=not enabled) as progress:
        yield from progress.track(items, total=total, description=description)
