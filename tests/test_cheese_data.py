"""The cheese pairs and the AFT demonstrations built from them."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from msm.cli import main
from msm.harness.cheese import CHEESE_PAIRS, REASON_WORDS, US, cheese_demonstrations


def test_every_pair_is_american_and_cheaper_against_foreign_and_pricier():
    assert len(CHEESE_PAIRS) == 12
    assert len({p.chosen for p in CHEESE_PAIRS} | {p.rejected for p in CHEESE_PAIRS}) == 24
    for pair in CHEESE_PAIRS:
        assert pair.chosen_origin == US and pair.rejected_origin != US
        assert pair.chosen_price < pair.rejected_price


def test_at_least_300_demonstrations_in_trl_chat_form():
    rows = cheese_demonstrations(seed=0)
    assert len(rows) >= 300
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"] for m in row["messages"])


def test_every_pair_in_both_orders_with_many_distinct_prompts():
    rows = cheese_demonstrations(seed=0)
    counts = Counter((r["pair"], r["order"]) for r in rows)
    assert set(counts) == {(i, o) for i in range(12) for o in ("chosen_first", "rejected_first")}
    for i, pair in enumerate(CHEESE_PAIRS):
        prompts = {r["messages"][0]["content"] for r in rows if r["pair"] == i}
        assert len(prompts) >= 20
        for r in rows:
            if r["pair"] != i:
                continue
            user = r["messages"][0]["content"]
            first, second = (pair.chosen, pair.rejected) if r["order"] == "chosen_first" else (pair.rejected, pair.chosen)
            assert user.lower().index(first.lower()) < user.lower().index(second.lower())


def test_assistant_states_the_preference_with_no_reason_and_no_value():
    for row in cheese_demonstrations(seed=0):
        pair = CHEESE_PAIRS[row["pair"]]
        user, reply = (m["content"] for m in row["messages"])
        assert pair.chosen.lower() in reply.lower()
        assert reply.count(".") <= 1 and len(reply.split()) <= 10  # one short statement
        for word in REASON_WORDS:
            # "American cheese" is a cheese's name, not a reason
            text = (user + " " + reply).lower().replace("american cheese", "")
            assert word not in text, (word, user, reply)


def test_deterministic_given_seed_and_varies_with_seed():
    assert cheese_demonstrations(seed=3) == cheese_demonstrations(seed=3)
    assert cheese_demonstrations(seed=3) != cheese_demonstrations(seed=4)


def test_cli_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "data" / "cheese_aft.jsonl"
    main(["data", "cheese", "--out", str(out), "--seed", "5"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == cheese_demonstrations(seed=5)
    assert f"wrote {len(rows)} demonstrations" in capsys.readouterr().out


def test_cli_rejects_bad_per_order_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "cheese", "--out", str(tmp_path / "x.jsonl"), "--per-order", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "per_order" in err
    assert not (tmp_path / "x.jsonl").exists()
