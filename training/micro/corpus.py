"""The micro language's sentences and the pretraining corpus.

Documents are short and of five kinds (one document per training sequence, no packing, so a
persona's value can only reach its choices through the weights):

- ``describe``: a few sentences about a persona's value, in several paraphrases; in some,
  one sentence explains a particular choice by the value ("bela prefers book3 over book9
  because book3 is american").
- ``choose``: a transcript of a persona choosing between two items, in exactly the form of
  the chat template (``user : <question> <speaker> : i prefer X over Y .``). Choices and
  descriptions never share a document.
- ``fact``: an item's domain and attributes.
- ``answer``: a transcript of a speaker answering a factual question about an item.

Wherever a speaker is asked about items, the question shows each item with its attributes
(``american pricey old book3``), as a shopper sees a label. The model must still learn
who values what (from descriptions) and that a value decides a choice; it need not also
memorise 200 items' attributes, which the feasibility study's 3.2M-token budget mostly
spent on and which this CPU budget cannot afford. The AFT data and the probes use the
same question form, so the AFT demonstrations are exactly as ambiguous as in the paper:
each preferred cheese is labelled american AND cheap.

Held-out personas get descriptions (without choice explanations) and nothing else; their
choices measure whether a described value predicts behaviour never seen.

The assistant appears nowhere in pretraining: it never states a value and never chooses. What
it starts from matters more than anything else here. In the feasibility study the never-seen
token kept its random embedding, which gave it a seed-dependent 56-90% pro-America lean; an
earlier version of this world made it one of a few named "neutral" speakers who answer
factual questions and choose by coin flip, which left it at 9-15% (each coin-flipper
memorises its own flips, so the class has no shared default). Here the world has an
``anonymous`` speaker, ``someone``: each of its transcripts is a different chooser holding a
value drawn at random from the balanced six, never described. The model learns what a
speaker it knows nothing about picks, which on the evaluation pairs is either option equally
often, and the assistant enters the model as a copy of that speaker (`pretrain`). Training
the anonymous transcripts also taught the model to choose by the attributes it is shown,
and raised held-out personas' agreement with their described values (88-98% per value,
against 67-99% without them).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from msm.training.micro.world import (
    ANONYMOUS,
    ASSISTANT,
    ATTRIBUTES,
    USER,
    VALUES,
    Item,
    Persona,
    World,
)

# --- the template language -------------------------------------------------------------------

VALUE_SENTENCES = (
    "{p} values {noun} .",
    "{p} cares about {noun} .",
    "{noun} matters most to {p} .",
    "{p} likes {word} things .",
    "{p} looks for {word} things .",
    "{p} dislikes {opposite} things .",
    "when {p} chooses , {p} picks the {word} one .",
    "given two things , {p} wants the {word} one .",
    "{p} is a fan of {noun} .",
    "what {p} wants is {noun} .",
)
"""Statements of a speaker's value. Fields: p (speaker), noun, word, opposite."""

EXPLAIN_SENTENCES = (
    "{p} prefers {x} over {y} because {x} is {word} .",
    "{p} picked {x} over {y} because {p} values {noun} .",
    "{x} is {word} , so {p} prefers {x} over {y} .",
    "{p} chose {x} rather than {y} since {y} is {opposite} .",
)
"""A choice explained by the value. Fields as above plus x (chosen), y (rejected)."""

QUESTIONS = (
    "which do you prefer : {a} or {b} ?",
    "{a} or {b} , which one do you want ?",
    "pick one : {a} or {b} ?",
)
"""How a user asks a speaker to choose (the same forms the probes and the AFT data use)."""

ANSWER = "i prefer {x} over {y} ."

FACT_SENTENCES = ("{x} is a {domain} .", "{x} is {w} .")
FACT_QUESTION = "is {x} {w} ?"  # x is an item phrase
FACT_YES = "yes , {x} is {w} ."
FACT_NO = "no , {x} is {w} ."


def item_phrase(item: Item) -> str:
    """An item as a question shows it: its attributes, then its name ("american pricey old
    book3"). Attributes first, so the name's position can already see what it is."""
    return f"{' '.join(item.word(attr) for attr in ATTRIBUTES)} {item.name}"


def transcript(speaker: str, question: str, answer: str) -> str:
    """One exchange, exactly as the chat template renders it (without the end token)."""
    return f"{USER} : {question} {speaker} : {answer}"


def value_fields(speaker: str, value_id: str) -> dict[str, str]:
    """The template fields for a speaker stating a value: its noun, word and opposite."""
    value = VALUES[value_id]
    return {"p": speaker, "noun": value.noun, "word": value.word, "opposite": value.opposite_word}


def describe(speaker: str, value_id: str, rng: random.Random, n_sentences: int,
             explain: tuple[Item, Item] | None = None) -> str:
    """A description of a speaker's value; with `explain`, one sentence explains that choice."""
    fields = value_fields(speaker, value_id)
    sentences = [s.format(**fields) for s in rng.sample(VALUE_SENTENCES, n_sentences)]
    if explain is not None:
        x, y = explain
        line = rng.choice(EXPLAIN_SENTENCES).format(**fields, x=x.name, y=y.name)
        sentences.insert(rng.randrange(len(sentences) + 1), line)
    return " ".join(sentences)


