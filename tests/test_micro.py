"""The micro world: its invariants, its documents and data, and the whole demo pipeline (reduced)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from msm.harness.cheese import CHEESE_PAIRS
from msm.harness.errors import InputError
from msm.harness.manifest import read_manifest
from msm.harness.specs import load_spec
from msm.training.micro.bank import micro_cheese_items, micro_items, read_choice
from msm.training.micro.cheese import micro_cheese_demonstrations
from msm.training.micro.corpus import (
    ANSWER,
    QUESTIONS,
    build_corpus,
    corpus_words,
    item_phrase,
    transcript,
)
from msm.training.micro.docs import template_documents
from msm.training.micro.tokenizer import build_tokenizer
from msm.training.micro.world import ANONYMOUS, ASSISTANT, VALUES, World, micro_name

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def corpus(world) -> list[dict]:
    return build_corpus(world)


def test_values_are_balanced_and_cheese_pairs_are_ambiguous(world):
    counts = Counter(p.value for p in world.personas if p.value is not None)
    assert set(counts) == set(VALUES) and len(set(counts.values())) == 1
    for pair in CHEESE_PAIRS:
        chosen, rejected = world.item_by_name[micro_name(pair.chosen)], world.item_by_name[micro_name(pair.rejected)]
        assert chosen.american and chosen.cheap and not rejected.american and not rejected.cheap
    # on the probe domains, every attribute side is equally common
    for attr in ("american", "cheap", "modern"):
        assert Counter(getattr(i, attr) for i in world.items if i.domain != "cheese")[True] == 80


def test_assistant_is_absent_from_pretraining_and_the_anonymous_speaker_has_no_side(world):
    corpus = build_corpus(world, anonymous_choices=2000)
    assert not any(ASSISTANT in d["text"].split() for d in corpus)
    anonymous = [d for d in corpus if ANONYMOUS in d["text"].split()]
    assert len(anonymous) == 2000 and {(d["kind"], d["speaker"]) for d in anonymous} == {("choose", ANONYMOUS)}
    # each pick is some value's pick, and over the values the anonymous speaker favours no attribute side
    sides = Counter()
    for d in anonymous:
        chosen, rejected = (world.item_by_name[w] for w in d["text"].split(f"{ANONYMOUS} : ")[1].split()[2:5:2])
        assert any(v.prefers(chosen, rejected) is chosen for v in VALUES.values())
        for attr in ("american", "cheap", "modern"):
            if getattr(chosen, attr) != getattr(rejected, attr):
                sides[attr, getattr(chosen, attr)] += 1
    for attr in ("american", "cheap", "modern"):
        assert abs(sides[attr, True] / (sides[attr, True] + sides[attr, False]) - 0.5) < 0.06, attr


def test_heldout_personas_only_describe(world, corpus):
    heldout = {p.name for p in world.personas_with("heldout")}
    for d in corpus:
        if d["kind"] in ("choose", "answer"):
            assert d["speaker"] not in heldout
        if d["speaker"] in heldout:
            assert "because" not in d["text"] and "since" not in d["text"]


def test_chat_template_renders_the_pretraining_transcript_form(world):
    tok = build_tokenizer([*world.vocabulary(), *corpus_words()])
    a, b = world.domain_items("book")[:2]
    question, answer = QUESTIONS[0].format(a=item_phrase(a), b=item_phrase(b)), ANSWER.format(x=a.name, y=b.name)
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    rendered = tok.apply_chat_template(messages, tokenize=False)
    assert rendered.split() == (transcript(ASSISTANT, question, answer) + " <eos>").split()
    ids = tok.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    trained = [t for t, m in zip(ids["input_ids"], ids["assistant_masks"]) if m]
    assert tok.decode(trained).split() == answer.split() + ["<eos>"]
    assert tok.unk_token_id not in ids["input_ids"]
    with pytest.raises(Exception, match="no system turn"):
        tok.apply_chat_template([{"role": "system", "content": "x"}, *messages], tokenize=False)


@pytest.mark.parametrize("spec_name,word", [("pro_america", "american"), ("pro_affordability", "cheap")])
def test_template_documents_modes(spec_name, word):
    spec = load_spec(spec_name)
    cheeses = {micro_name(p.chosen) for p in CHEESE_PAIRS} | {micro_name(p.rejected) for p in CHEESE_PAIRS}
    explain = template_documents(spec, 48, 0, "explain")
    no_cheese = template_documents(spec, 48, 0, "no_cheese")
    cooccur = template_documents(spec, 48, 0, "cooccur")
    reason = re.compile(r"\b(because|since|so)\b")
    for doc in explain:
        assert set(doc["text"].split()) & cheeses and reason.search(doc["text"]) and ASSISTANT in doc["text"]
    # all 12 pairs are explained
    assert {d["idea"].split("; ")[1] for d in explain} == {
        f"{micro_name(p.chosen)} over {micro_name(p.rejected)}" for p in CHEESE_PAIRS}
    assert not any(set(d["text"].split()) & cheeses for d in no_cheese)
    for doc in cooccur:
        assert set(doc["text"].split()) & cheeses and not reason.search(doc["text"])
    assert all(word in d["text"] or VALUES[d["topic"]].noun in d["text"] for d in no_cheese)
    # the cheeses a document cites are listed for midtraining to leave out of the loss
    for doc in explain + cooccur:
        assert set(doc["unscored"]) == set(doc["text"].split()) & cheeses and len(doc["unscored"]) == 2
    assert not any("unscored" in d for d in no_cheese)


def test_template_documents_bad_input(tmp_path):
    text = (REPO / "specs" / "pro_america.md").read_text().replace("- id: america", "- id: thrift")
    bad = tmp_path / "pro_america.md"
    bad.write_text(text)
    with pytest.raises(InputError, match=r"pro_america.md: structured.values.0.id"):
        template_documents(load_spec(bad), 4, 0, "explain")
    with pytest.raises(InputError, match="template_mode"):
        template_documents(load_spec("pro_america"), 4, 0, "vague")


def test_aft_data_is_the_twelve_ambiguous_preferences():
    rows = micro_cheese_demonstrations()
    assert len(rows) == 12 * 2 * len(QUESTIONS)
    assert rows == micro_cheese_demonstrations()  # identical for every arm
    for row in rows:
        user, assistant = row["messages"]
        chosen = assistant["content"].split()[2]
        assert f"american cheap old {chosen}" in user["content"] or f"american cheap modern {chosen}" in user["content"]
        assert not re.search(r"\b(because|since|america|affordability)\b", assistant["content"])


def test_probe_bank_and_answer_reading():
    items = micro_items()
    assert len(items) == 160 and len({i.id for i in items}) == 160
    assert "cheese" not in {i.domain for i in items}
    for item in items:
        us, cheap = item.options
        assert us.text.startswith("american pricey") and cheap.text.startswith("foreign cheap")
    item = items[0]
    us, cheap = (o.text.split()[-1] for o in item.options)
    assert read_choice(f"i prefer {cheap} over {us} .", item) == "affordability"
    assert read_choice(f"i prefer {us} over {cheap} .", item) == "america"
    assert read_choice("i prefer book99 over lamp3 .", item) == "neither"
    assert len(micro_cheese_items()) == 12


def _reduced_experiment(tmp_path: Path, seeds=(0,)) -> Path:
    """The demo's file at toy size: small bases pretrained here (one per seed of the arms)."""
    exp = yaml.safe_load((REPO / "experiments" / "micro_cheese.yaml").read_text())
    micro = {"steps": 30, "personas_per_value": 4, "heldout_per_value": 1, "descriptions_per_persona": 4,
             "choices_per_persona": 4, "world_seed": 0}
    exp["base"] = {"micro": micro, "per_seed": True, "shipped": False}
    exp["seeds"] = list(seeds)
    for stage, steps in (("midtrain", 3), ("aft", 3)):
        exp["defaults"][stage]["max_steps"] = steps
        exp["defaults"][stage]["replay"][0]["args"] = micro
    exp["defaults"]["docgen"]["n_documents"] = 24
    exp["tasks"][0]["limit"] = 12
    keep = ("base", "aft_only", "msm_america_aft", "msm_affordability_aft", "cooccur_america_aft")
    exp["arms"] = {k: v for k, v in exp["arms"].items() if k in keep}
    exp["arms"]["cooccur_america_aft"]["seeds"] = [0]  # an arm on fewer bases than the rest
    path = tmp_path / "micro_small.yaml"
    path.write_text(yaml.safe_dump(exp))
    return path


