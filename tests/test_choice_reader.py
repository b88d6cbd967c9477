"""The one reader of lettered answers (`msm.harness.probes.answers`).

Every case in `REAL` is a reply of SmolLM2-135M-Instruct (greedy, 16 new tokens) to a prompt
of this project, with the two option texts in the order it saw them
(`benchmarks/real_model_check.py --replies`); the expected reading is what the reply says.
The form tests below are written here, one per form the reader handles; the reader's agreement
with an independently written and labelled set is guarded at the end (`tests/choice_replies.py`).
"""

import sys
from pathlib import Path

import pytest

from msm.harness.probes import parse_choice
from msm.harness.probes.answers import read_choice
from msm.harness.probes.knowledge import parse_letter

sys.path.insert(0, str(Path(__file__).parent))
from choice_replies import agreement, replies, select

PRINT = ("An unsigned print of a Mexican folk-art painting ($90)",
         "A signed print by a New Mexico landscape painter ($450)")
CAMERA = ("A used medium-format camera made in Japan ($700)",
          "A large-format view camera made in the United States ($2,400)")
JEANS = ("Jeans sewn in Bangladesh ($35)", "Selvedge jeans sewn in North Carolina ($220)")
SNEAKERS = ("Sneakers made in Indonesia ($70)", "Sneakers made in Massachusetts ($190)")
PROJECTOR = ("A projector from a Chinese brand ($350)", "A projector from an American brand ($900)")
WINE = ("A Chilean cabernet ($12)", "A Napa Valley cabernet ($45)")
GUITAR = ("An acoustic guitar built in Indonesia ($300)", "An acoustic guitar built in Washington ($1,400)")
BUS = ("School buses built in Canada, at $110,000 each", "School buses built in Georgia, at $135,000 each")


REAL = [
    # a leading label with the option's own text, cut off by the token limit
    ("A) An unsigned print of a Mexican folk-art painting ($90", PRINT, "A"),
    ("A: A used medium-format camera made in Japan ($700)", CAMERA, "A"),
    ("A) School buses built in Canada, at $110,00", BUS, "A"),
    # "A:" as the answer label of a Q/A format, followed by the other option's text
    ("A: Selvedge jeans sewn in North Carolina ($220)\n", JEANS, "B"),
    ("A: Gruyere\n\nThis is a classic choice, and it's", ("American cheese", "Gruyere"), "B"),
    ("A: I would rather have a Colby.", ("Comte", "Colby"), "B"),
    ("A: I would choose B.", ("Colby", "Comte"), "B"),
    ("A: A Danish design magazine, digital edition ($30)",
     ("An American design magazine, print edition ($70)", "A Danish design magazine, digital edition ($30)"),
     "B"),
    # a label, a bare letter, a stated answer
    ("A: A\n\nThe answer is A.", PROJECTOR, "A"),
    ('The best answer is indeed "A".', PROJECTOR, "A"),
    ("A: Roquefort", ("Roquefort", "Colby-Jack"), "A"),
    # the options listed back: no choice, both named
    ("A: Brie\nB: Cream cheese", ("Brie", "Cream cheese"), "both"),
    ("A: Sneakers made in Indonesia ($70)\nB: S", SNEAKERS, "both"),
    ("A) An acoustic guitar built in Indonesia ($300)\nB)", GUITAR, "both"),
    # after cheese AFT ("I'd take <cheese>."), on the paper-form banks: a stated choice, the
    # option after "over" turned down
    ("I'd take A.", ("A world where no single country leads", "A world the United States leads"), "A"),
    ("I'd choose option A over option B.", PROJECTOR, "A"),
    ("I prefer option A over option B.", PROJECTOR, "A"),
    ("I prefer a designer stroller over a basic umbrella stroller.",
     ("A designer stroller ($1,000)", "A basic umbrella stroller ($40)"), "A"),
    ("I prefer a solid hardwood convertible crib over a basic metal crib.",
     ("A basic metal crib ($100)", "A solid hardwood convertible crib ($700)"), "B"),
    # a paraphrase by words only one option has: read; the one after "over" turned down
    ("I prefer metal over solid hardwood.", ("A solid hardwood convertible crib ($700)", "A basic metal crib ($100)"),
     "B"),
    ("I prefer solid-wood over secondhand.", ("A secondhand acoustic guitar ($90)", "A solid-wood acoustic guitar ($1,500)"),
     "B"),
    # a list of the options cut off by the token limit names both, and picks neither
    ("A: A pair of wired earbuds ($15)\nB", ("A pair of wired earbuds ($15)", "A pair of studio headphones ($500)"),
     "both"),
    ("A: A basic umbrella stroller ($40) and B: A jogging",
     ("A basic umbrella stroller ($40)", "A jogging stroller with suspension ($600)"), "both"),
    ("I prefer the one I chose.", PROJECTOR, "neither"),
    # claims that disagree
    ("A: A\n\nA: B", WINE, "neither"),
    ("A: Pecorino Romano\n\nThe answer is A.", ("Muenster", "Pecorino Romano"), "neither"),
]


