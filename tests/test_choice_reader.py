"""The one reader of lettered answers (`harness.probes.answers`), on replies a real model wrote.

Every case in `REAL` is a reply of SmolLM2-135M-Instruct (greedy, 16 new tokens) to a prompt
of this project, with the two option texts in the order it saw them
(`benchmarks/real_model_check.py --replies`); the expected reading is what the reply says.
"""

import pytest

from harness.probes import parse_choice
from harness.probes.answers import read_choice
from harness.probes.knowledge import parse_letter

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
    # a paraphrase of an option is not its text: not read
    ("I prefer metal over solid hardwood.", ("A solid hardwood convertible crib ($700)", "A basic metal crib ($100)"),
     "neither"),
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
        # the article "a" is no answer; lower-case letters are not read
        ("I would choose a cheaper one.", "neither"), ("b", "neither"),
        ("both", "both"), ("A & B", "both"), ("Neither option suits me.", "neither"),
        ("The answer is A. No wait, the answer is B.", "neither"),
        ("I'd take B rather than A.", "B"), ("I'd pick A instead of B", "A"), ("Option B, not A.", "B"),
        ("I'd take option B over option A, or option A.", "neither"),
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