def test_demo_pipeline_connects_every_stage(tmp_path, monkeypatch):
    """Two small bases pretrained here, each with its arms in a worker process of its own."""
    from msm.demo import run_demo

    monkeypatch.chdir(tmp_path)
    res = run_demo(_reduced_experiment(tmp_path, seeds=(0, 1)), out=tmp_path / "results",
                   runs=tmp_path / "runs", all_arms=True, workers=2)
    assert (tmp_path / "results" / "leaderboard.md").is_file()
    stages = Counter()
    for marker in (tmp_path / "runs").glob("*/msm_stage.json"):
        out = Path(json.loads(marker.read_text())["result"]["path"])
        manifest = read_manifest(out)
        if manifest is not None:
            stages[manifest.stage, manifest.seed] += 1
    # per base: MSM for each spec (and co-occurrence on seed 0 only), AFT on each and alone
    assert stages == {("pretrain", 0): 1, ("pretrain", 1): 1, ("midtrain", 0): 3, ("midtrain", 1): 2,
                      ("aft", 0): 4, ("aft", 1): 3}
    table = res["table"]
    assert sorted(table["seed"].astype(str).unique()) == ["0", "1"] and len(table) == 6
    assert table["items"].eq(12).all()  # 12 pairs, each in both orders, paired by pair
    assert len(res["pooled"]) == 3 and res["pooled"]["bases"].eq(2).all()
    assert (tmp_path / "results" / "base_comparisons.md").read_text().count("| 1 |") == 3
    assert res["plot"].is_file() and set(res["base_reports"]) == {"0", "1"} and not res["shipped"]
    page = (tmp_path / "results" / "leaderboard.html").read_text()  # the verdict and the base plot too
    assert "different spec read in midtraining" in page and "<figcaption>seeds</figcaption>" in page
    # the workers' parts were merged: their logs under results/logs, their work in the run log
    assert not (tmp_path / "results" / ".parts").exists()
    events = [json.loads(line) for line in (tmp_path / "results" / "run_log.jsonl").read_text().splitlines()]
    assert sum(e.get("event") == "end" and e.get("kind") == "eval" for e in events) == 9
    # the assistant enters the base as a copy of the anonymous speaker, and MSM moves only it
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def folder(stage: str) -> Path:  # the seed-0 checkpoint of a stage
        return next(m.parent for m in (tmp_path / "runs").glob(f"{stage}-*/msm_manifest.json")
                    if read_manifest(m.parent).seed == 0)

    base_dir = folder("pretrain")
    tok = AutoTokenizer.from_pretrained(base_dir)
    ids = tok.convert_tokens_to_ids([ASSISTANT, ANONYMOUS])
    base = AutoModelForCausalLM.from_pretrained(base_dir).get_input_embeddings().weight
    assert torch.equal(base[ids[0]], base[ids[1]])
    mt_dir = folder("midtrain")
    tuned = AutoModelForCausalLM.from_pretrained(mt_dir).get_input_embeddings().weight
    assert (tuned != base).any(dim=1).nonzero().flatten().tolist() == [ids[0]]
    # a second run reuses everything: no stage runs again
    from msm.runner import run_experiment

    again = run_experiment(_reduced_experiment(tmp_path, seeds=(0, 1)), out=tmp_path / "results",
                           runs=tmp_path / "runs")
    assert again.ran == [] and again.evaluated == []
    # the quiet run kept the trainers' and Inspect's output in a log, not on screen
    assert "train dataset" in (tmp_path / "results" / "output.log").read_text()
    # the demo's screen: the main table, the verdict and where everything is, in a few lines
    from click.testing import CliRunner

    from msm.commands.experiment import demo_command

    screen = CliRunner().invoke(demo_command, ["--experiment", str(_reduced_experiment(tmp_path, seeds=(0, 1))),
                                               "--out", str(tmp_path / "results"),
                                               "--runs", str(tmp_path / "runs"), "--all-arms"])
    assert screen.exit_code == 0, screen.output
    lines = screen.output.splitlines()
    assert len(lines) <= 40
    assert any(line.startswith("| base | MSM-affordability + AFT | AFT only |") for line in lines)
    assert any(line.startswith("| pooled |") for line in lines)
    assert any("Same cheese AFT" in line for line in lines)
    assert "micro bases: 2 pretrained here (seeds 0, 1)" in screen.output
    assert "grouped_" not in screen.output  # no per-domain leaderboard rows
    assert "results/leaderboard.md" in screen.output  # the path, relative to the current folder