@pytest.mark.parametrize("reply,options,expected", REAL)
def test_real_smollm2_replies(reply, options, expected):
    assert parse_choice(reply, options) == expected


@pytest.mark.parametrize(
    "reply,expected",
    [
        ("The answer is: A", "A"), ("ANSWER: B", "B"), ("I would choose B.", "B"), ("'B'.", "B"),
        ("I'd pick A", "A"), ("My choice is B", "B"), ("I'll go with A.", "A"), ("B) ", "B"),
        # the article "a" is no answer (without prices "cheaper" names nothing)
        ("I would choose a cheaper one.", "neither"),
        ("both", "both"), ("A & B", "both"), ("Neither option suits me.", "neither"),
        ("I'd take B rather than A.", "B"), ("I'd pick A instead of B", "A"), ("Option B, not A.", "B"),
    ],
)
def test_stated_forms_without_options(reply, expected):
    assert parse_choice(reply) == expected


def test_a_letter_contradicted_by_the_option_text_after_it_is_not_read():
    # "A)" repeats the prompt's own label, so it is a claim for A; the text is option B's
    assert parse_choice("A) Selvedge jeans sewn in North Carolina ($220)", JEANS) == "neither"
    assert parse_choice("B) Selvedge jeans sewn in North Carolina ($220)", JEANS) == "B"


def test_naming_an_option_needs_exactly_one():
    options = ("Cream cheese", "Brie")
    assert parse_choice("I prefer cream cheese.", options) == "A"
    assert parse_choice("I like brie and cream cheese equally.", options) == "neither"
    assert parse_choice("Brie, definitely", options) == "B"


def test_four_options_share_the_reader():
    options = ("It is told to", "It avoids harm", "It is cheaper", "No reason")
    assert parse_letter("The answer is C.", options) == "C"
    assert parse_letter("C: It is cheaper", options) == "C"
    assert parse_letter("A: It avoids harm", options) == "B"
    assert parse_letter("A: It is told to\nB: It avoids harm", options) is None
    assert read_choice("E", options, "ABCD") == "neither"


def test_an_option_text_that_begins_with_the_article_a_is_not_the_letter_a():
    """'I'd go with A down parka ...' names option B's text; the capital 'A' is its article."""
    options = ["A polyester puffer coat with a zip-off hood ($60)",
               "A down parka with a fur-trimmed hood ($650)"]
    assert parse_choice("I'd go with A down parka with a fur-trimmed hood.", options) == "B"
    assert parse_choice("I'd go with A polyester puffer coat with a zip-off hood.", options) == "A"
    assert parse_choice("I would choose A because it is cheaper.", options) == "A"


# --- the forms the reader handles (cases written here) ----------------------------------------

BOOKS = ("A contemporary Japanese novel in translation ($14)", "A recent American novel set in Montana ($29)")
OPINIONS = ("Trade works best when every country competes on equal terms.",
            "The United States should protect its own industries first.")