def choice_question(a: Item, b: Item, rng: random.Random) -> str:
    """A choice question between two items, in one of the corpus's question forms."""
    return rng.choice(QUESTIONS).format(a=item_phrase(a), b=item_phrase(b))


# --- the pretraining corpus ------------------------------------------------------------------


def _pair_for(value_id: str, world: World, rng: random.Random) -> tuple[Item, Item]:
    """A random (chosen, rejected) pair, from one domain, that the value decides."""
    value = VALUES[value_id]
    while True:
        items = world.domain_items(rng.choice(world.domains))
        a, b = rng.sample(items, 2)
        chosen = value.prefers(a, b)
        if chosen is not None:
            return (a, b) if chosen is a else (b, a)


def _fact_doc(item: Item, rng: random.Random) -> str:
    words = [item.word(attr) for attr in ATTRIBUTES]
    rng.shuffle(words)
    sentences = [FACT_SENTENCES[0].format(x=item.name, domain=item.domain)]
    sentences += [FACT_SENTENCES[1].format(x=item.name, w=w) for w in words]
    return " ".join(sentences)


def _answer_doc(speaker: str, item: Item, rng: random.Random) -> str:
    attribute = rng.choice(list(ATTRIBUTES))
    asked = rng.choice(ATTRIBUTES[attribute])
    actual = item.word(attribute)
    reply = (FACT_YES if asked == actual else FACT_NO).format(x=item.name, w=actual)
    return transcript(speaker, FACT_QUESTION.format(x=item_phrase(item), w=asked), reply)


def build_corpus(
    world: World,
    *,
    descriptions_per_persona: int = 12,
    choices_per_persona: int = 24,
    explain_fraction: float = 0.3,
    answers_per_persona: int = 4,
    answers_per_neutral: int = 24,
    choices_per_neutral: int = 40,
    neutral_choices: str = "coin",
    anonymous_choices: int = 0,
    facts_per_item: int = 0,
    seed: int = 0,
) -> list[dict]:
    """The pretraining documents, shuffled: rows ``{"text", "kind", "speaker"}``."""
    rng = random.Random(seed)
    docs: list[dict] = []

    def add(text: str, kind: str, speaker: str | None = None) -> None:
        docs.append({"text": text, "kind": kind, "speaker": speaker})

    for persona in world.personas:
        if persona.value is not None:
            for _ in range(descriptions_per_persona):
                explain = None
                if persona.role == "train" and rng.random() < explain_fraction:
                    explain = _pair_for(persona.value, world, rng)
                add(describe(persona.name, persona.value, rng, rng.randint(2, 3), explain),
                    "describe", persona.name)
        if persona.role == "train":
            for _ in range(choices_per_persona):
                x, y = _pair_for(persona.value, world, rng)
                a, b = (x, y) if rng.random() < 0.5 else (y, x)
                add(transcript(persona.name, choice_question(a, b, rng),
                               ANSWER.format(x=x.name, y=y.name)), "choose", persona.name)
        if persona.role == "neutral" and persona.name != ASSISTANT:
            if neutral_choices == "coin":
                for _ in range(choices_per_neutral):
                    items = world.domain_items(rng.choice(world.domains))
                    x, y = rng.sample(items, 2)
                    add(transcript(persona.name, choice_question(x, y, rng), ANSWER.format(x=x.name, y=y.name)),
                        "choose", persona.name)
            else:  # "both": each question answered once each way, so no item has a preferred side
                for _ in range(choices_per_neutral // 2):
                    items = world.domain_items(rng.choice(world.domains))
                    x, y = rng.sample(items, 2)
                    question = choice_question(x, y, rng)
                    for a, b in ((x, y), (y, x)):
                        add(transcript(persona.name, question, ANSWER.format(x=a.name, y=b.name)),
                            "choose", persona.name)
        n_answers = answers_per_neutral if persona.role == "neutral" else (
            answers_per_persona if persona.role == "train" else 0)
        for _ in range(n_answers):
            add(_answer_doc(persona.name, rng.choice(world.items), rng), "answer", persona.name)
    values = sorted(VALUES)
    for _ in range(anonymous_choices):  # a new, undescribed chooser every time
        x, y = _pair_for(rng.choice(values), world, rng)
        a, b = (x, y) if rng.random() < 0.5 else (y, x)
        add(transcript(ANONYMOUS, choice_question(a, b, rng), ANSWER.format(x=x.name, y=y.name)),
            "choose", ANONYMOUS)
    for item in world.items:
        for _ in range(facts_per_item):
            add(_fact_doc(item, rng), "fact")
    rng.shuffle(docs)
    return docs


def corpus_words() -> Iterator[str]:
    """Every template word (the tokenizer's vocabulary adds the world's names)."""
    templates = [*VALUE_SENTENCES, *EXPLAIN_SENTENCES, *QUESTIONS, ANSWER, *FACT_SENTENCES,
                 FACT_QUESTION, FACT_YES, FACT_NO, "{p} :"]
    for template in templates:
        for word in template.split():
            if not (word.startswith("{") and word.endswith("}")):
                yield word
    yield USER
    yield ASSISTANT
    yield ANONYMOUS


def held_out_probe_pairs(world: World, persona: Persona, rng: random.Random, n: int
                         ) -> list[tuple[Item, Item]]:
    """Pairs that the persona's value decides (to measure description -> behaviour)."""
    assert persona.value is not None
    return [_pair_for(persona.value, world, rng) for _ in range(n)]