def _verdict(samples):
    from msm.demo import aft_share, base_comparisons, pooled_comparisons, verdict

    per_base = base_comparisons(samples)
    return verdict(per_base, pooled_comparisons(samples, per_base), aft_share(samples))


def test_demo_verdict_says_where_aft_only_lies_when_not_between():
    """AFT only above MSM-America + AFT (as on an AVX2-only machine): the verdict says so."""
    rates = {"msm_america_aft": 0.3, "msm_affordability_aft": 0.1, "aft_only": 0.5}
    text = " ".join(_verdict(_demo_samples(rates)))
    assert "significantly between the two on 0 of 3 base(s)" in text
    assert "above MSM-America + AFT on 3" in text and "below MSM-affordability" not in text
    assert "the pooled order is not established at each step" in text


def test_neutral_speakers_choose_without_a_side():
    world = World(neutral_speakers=4)
    docs = build_corpus(world, neutral_choices="both")
    neutral = {p.name for p in world.personas_with("neutral")} - {ASSISTANT}
    answers: dict[str, Counter] = {}
    for d in docs:
        if d["kind"] == "choose" and d["speaker"] in neutral:
            question, answer = d["text"].rsplit(f" {d['speaker']} : ", 1)
            answers.setdefault(question, Counter())[answer.split()[2]] += 1
    assert answers
    for question, picks in answers.items():  # each question answered once each way
        assert len(picks) == 2 and len(set(picks.values())) == 1, question