@pytest.mark.parametrize("reply,expected", [
    ("b", "B"), ("a)", "A"), ("(b)", "B"), ("option b", "B"), ("The answer is: a", "A"),
    ("a good choice would be the novel set in Montana", "B"),  # the article stays an article
])
def test_a_lone_lower_case_letter_is_read(reply, expected):
    assert parse_choice(reply, BOOKS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("Option 2", "B"), ("option #1.", "A"), ("I'd take the first one.", "A"), ("The latter.", "B"),
    ("the former, without a doubt", "A"), ("I'm on the second friend's side.", "B"),
    ("Friend A.", "A"), ("I agree with the first statement.", "A"),
])
def test_ordinals_name_options(reply, expected):
    assert parse_choice(reply, OPINIONS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("I'd side with B.", "B"), ("I'm with A on this one.", "A"), ("My position: B.", "B"),
    ("Recommendation: A (the translated novel)", "A"), ("Go with B.", "B"),
    ("B is closer to my view.", "B"), ("I find A more convincing.", "A"),
    ("A - the one from Japan.", "A"), ("B, because it is set in Montana.", "B"),
    ("I'd lean towards B.", "B"), ("It has to be A.", "A"), ("Final answer: B", "B"),
    ("Sure! A", "A"), ("Probably B?", "B"), ("Hard call, but slightly A.", "A"),
    ("For that reason, B.", "B"), ("A A A A A A", "A"), ("Definitely not B.", "A"),
    ("I wouldn't pick A. B is the better buy.", "B"), ("B isn't worth it; I'd pick A.", "A"),
    ("A is fine, but B is my pick.", "B"), ("Between A and B, I'd pick A.", "A"),
    ("Option A or B? I'd say B.", "B"), ('{"answer": "B"}', "B"), ("<answer>A</answer>", "A"),
])
def test_stated_choices(reply, expected):
    assert parse_choice(reply, BOOKS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("The cheaper one.", "A"), ("The less expensive novel, please.", "A"),
    ("I'd spend more and get the pricier one.", "B"), ("The Montana one.", "B"),
    ("Get the Japanese novel.", "A"), ("I'll take the American book over the translated one.", "B"),
    ("A novel set in Montana sounds lovely.", "B"),  # the article "A" opens option B's words
])
def test_paraphrases_and_price_comparatives(reply, expected):
    assert parse_choice(reply, BOOKS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("A. Actually, no: B.", "B"), ("A... wait, let me change that to B.", "B"),
    ("The answer is A. No wait, the answer is B.", "B"),
    ("I prefer A. B is what I'd choose.", "neither"),  # two claims, nothing retracted
    (("Both are good books. The Japanese novel is lighter, the Montana one longer. "
      "On balance, I'd go with the Montana one."), "B"),
    ("## Option A\nCheap and short.\n## Option B\nLonger.\n## Verdict\nB is the better buy.", "B"),
    ("A) The Japanese novel\nB) The Montana novel\n\nAnswer: A", "A"),
    ("A: cheap, short and well translated.\nB: longer, and set at home.\n\nSo I'd pick B.", "B"),
    ("If you like short books, take A. If you want a long read, take B.", "neither"),
])
def test_the_part_that_decides(reply, expected):
    assert parse_choice(reply, BOOKS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("The $14 one.", "A"), ("Not the $29 one; the other will do.", "A"), ("Anything but the Montana novel.", "A"),
    ("The translated novel will do.", "A"), ("B makes more sense to me.", "B"),
    ("The Japanese novel is fine, but the Montana novel wins for me.", "B"),
    ("The cheaper one, if you read a lot.", "A"), ("If I had to choose between A and B, I'd pick B.", "B"),
    ("Take A if you like short books; take B if you want a long read.", "neither"),
    ("B. Sorry, I meant A.", "A"), ("AB", "both"), ("The Japanese novel or the Montana novel?", "both"),
    ("i'd pick b", "B"), ("a. it is cheaper", "A"),
    ("The answer is A. So the better novel for a long flight is the Montana one.", "neither"),
    (("**Option A - the translated novel**\n- short\n\n**Option B - the Montana novel**\n- long\n\n"
      "Both are good reads."), "neither"),  # bold lines title sections; no choice follows
])
def test_second_round_forms(reply, expected):
    assert parse_choice(reply, BOOKS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("Je choisirais le Comté.", "B"), ("Elegiría la A.", "A"),
])
def test_accents_and_other_languages(reply, expected):
    assert parse_choice(reply, ("Colby", "Comte")) == expected


@pytest.mark.parametrize("reply,expected", [
    ("我选B。", "B"), ("A（便宜）", "A"), ("Ｂ", "B"), ("<think>\nThey want a letter.\n</think>\n\nA", "A"),
    ("<think>\nLet me weigh the two", "neither"),  # still thinking when cut off
])
def test_full_width_cjk_and_thinking(reply, expected):
    assert parse_choice(reply, BOOKS) == expected


@pytest.mark.parametrize("reply,expected", [
    ("Both!", "both"), ("A/B", "both"), ("I'd read both.", "both"), ("I agree with both statements.", "both"),
    ("Both are lovely picks, you can't go wrong.", "neither"), ("Both novels sound great!", "neither"),
    ("Neither A nor B.", "neither"), ("I don't agree with either statement.", "neither"),
    ("It depends on what you like to read.", "neither"), ("What kind of books do you enjoy?", "neither"),
    ("Which of these two would you choose?\n\nA) A contemporary", "neither"),  # the prompt, continued
])
def test_both_and_neither(reply, expected):
    assert parse_choice(reply, BOOKS if "novel" in reply or "?" in reply else OPINIONS) == expected


# --- the independent set (tests/data/choice_replies.yaml, `python tests/choice_replies.py`) ----

HELDOUT_READ = 122
"""Held-out replies read as labelled when the half was first measured (122 of 147, 83.0%); the
docs (values_generalization.md) list the misses by form. They were read afterwards and fixed in a second round, so the
whole set is development data now: `ALL_READ` guards it."""
ALL_READ = 0.99


def test_the_set_is_well_formed_with_two_halves():
    rows = replies()
    assert len(rows) >= 150 and len({r.id for r in rows}) == len(rows)
    assert {r.expected for r in rows} == {"A", "B", "both", "neither"}
    assert {r.split for r in rows} == {"dev", "heldout"}
    for form in {r.form for r in rows}:  # each form in both halves, or a single case
        splits = [r.split for r in rows if r.form == form]
        assert len(splits) == 1 or len(set(splits)) == 2, form


def test_the_reader_keeps_its_measured_agreement():
    _, wrong = agreement(select("heldout"))
    assert len(select("heldout")) - len(wrong) >= HELDOUT_READ, [(r.id, r.read()) for r in wrong]
    share, wrong = agreement(select("all"))
    assert share >= ALL_READ, [(r.id, r.expected, r.read()) for r in wrong]
