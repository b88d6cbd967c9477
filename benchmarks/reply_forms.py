"""How a model answered forced-choice items, per bank and arm, from an experiment's Inspect logs:
the share of replies read as one option, as both options, or as neither, and how often the pick
was the first option shown (with the option order balanced, a share far from 50% means the
position, not the options, decides), and the share of picks that went to the side the metric
scores (`aligned` for the paper-form banks, `america` for the head-to-head bank): the rate
with unread replies left out of the denominator.

    python benchmarks/reply_forms.py results/smol_cheese/logs
    python benchmarks/reply_forms.py results/smol_cheese/logs --csv replies.csv   # every reply
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

from inspect_ai.log import list_eval_logs, read_eval_log

ARMS = ["base", "aft_only", "msm_america_only", "msm_affordability_only", "msm_america_aft",
        "msm_affordability_aft"]
"""Row order of the usual cheese arms; other arms follow."""


def main(root: Path, csv_path: Path | None = None) -> None:
    rows = []
    replies = []
    for info in list_eval_logs(str(root), recursive=True):
        log = read_eval_log(info.name)
        if log.status != "success":
            continue
        arm = (log.eval.metadata or {}).get("arm", "?")
        task = log.eval.task.split("/")[-1]
        counts: Counter = Counter()
        for s in log.samples:
            score = next(iter(s.scores.values()))
            answer = str(score.answer)
            if answer == "unparsed":  # forced choice: the explanation says which kind
                answer = "both" if score.explanation in ("both letters", "both options") else "neither"
            kind = answer if answer in ("both", "neither") else "picked"
            counts["n"] += 1
            counts[kind] += 1
            replies.append({"task": task, "arm": arm, "sample": s.id,
                            "shown": "/".join((s.metadata or {}).get("shown") or []),
                            "read_as": answer, "reply": s.output.completion})
            # forced choice: the answer is the letter; values bank: the explanation names it
            if kind == "picked" and (answer == "A" or str(score.explanation).endswith("choice: A")):
                counts["first"] += 1
            value = score.value if isinstance(score.value, dict) else {}
            if kind == "picked" and (value.get("aligned") == 1 or value.get("america") == 1):
                counts["side"] += 1
        rows.append((ARMS.index(arm) if arm in ARMS else 99, task, arm, counts))
    if not replies:
        raise SystemExit(f"error: {root}: no finished Inspect evaluation with samples found")
    print("| bank | arm | n | read as one option | both | neither | first option among picks "
          "| scored side among picks |")
    print("|---|---|---|---|---|---|---|---|")
    for _, task, arm, c in sorted(rows, key=lambda r: (r[1], r[0])):
        n, picks = c["n"], max(1, c["picked"])
        print(f"| {task} | {arm} | {n} | {c['picked'] / n:.1%} | {c['both'] / n:.1%} | {c['neither'] / n:.1%} | "
              f"{c['first'] / picks:.1%} | {c['side'] / picks:.1%} |")
    if csv_path is not None:
        with open(csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(replies[0]))
            writer.writeheader()
            writer.writerows(sorted(replies, key=lambda r: (r["task"], r["arm"], str(r["sample"]))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", type=Path, help="a folder of Inspect logs (searched recursively)")
    parser.add_argument("--csv", type=Path, default=None, help="also write every reply and its reading here")
    args = parser.parse_args()
    main(args.logs, args.csv)