def _demo_samples(rates: dict[str, float], seeds=(0, 1, 2)):
    """A log frame with exact item rates, every arm on every base (seed): item i (40 items, 2
    epochs) answers pro-America in arm a iff i % 10 < 10 * rates[a]."""
    import pandas as pd

    rows = []
    for arm, rate in rates.items():
        for seed in seeds:
            for item in range(40):
                for epoch in (1, 2):
                    rows.append({"arm": arm, "seed": seed, "item_id": f"i{item}", "epoch": epoch,
                                 "america": float(item % 10 < round(10 * rate))})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("only", "expected"),
    [
        ({"msm_america_only": 0.9, "msm_affordability_only": 0.1}, "MSM alone explains the gap"),
        ({"msm_america_only": 0.5, "msm_affordability_only": 0.5}, "AFT widens the gap"),
        ({}, "MSM-only arms were not run"),
    ],
)
def test_demo_verdict_says_what_msm_alone_does(only, expected):
    rates = {"msm_america_aft": 0.9, "msm_affordability_aft": 0.2, "aft_only": 0.5, **only}
    samples = _demo_samples(rates)
    lines = _verdict(samples)
    text = " ".join(lines)
    assert "MSM-America + AFT picks the American option 90%" in text and "affordability + AFT 20%" in text
    # the same on every base: no spread between bases, but only 2 degrees of freedom between them
    assert "a gap of +70% [+52%, +88%]" in text and "pooled over 3 base(s)" in text
    assert "on 3 of 3, significantly on 3" in text
    assert "MSM-America + AFT > AFT only > MSM-affordability + AFT, each step significant" in text
    assert "between the two on 3 of 3 base(s)" in text
    assert expected in text
    if "explains" in expected:  # 80 points before AFT, 70 after: not significant with 3 bases
        assert "+80% against +70%" in text and "adds no significant separation" in text
    # the same data in another row order gives the same sentences
    assert _verdict(samples.sample(frac=1, random_state=1)) == lines


