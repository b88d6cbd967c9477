"""The one progress style (harness/progress.py)."""

from __future__ import annotations

import io

from rich.console import Console

from msm.harness.progress import bar, track


def test_bar_shows_count_eta_and_the_extra_field():
    out = io.StringIO()
    with bar(extra="usage", console=Console(file=out, width=120, force_terminal=False)) as progress:
        task = progress.add_task("documents", total=4, usage="12 in / 3 out tokens")
        progress.update(task, advance=3)
        progress.refresh()
    text = out.getvalue()
    assert "documents" in text and "3/4" in text and "ETA" in text and "12 in / 3 out tokens" in text


def test_track_yields_every_item_enabled_or_not():
    assert list(track(range(5), "reading", enabled=False)) == [0, 1, 2, 3, 4]
    assert list(track(iter("abc"), "reading")) == ["a", "b", "c"]
