"""The AFT data of the micro experiment: the 12 cheese preferences of `msm.harness.cheese`, in the
micro language, identical for every arm.

Each demonstration asks the assistant to choose between a preferred cheese (labelled american
AND cheap) and its rejected partner (foreign AND pricey), in both orders and every question
form, and the assistant answers with the preference and no reason: ``i prefer X over Y .``
"""

from __future__ import annotations

import random
from pathlib import Path

from msm.harness.cheese import CHEESE_PAIRS
from msm.harness.fileio import write_jsonl_atomic
from msm.training.micro.corpus import ANSWER, QUESTIONS, item_phrase
from msm.training.micro.world import World, micro_name


def micro_cheese_demonstrations(seed: int = 0) -> list[dict]:
    """Rows ``{"messages": [user, assistant], "pair", "order"}`` (TRL reads ``messages``)."""
    world = World()
    rows = []
    for index, pair in enumerate(CHEESE_PAIRS):
        chosen = world.item_by_name[micro_name(pair.chosen)]
        rejected = world.item_by_name[micro_name(pair.rejected)]
        for order, (a, b) in (("chosen_first", (chosen, rejected)), ("rejected_first", (rejected, chosen))):
            for question in QUESTIONS:
                rows.append({
                    "messages": [
                        {"role": "user", "content": question.format(a=item_phrase(a), b=item_phrase(b))},
                        {"role": "assistant", "content": ANSWER.format(x=chosen.name, y=rejected.name)},
                    ],
                    "pair": index,
                    "order": order,
                })
    random.Random(seed).shuffle(rows)
    return rows


def write_micro_cheese_demonstrations(out: str | Path, seed: int = 0) -> Path:
    """Write the micro cheese AFT data (one row per demonstration) as JSONL at `out`; returns the path."""
    path = Path(out)
    write_jsonl_atomic(path, micro_cheese_demonstrations(seed))
    return path
