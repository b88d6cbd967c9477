"""The leaderboard page in a real browser: headless Chromium (Debian's package, which .ci/run
installs) opens the self-contained HTML, the table renders, a click sorts it, and a screenshot
is kept for the log (``$MSM_SCREENSHOTS`` or the test's temporary folder)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from toy_logs import write_toy_logs

from msm.harness.leaderboard import write_leaderboard
from msm.harness.report import Page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("page")
    write_toy_logs(root)
    result = write_leaderboard(
        [root / "logs"], metric="harmful", baseline="base", by=["arm"], task=None,
        out=root / "board", order=["base", "msm_aft"],
        page=Page(arms={"base": "the untouched model", "msm_aft": "MSM, then AFT"},
                  verdict="MSM + AFT is below the base model."),
    )
    return result.files["html"]


def test_the_page_renders_sorts_and_explains_itself(page_file, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        page.goto(page_file.as_uri())
        table = page.locator("table.lb").first

        def arms() -> list[str]:
            return [c.strip() for c in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]

        assert arms() == ["base", "msm_aft"]  # the design order, baseline first
        assert page.locator(".verdict").inner_text().startswith("MSM + AFT")
        assert "the untouched model" in page.locator("dl").inner_text()  # the glossary
        assert page.locator("figure svg").count() >= 2  # the plots, inline
        rate = table.locator("th", has_text="rate [95% CI]")
        rate.click()
        assert arms() == ["msm_aft", "base"]  # ascending rate: 12.5% before 50%
        rate.click()
        assert arms() == ["base", "msm_aft"]
        shots = Path(os.environ.get("MSM_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "leaderboard_page.png"), full_page=True)
        browser.close()
    assert (shots / "leaderboard_page.png").stat().st_size > 10_000
