"""How a model answered forced-choice items, per bank and arm, from an experiment's Inspect logs:
the share of replies read as one option, as both options, or as neither, and how often the pick
was the first option shown (with the option order balanced, a share far from 50% means the
position, not the options, decides), and the share of picks that went to the side the metric
scores (`aligned` for the paper-form banks, `america` for the head-to-head bank): the rate
with unread replies left out of the denominator. Logs scored ``scoring=logprob`` or ``both``
get a second table: the mean log-odds for the scored side with the position prior removed
(`lp_logodds`), its probability (`lp_pref`), the position log-odds (`lp_position`), the
letters' share of the next token (`lp_mass`), and the share of items whose more likely letter is
the same in both orders (the answer the position decides).

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
    rows, lp_rows = [], []
    replies = []
    for info in list_eval_logs(str(root), recursive=True):
        log = read_eval_log(info.name)
        if log.status != "success":
            continue
        arm = (log.eval.metadata or {}).get("arm", "?")
        task = log.eval.task.split("/")[-1]
        counts: Counter = Counter()
        for s in log.samples:
            read = [v for k, v in (s.scores or {}).items() if k != "logprob_scorer"]
            if not read:  # scoring=logprob: no reply to read
                continue
            score = read[0]
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
        if counts["n"]:
            rows.append((ARMS.index(arm) if arm in ARMS else 99, task, arm, counts))
        lp = logprob_summary(log)
        if lp:
            lp_rows.append((ARMS.index(arm) if arm in ARMS else 99, task, arm, lp))
    if not replies and not lp_rows:
        raise SystemExit(f"error: {root}: no finished Inspect evaluation with samples found")
    print("| bank | arm | n | read as one option | both | neither | first option among picks "
          "| scored side among picks |")
    print("|---|---|---|---|---|---|---|---|")
    for _, task, arm, c in sorted(rows, key=lambda r: (r[1], r[0])):
        n, picks = c["n"], max(1, c["picked"])
        print(f"| {task} | {arm} | {n} | {c['picked'] / n:.1%} | {c['both'] / n:.1%} | {c['neither'] / n:.1%} | "
              f"{c['first'] / picks:.1%} | {c['side'] / picks:.1%} |")
    if lp_rows:
        print("\n| bank | arm | items | lp_logodds | lp_pref | lp_position | lp_mass "
              "| same letter in both orders |")
        print("|---|---|---|---|---|---|---|---|")
        for _, task, arm, lp in sorted(lp_rows, key=lambda r: (r[1], r[0])):
            print(f"| {task} | {arm} | {lp['n']} | {lp['lp_logodds']:+.3f} | {lp['lp_pref']:.3f} "
                  f"| {lp['lp_position']:+.2f} | {lp['lp_mass']:.2f} | {lp['same']:.1%} |")
    if csv_path is not None and replies:
        with open(csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(replies[0]))
            writer.writeheader()
            writer.writerows(sorted(replies, key=lambda r: (r["task"], r["arm"], str(r["sample"]))))


def logprob_summary(log) -> dict[str, float] | None:
    """Means of the logprob scores over a log's scored samples, and the share of items whose
    more likely letter is the same in both orders; None for a log without them."""
    values, same = [], 0
    for s in log.samples:
        score = (s.scores or {}).get("logprob_scorer")
        if score is None or not isinstance(score.value, dict) or score.value.get("lp_logodds") is None:
            continue
        values.append(score.value)
        letters = [max(o["logprobs"], key=o["logprobs"].get) for o in (score.metadata or {})["orders"]]
        same += len(set(letters)) == 1
    if not values:
        return None
    keys = ("lp_logodds", "lp_pref", "lp_position", "lp_mass")
    return {"n": len(values), "same": same / len(values),
            **{k: sum(v[k] for v in values) / len(values) for k in keys}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", type=Path, help="a folder of Inspect logs (searched recursively)")
    parser.add_argument("--csv", type=Path, default=None, help="also write every reply and its reading here")
    args = parser.parse_args()
    main(args.logs, args.csv)
