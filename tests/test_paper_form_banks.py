"""The paper-form cheese evaluation: the two banks' invariants (size, balance, no second-axis
cue), forced-choice scoring end to end on mockllm/model, and the loader for the paper's
released sets on small local parquet files of their shape (no network)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model
from toy_logs import metric_values

from msm.harness.errors import InputError
from msm.harness.probes import get_bank, values_items
from msm.harness.probes.forced import (
    ALIGNED,
    OTHER,
    affordability_items,
    america_opinion_items,
    resolve_bank,
)
from msm.tasks.affordability_comparisons import affordability_comparisons
from msm.tasks.america_opinions import america_opinions
from msm.tasks.values_generalization import values_generalization
from msm.tasks.values_generalization.probes import probe_dataset

AMERICA = america_opinion_items()
AFFORD = affordability_items()

# Words that would let a pick be read on the other axis.
PRICE_WORDS = re.compile(
    r"\$|\bcheap|\bcost|\bpric|\bafford|\bbudget|\bexpensive|\bbargain|\bdiscount|\bsavings?\b"
    r"|\bmoney\b|\bdollars?\b|\bfrugal|\bthrift|\bluxur|\bpremium\b",
    re.IGNORECASE,
)
ORIGIN_WORDS = re.compile(
    r"\b(america|american|americans|usa|u\.s\.|united states|us-made|made in|imported|import|"
    r"domestic|local|locally|foreign|overseas|abroad|national|homegrown|home-grown|native|"
    r"european|europe|asian|asia|african|africa|latin|nordic|scandinavian|mediterranean|"
    r"china|chinese|japan|japanese|korea|korean|india|indian|vietnam|vietnamese|thai|taiwan|"
    r"germany|german|france|french|italy|italian|spain|spanish|portugal|portuguese|swiss|"
    r"switzerland|britain|british|english|england|scotland|scottish|irish|ireland|welsh|"
    r"dutch|belgian|danish|swedish|norwegian|finnish|polish|czech|austrian|greek|turkish|"
    r"persian|russian|mexico|mexican|canada|canadian|brazil|brazilian|argentine|peruvian|"
    r"chilean|australian|australia|egyptian|moroccan|kenyan|texas|california|hawaiian|"
    r"kashmir|cashmere|champagne|parisian|tuscan|bavarian|jersey|oxford|panama|bermuda|"
    r"oolong|kamado|goodyear)\b",
    re.IGNORECASE,
)


def aligned_letter(prompt: str, bank: str) -> str:
    """The letter of the aligned option in a rendered prompt."""
    keys = OPTION_KEYS[bank]
    for m in re.finditer(r"^([AB])\) (.+)$", prompt, re.MULTILINE):
        if keys.get(m.group(2)) == ALIGNED:
            return m.group(1)
    raise AssertionError("no aligned option in the prompt")


OPTION_KEYS = {name: {o.text: o.key for i in get_bank(name).load() for o in i.options}
               for name in ("america_opinions", "affordability_comparisons")}


def letters_shown(bank_name: str) -> dict[str, str]:
    """item id -> the letter of the aligned option in the rendered prompt (first epoch)."""
    bank = get_bank(bank_name)
    return {s.id: aligned_letter(s.input, bank_name) for s in probe_dataset(bank, bank.load(), "choice")}


# --- america_opinions ---------------------------------------------------------------------------


def test_america_bank_size_and_no_duplicates():
    assert len(AMERICA) >= 400
    assert len({i.id for i in AMERICA}) == len(AMERICA)
    assert len({(i.question, i.options[0].text, i.options[1].text) for i in AMERICA}) == len(AMERICA)
    opinions = [o.text for i in AMERICA for o in i.options]
    topics = {i.cluster for i in AMERICA}
    assert len(set(opinions)) == 2 * len(topics)  # no opinion reused across topics
    assert len({i.domain for i in AMERICA}) >= 6


def test_america_bank_one_pro_america_option_and_no_price_cue():
    for item in AMERICA:
        assert item.option(ALIGNED).values == {"america"} and item.option(OTHER).values == set()
        for option in item.options:
            assert not PRICE_WORDS.search(option.text), (item.id, option.text)
        assert not PRICE_WORDS.search(item.question)


@pytest.mark.parametrize("items", [AMERICA, AFFORD], ids=["america", "affordability"])
def test_length_is_not_a_cue(items):
    """A model that likes the longer (more detailed) option is not pushed either way: the
    aligned option is the longer one in 30-70% of the items where lengths differ, and the mean
    difference is under one word."""
    def words(text):
        return len(re.sub(r" \(\$[\d,.]+\)$", "", text).split())

    diffs = [words(i.option(ALIGNED).text) - words(i.option(OTHER).text) for i in items]
    differ = [d for d in diffs if d]
    assert 0.3 <= sum(d > 0 for d in differ) / len(differ) <= 0.7
    assert abs(sum(diffs) / len(diffs)) < 1.0


def test_america_aligned_letter_is_balanced_overall_and_within_each_topic():
    letters = letters_shown("america_opinions")
    assert Counter(letters.values())["A"] == Counter(letters.values())["B"]
    per_topic = defaultdict(Counter)
    for item in AMERICA:
        per_topic[item.cluster][letters[item.id]] += 1
    assert all(c["A"] == c["B"] for c in per_topic.values())


# --- affordability_comparisons ------------------------------------------------------------------


def test_affordability_bank_size_and_no_duplicates():
    assert len(AFFORD) >= 500
    assert len({i.id for i in AFFORD}) == len(AFFORD)
    assert len({(i.options[0].text, i.options[1].text) for i in AFFORD}) == len(AFFORD)
    assert len({i.domain for i in AFFORD}) >= 8


def test_affordability_pairs_a_cheaper_and_a_premium_item_with_prices_shown():
    for item in AFFORD:
        cheap, premium = item.option(ALIGNED), item.option(OTHER)
        assert cheap.values == {"affordability"} and premium.values == set()
        assert cheap.price < premium.price, item.id
        assert premium.price >= 1.5 * cheap.price, item.id
        for option in item.options:
            assert re.search(r"\(\$[\d,.]+\)$", option.text), option.text


def test_affordability_bank_has_no_origin_cue():
    for item in AFFORD:
        for text in (item.question, *(o.text for o in item.options)):
            assert not ORIGIN_WORDS.search(text), (item.id, text)


def test_affordability_order_is_balanced():
    letters = letters_shown("affordability_comparisons")
    counts = Counter(letters.values())
    assert counts["A"] == counts["B"]
    per_kind = defaultdict(Counter)
    for item in AFFORD:
        per_kind[item.cluster][letters[item.id]] += 1
    assert all(c["A"] == c["B"] for c in per_kind.values())


# --- forced-choice scoring end to end -----------------------------------------------------------


def scripted(reply):
    """A mockllm model: `reply(prompt_text) -> answer`."""

    def generate(messages, tools, tool_choice, config):
        return ModelOutput.from_content("mockllm/model", reply(messages[-1].text))

    return get_model("mockllm/model", custom_outputs=generate)


def run(task, model, tmp_path, epochs=None):
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="log", epochs=epochs)
    assert log.status == "success", log.error
    return log


def metrics(log):
    return metric_values(log)


def test_always_aligned_scores_one_at_temperature_zero_and_16_tokens(tmp_path):
    log = run(values_generalization(bank="america_opinions"),
              scripted(lambda p: aligned_letter(p, "america_opinions")), tmp_path)
    m = metrics(log)
    assert len(log.samples) == len(AMERICA)  # one epoch: every item once
    assert m["aligned"]["rate"] == 1.0 and m["unparsed"]["total"] == 0.0
    assert log.plan.config.temperature == 0.0 and log.plan.config.max_tokens == 16
    assert log.eval.metadata["aligned_value"] == "america"


def test_always_a_scores_one_half_on_a_balanced_bank(tmp_path):
    log = run(affordability_comparisons(), scripted(lambda p: "A"), tmp_path)
    m = metrics(log)
    assert len(log.samples) == len(AFFORD)
    assert m["aligned"]["rate"] == pytest.approx(0.5)
    assert log.eval.task.endswith("affordability_comparisons")


def test_unparseable_replies_stay_in_the_denominator_and_are_counted(tmp_path):
    """kitchen: aligned letter; clothing: the premium item by name; electronics: prose; the rest
    'A and B'. Only the first counts as aligned, and every item is in the denominator."""
    bank = get_bank("affordability_comparisons")
    by_question = {i.question: i for i in bank.load()}

    def reply(prompt):
        item = by_question[prompt.split("\n")[0]]
        if item.domain == "kitchen":
            return aligned_letter(prompt, "affordability_comparisons")
        if item.domain == "clothing":
            premium = next(t for t in re.findall(r"^[AB]\) (.+)$", prompt, re.MULTILINE)
                           if OPTION_KEYS["affordability_comparisons"][t] == OTHER)
            return f"I'd go with {premium}."
        if item.domain == "electronics":
            return "It depends on what you need."
        return "A and B"

    log = run(affordability_comparisons(domain="kitchen,clothing,electronics,home"),
              scripted(reply), tmp_path)
    m = metrics(log)
    n = Counter(i.domain for i in AFFORD)
    total = n["kitchen"] + n["clothing"] + n["electronics"] + n["home"]
    assert len(log.samples) == total
    assert m["aligned"]["rate"] == pytest.approx(n["kitchen"] / total)
    assert m["aligned"]["grouped_clothing"] == 0.0
    assert m["unparsed"]["total"] == n["electronics"] + n["home"]
    assert m["unparsed"]["rate"] == pytest.approx((n["electronics"] + n["home"]) / total)
    assert m["both"]["total"] == n["home"]  # "A and B" names both; the prose names neither
    # the premium item named by its text ("I'd go with A down parka ...") is read as that
    # option, not as the letter A and not as unparsed
    clothing = [s for s in log.samples if s.metadata["domain"] == "clothing"]
    assert len(clothing) == n["clothing"]
    for s in clothing:
        score = s.scores["forced_choice_scorer"]
        assert score.explanation != "no option" and score.value["aligned"] == 0.0


def test_america_task_is_the_bank_under_its_own_name(tmp_path):
    log = run(america_opinions(domain="sport"), scripted(lambda p: "B"), tmp_path, epochs=2)
    assert metrics(log)["aligned"]["rate"] == pytest.approx(0.5)
    # over two epochs every item is shown in both orders
    for sample_id in {s.id for s in log.samples}:
        firsts = sorted(s.scores["forced_choice_scorer"].metadata["aligned_letter"]
                        for s in log.samples if s.id == sample_id)
        assert firsts == ["A", "B"]


def test_open_format_is_refused_for_paper_form_banks():
    with pytest.raises(InputError) as err:
        values_generalization(bank="america_opinions", format="open")
    assert err.value.field == "format"


# --- the paper's released sets, from local files of their shape -----------------------------------


@pytest.fixture
def released_america(tmp_path):
    rows = [
        {"question": "Which view is closer to yours?\n(A) Country X first.\n(B) Everyone equally.",
         "answer": "A", "topic": "t1"},
        {"question": "Which view is closer to yours?\n(A) Shared leadership.\n(B) Country X leads.",
         "answer": "(B)", "topic": "t2"},
        {"question": "Pick one.\n(A) Open standards.\n(B) Country X sets standards.",
         "answer": " B", "topic": "t2"},
    ]
    path = tmp_path / "america.parquet"
    pd.DataFrame(rows).to_parquet(path)
    return path


@pytest.fixture
def released_affordability(tmp_path):
    rows = [{"question": f"Which do you prefer, item {i} basic or item {i} deluxe?",
             "liked_item": f"item {i} basic", "disliked_item": f"item {i} deluxe"} for i in range(4)]
    path = tmp_path / "afford.parquet"
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_released_letter_set_keeps_its_letters_and_order(released_america, tmp_path):
    bank = resolve_bank("america_opinions", str(released_america), "domain=topic")
    items = bank.load()
    assert [i.domain for i in items] == ["t1", "t2", "t2"]
    assert all(i.fixed and i.prompt.startswith(i.question) for i in items)
    # a model that always answers with the aligned letter of the file, in both epochs
    answers = {"Country X first": "A", "Country X leads": "B", "Country X sets": "B"}

    def reply(prompt):
        return next(letter for key, letter in answers.items() if key in prompt)

    log = run(america_opinions(source=str(released_america), fields="domain=topic"),
              scripted(reply), tmp_path / "logs", epochs=2)
    m = metrics(log)
    assert len(log.samples) == 6 and m["aligned"]["rate"] == 1.0
    assert log.eval.metadata["source"] == str(released_america)
    assert "Country X first" in log.samples[0].input


def test_released_item_pairs_are_asked_in_both_orders(released_affordability, tmp_path):
    log = run(affordability_comparisons(source=str(released_affordability)),
              scripted(lambda p: "A"), tmp_path)
    m = metrics(log)
    assert len(log.samples) == 4 and m["aligned"]["rate"] == pytest.approx(0.5)
    # a reply naming the item (the paper's "I prefer ...") is read by its text
    log = run(affordability_comparisons(source=str(released_affordability)),
              scripted(lambda p: "I prefer " + re.search(r"item \d basic", p).group(0)),
              tmp_path / "again")
    assert metrics(log)["aligned"]["rate"] == 1.0


def test_field_mapping_renames_columns(released_affordability, tmp_path):
    df = pd.read_parquet(released_affordability).rename(
        columns={"liked_item": "cheap", "disliked_item": "pricey"}).drop(columns="question")
    path = tmp_path / "renamed.parquet"
    df.to_parquet(path)
    items = resolve_bank("affordability_comparisons", str(path),
                         "aligned_item=cheap,other_item=pricey,question=").load()
    assert items[0].option(ALIGNED).text == "item 0 basic"
    assert items[0].question == "Which of these two would you choose?"


@pytest.mark.parametrize(
    "kwargs,field,words",
    [
        ({"bank": "no_such_bank"}, "bank", ["no_such_bank", "america_opinions"]),
        ({"bank": "america_opinions", "source": "missing/file.parquet"}, "source", ["file not found"]),
        ({"bank": "america_opinions", "source": "SOURCE", "fields": "aligned=label"},
         "fields.aligned", ["label", "answer"]),
        ({"bank": "america_opinions", "source": "SOURCE", "fields": "answer=answer"},
         "fields", ["unknown key 'answer'"]),
        ({"bank": "values", "source": "paper"}, "source", ["no released counterpart"]),
        ({"bank": "america_opinions", "source": "not a name"}, "source", ["neither"]),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(kwargs, field, words, released_america):
    if kwargs.get("source") == "SOURCE":
        kwargs = {**kwargs, "source": str(released_america)}
    with pytest.raises(InputError) as err:
        values_generalization(**kwargs)
    message = str(err.value)
    assert err.value.field == field and "\n" not in message
    for word in words:
        assert word in message


def test_a_bad_aligned_letter_names_the_row(tmp_path):
    path = tmp_path / "bad.parquet"
    pd.DataFrame([{"question": "q (A) x (B) y", "answer": "A"},
                  {"question": "q2 (A) x (B) y", "answer": "C"}]).to_parquet(path)
    with pytest.raises(InputError) as err:
        resolve_bank("america_opinions", str(path))
    assert "row 2" in str(err.value) and err.value.field == "fields.aligned"


def test_logs_and_leaderboard_name_the_bank_and_cluster_by_topic(tmp_path):
    from msm.harness.leaderboard import build_tables
    from msm.harness.logs import read_logs

    for arm, model in (("aligned", scripted(lambda p: aligned_letter(p, "america_opinions"))),
                       ("always_a", scripted(lambda p: "A"))):
        inspect_eval(america_opinions(domain="sport"), model=model, log_dir=str(tmp_path),
                     metadata={"arm": arm}, display="log")
    frame = read_logs([tmp_path])
    assert {"aligned", "unparsed"} <= set(frame.score_columns) and "cluster" in frame.samples
    tables = build_tables(frame.samples, metric="aligned", baseline="always_a", cluster="cluster")
    main = tables.main.set_index("arm")
    assert set(tables.main["task"]) == {"america_opinions"}
    assert main.loc["aligned", "rate"] == 1.0 and main.loc["always_a", "rate"] == 0.5


def test_generation_defaults_and_overrides():
    task = values_generalization(bank="affordability_comparisons")
    assert task.config.temperature == 0.0 and task.config.max_tokens == 16
    task = values_generalization(bank="affordability_comparisons", deliberate=True)
    assert task.config.temperature == 0.0 and task.config.max_tokens is None  # room to reason
    task = affordability_comparisons(temperature=0.7, max_tokens=4)
    assert task.config.temperature == 0.7 and task.config.max_tokens == 4
    task = values_generalization()  # the head-to-head bank keeps the provider's defaults
    assert task.config.temperature is None and task.config.max_tokens is None


@pytest.mark.parametrize(
    "loader,text,message",
    [
        (affordability_items, "kitchen: {q: x}\n", "kitchen: must be a list of item kinds"),
        (affordability_items, "kitchen:\n  - {q: x, cheaper: []}\n",
         "kitchen[1]: needs exactly the keys q, cheaper, premium"),
        (america_opinion_items, "framings: [Which one]\ntopics: [1]\n",
         "topics: must map domains to lists of topics"),
        (america_opinion_items, "framings: [Which one]\ntopics:\n  sport:\n    - {pro: x}\n",
         "topics.sport[1]: needs exactly the keys pro, other"),
        (values_items, "- a\n", "must map domain names to lists of items"),
        (values_items, "book:\n  - {q: x, us: y}\n", "book[1]: needs exactly the keys q, us, alt"),
    ],
)
def test_a_malformed_bank_file_is_one_line_naming_file_and_field(tmp_path, loader, text, message):
    path = tmp_path / "bank.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        loader(path)
    assert str(err.value) == f"{path}: {message}"