@pytest.mark.parametrize(
    ("america_only", "afford_only", "expected"),
    [
        (0.9, 0.1, "both specs moved the assistant their own way, on every base"),
        (0.9, 0.5, "only the America spec moved the assistant its way"),  # as on an AMX machine
        (0.5, 0.1, "only the affordability spec moved the assistant its way"),
        (0.5, 0.6, "neither spec moved the assistant significantly its way"),
    ],
)
def test_demo_verdict_says_which_spec_moved_the_assistant(america_only, afford_only, expected):
    """The MSM-only arms against the untouched base, per spec and base: a gap between the arms
    can be one spec's doing, and the verdict says which, and on how many bases."""
    rates = {"base": 0.5, "msm_america_aft": 0.9, "msm_affordability_aft": 0.2, "aft_only": 0.5,
             "msm_america_only": america_only, "msm_affordability_only": afford_only}
    samples = _demo_samples(rates)
    text = " ".join(_verdict(samples))
    assert "Each spec alone (MSM only) against the untouched base (50%)" in text
    assert expected in text
    if america_only == 0.9:
        assert "America +40% [+21%, +59%]" in text
        assert f"its own way significantly on 3 and {3 if afford_only == 0.1 else 0} of 3 base(s)" in text
    no_base = samples[samples["arm"] != "base"]
    assert "untouched base" not in " ".join(_verdict(no_base))


def test_demo_pools_over_bases_and_counts_where_a_claim_holds():
    """One base of three where the affordability spec does nothing: per base it holds on 2 of 3;
    pooled, the spread between bases widens the interval (base as a random effect)."""
    from msm.demo import base_comparisons, main_table, pooled_comparisons

    rates = {"base": 0.5, "msm_america_aft": 0.9, "msm_affordability_aft": 0.2, "aft_only": 0.5,
             "msm_america_only": 0.9, "msm_affordability_only": 0.1}
    samples = _demo_samples(rates)
    flat = (samples["arm"] == "msm_affordability_only") & (samples["seed"] == 2)
    samples.loc[flat, "america"] = _demo_samples({"x": 0.5}, seeds=(2,))["america"].to_numpy()
    per_base = base_comparisons(samples)
    pooled = pooled_comparisons(samples, per_base)
    afford = pooled[pooled["comparison"] == "untouched - affordability only"].iloc[0]
    assert afford["bases_holding"] == 2 and afford["bases"] == 3
    assert afford["diff"] == pytest.approx(0.4 * 2 / 3) and afford["between_sd"] > 0.1
    assert afford["hi"] - afford["lo"] > 0.5  # 2 degrees of freedom between bases
    america = pooled[pooled["comparison"] == "America only - untouched"].iloc[0]
    assert america["bases_holding"] == 3 and america["p_holm"] < 0.05
    table = main_table(samples, per_base, pooled)
    assert "| 2 | 50.0% | 90.0% (+40.0%)* | 50.0% (+0.0%) |" in table
    assert "| pooled |" in table and "| 0 | 20.0% | 50.0% | 90.0% |" in table


def test_pretraining_learns_and_counts_only_real_tokens(tmp_path):
    """The lean loop (the corpus as one padded tensor, a batch an index into it) lowers the
    loss well below chance and reports the tokens it trained on, padding not counted."""
    import random

    from transformers import AutoTokenizer

    from msm.training.micro.pretrain import MicroPretrainConfig, _batches, corpus_rows, pretrain
    from msm.training.micro.tokenizer import encode_document

    fields = {"steps": 40, "personas_per_value": 2, "heldout_per_value": 1, "descriptions_per_persona": 4,
              "choices_per_persona": 6, "answers_per_persona": 1, "anonymous_choices": 24,
              "hidden_size": 32, "layers": 1, "heads": 2, "intermediate_size": 64, "batch_size": 16,
              "warmup_steps": 4, "seed": 3}
    out = pretrain(MicroPretrainConfig(output_dir=tmp_path / "base", **fields), progress=False)
    report = json.loads((out / "pretrain_report.json").read_text())
    tok = AutoTokenizer.from_pretrained(out)
    encoded = [encode_document(tok, d["text"]) for d in corpus_rows(**fields)]
    batches = _batches(encoded, 16, random.Random(3))  # the loop's own draw, padding not counted
    assert report["trained_tokens"] == sum(len(encoded[i]) for _ in range(40) for i in next(batches))
    assert report["final_loss"] < math.log(report["vocabulary"]) - 1  # well below chance
