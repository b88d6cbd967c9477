"""The leaderboard as one self-contained HTML page a reader can use.

What it holds, in reading order: the verdict (when the caller has one, as the micro demo does),
the main table (click a column header to sort it; numbers sort as numbers), the plots (inline
SVG, or PNG as data URIs), the notes, a glossary that says what each metric measures and what
each arm is, the side-by-side and by-condition tables last. No file beside it and nothing
fetched: it opens the same from a laptop's disk, an email attachment or a CI artifact.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

METRICS: dict[str, str] = {
    "harmful": "the harmful act judged done by the classifier and found in a tool call "
               "(agentic misalignment; never higher than classifier_verdict)",
    "classifier_verdict": "the grader's decision that the model took the harmful action "
                          "(agentic misalignment; the number the MSM paper reports)",
    "action": "the deterministic detector's reading: the harmful act appears in a tool call",
    "judge": "this project's yes/no judge of the scenario's question (classifier=msm)",
    "america": "the pro-America option chosen (head-to-head values items)",
    "affordability": "the cheaper option chosen (head-to-head values items)",
    "aligned": "the option aligned with the spec's value chosen (paper-form banks; every item "
               "counts, an unread reply as not aligned)",
    "unparsed": "replies the answer reader could not read as one option",
    "both": "replies that name or list both options",
    "neither": "replies that choose neither option (refusals, hedges)",
    "first": "the option shown first chosen (position bias: about 50% when position does not matter)",
    "correct": "spec-knowledge questions answered correctly",
    "lp_pref": "probability of the scored option with the position prior removed, from the answer "
               "letters' log-probabilities in both orders (0.5: no preference beyond position)",
    "lp_logodds": "log-odds of the scored option, averaged over both option orders",
}
"""What each score field measures, for the page's glossary."""

_SCRIPT = """
document.querySelectorAll('table.lb').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var up = th.dataset.sort !== 'asc';
      table.querySelectorAll('th').forEach(function (h) { delete h.dataset.sort; });
      th.dataset.sort = up ? 'asc' : 'desc';
      function key(row) {
        var text = row.cells[col].textContent.trim(), num = parseFloat(text);
        return isNaN(num) ? text.toLowerCase() : num;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { x = String(x); y = String(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
    "table.lb{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}"
    "table.lb td,table.lb th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}"
    "table.lb th{cursor:pointer;background:#f4f4f4;user-select:none}"
    "table.lb th[data-sort=asc]::after{content:' \\25B2'}"
    "table.lb th[data-sort=desc]::after{content:' \\25BC'}"
    ".verdict{background:#f6f8fa;border-left:4px solid #0969da;padding:0.6em 1em;white-space:pre-wrap}"
    "figure{margin:1em 0}figure svg,figure img{max-width:100%;height:auto}"
    "dt{font-weight:600}dd{margin:0 0 0.4em 1.5em}"
)


@dataclass
class Page:
    """What a caller knows beyond the logs: what each arm is (an experiment's descriptions), a
    verdict in words (the demo's), and images drawn elsewhere (the demo's seed plot)."""

    arms: dict[str, str] = field(default_factory=dict)
    verdict: str | None = None
    images: dict[str, Path] = field(default_factory=dict)


def in_order(table: pd.DataFrame, column: str, order: Sequence[str]) -> pd.DataFrame:
    """`table`'s rows with `column` in the design `order` (others after, as they were)."""
    if not order or column not in table:
        return table
    rank = {name: i for i, name in enumerate(order)}
    keys = table[column].map(lambda v: rank.get(str(v), len(rank)))
    return table.assign(_rank=keys).sort_values("_rank", kind="stable").drop(columns="_rank")


def table_html(table: pd.DataFrame) -> str:
    """A sortable table (the class the page's script looks for)."""
    return table.to_html(index=False, na_rep="", border=0, classes="lb", escape=True)


def figure_html(name: str, path: Path) -> str:
    """An SVG inline, or a PNG as a data URI, with its name as the caption."""
    if path.suffix == ".svg":
        svg = path.read_text(encoding="utf-8")
        content = svg[svg.index("<svg"):]
    else:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        content = f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"
    return f"<figure><figcaption>{html.escape(name)}</figcaption>{content}</figure>"


def glossary_html(metrics: Sequence[str], arms: Mapping[str, str]) -> str:
    """What each metric on the page measures and what each arm is."""
    items = [f"<dt>{html.escape(m)}</dt><dd>{html.escape(METRICS[m])}</dd>"
             for m in dict.fromkeys(metrics) if m in METRICS]
    items += [f"<dt>{html.escape(a)}</dt><dd>{html.escape(d)}</dd>" for a, d in arms.items() if d]
    return f"<h2>Glossary</h2><dl>{''.join(items)}</dl>" if items else ""


def render_page(
    title: str,
    main: pd.DataFrame,
    *,
    notes: Sequence[str] = (),
    figures: Mapping[str, Path] = {},
    metrics: Sequence[str] = (),
    arms: Mapping[str, str] = {},
    verdict: str | None = None,
    sections: Sequence[tuple[str, pd.DataFrame]] = (),
) -> str:
    """The whole page: verdict, main table, figures, notes, glossary, further tables."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    if verdict:
        body.append(f"<div class='verdict'>{html.escape(verdict)}</div>")
    body += ["<p>Click a column header to sort.</p>", table_html(main)]
    body += [figure_html(name, path) for name, path in figures.items()]
    if notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    body.append(glossary_html(metrics, arms))
    for heading, table in sections:
        body += [f"<h2>{html.escape(heading)}</h2>", table_html(table)]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
