"""One reader for lettered multiple-choice answers (two-option probes and A-D knowledge items).

Written against what a real small instruct model replies (SmolLM2-135M-Instruct, greedy, 16
new tokens; `benchmarks/real_model_check.py`), not only against scripted outputs. A reply is
read by collecting every *claim* it makes for an option and keeping the reply only when all
claims agree:

- a bare letter: ``B``, ``(A)``, ``**B**``, ``"A".``;
- a leading label: ``A) ...``, ``A: ...``, ``A. ...``;
- a stated choice anywhere: ``The answer is A``, ``The best answer is indeed "A".``,
  ``The answer is: A``, ``ANSWER: B``, ``I would choose B``, ``I'd pick A``, ``I'd take A.``,
  ``Option B``, ``My choice is A``, ``I'll go with B``; an option named after ``over``,
  ``rather than``, ``instead of`` or ``not`` is the one turned down (``I'd choose option A
  over option B.`` is A);
- the option's own text, when the reply names exactly one option (``I would rather have a
  Colby.``, ``I prefer a designer stroller over a basic umbrella stroller.``, or ``A) An
  unsigned print of ...`` cut off by the token limit). A paraphrase (``I prefer metal over
  solid hardwood.`` for "A basic metal crib") is not an option's text and is not read.

A reply that lists the options back (``A: Brie\\nB: Cream cheese``) or names both letters
(``A and B``, ``both``) is ``both``; one whose claims disagree (``A: I would choose B.``, a
label for one option followed by the other option's text) or that makes none (a refusal,
``neither``, prose about something else) is ``neither``. Capital letters only: the article
"a" is not a choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_BOTH = re.compile(
    r"^\W*(?i:both\b)|^\W*([A-D])\s*(?i:and|&|,|/|\+|or)\s*([A-D])\b"
)
_NEITHER = re.compile(r"^\W*(?i:neither|none)\b")
# "A) text", "A: text", "A. text", "(A) text", "**A**: text" at the start of a line
_LABEL = re.compile(r"^[ \t*_>#-]*(\()?([A-D])(\))?\s*([).:\]])?\**(?=\s|$)", re.MULTILINE)
_BARE = re.compile(r"^\W*\(?([A-D])\)?\W*$")
_LETTER = r"[\"'“‘(*\[]*([A-D])(?![\w'’-])"
_STATED = re.compile(
    r"(?i:\banswer(?:\s+would\s+be|\s+is)?|\bchoice\s+(?:is|would\s+be)|\bchoose|\bchose|\bpick"
    r"|\bselect|\btake|\bgo\s+(?:with|for)|\bopt\s+for|\bprefer|\boption|\bletter|\bcorrect\s+one\s+is"
    r"|\bi\s+(?:would\s+)?(?:say|vote))"
    r"(?i:\s+is|\s+be)?(?i:\s+(?:indeed|clearly|probably|definitely))?(?i:\s+(?:option|letter))?"
    r"\s*[:=-]?\s*" + _LETTER
)
# what follows these names the option turned down: "I'd choose option A over option B"
_REJECTS = re.compile(r"(?i:\bover|\brather\s+than|\binstead\s+of|\bnot)\s*$")
_PRICE = re.compile(r"\s*\(\$[^)]*\)?\s*$|\s*\(\$[\d.,]*$")
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("“", '"').replace("”", '"').lower()
    return _SPACE.sub(" ", re.sub(r"[*_\"`]", "", text)).strip()


def _core(option: str) -> str:
    """An option's text without its price tag, normalised."""
    return _norm(_PRICE.sub("", option)).rstrip(".")


def _named(body: str, options: Sequence[str]) -> set[int]:
    """Indexes of the options whose text the body names (whole words, not as the option turned
    down: ``over <option>``), or which the body begins to name and was cut off (at least 12
    characters of the option's text)."""
    body_n = _norm(_PRICE.sub("", body)).rstrip(".")
    hits = set()
    for i, option in enumerate(options):
        core = _core(option)
        if not core:
            continue
        whole = [m for m in re.finditer(r"(?<![\w-])" + re.escape(core) + r"(?![\w-])", body_n)
                 if not _REJECTS.search(body_n[: m.start()])]
        if whole or (len(body_n) >= 12 and core.startswith(body_n)):
            hits.add(i)
    return hits


def _starts_option(rest: str, options: Sequence[str]) -> bool:
    """Whether `rest` ("A down parka ...") is an option's own text that begins with the article
    "A", not a letter: ``I'd go with A down parka`` names option B's text."""
    rest_n = _norm(rest)
    return any(len(core) > 2 and rest_n.startswith(core[: max(12, len(core) // 2)])
               for core in map(_core, options))


def read_choice(text: str, options: Sequence[str] = (), letters: Sequence[str] = ("A", "B")) -> str:
    """A letter from `letters`, ``both`` or ``neither`` (see the module docstring).

    `options` are the option texts in the order shown (``options[0]`` is labelled
    ``letters[0]``); without them only letters are read.
    """
    text = (text or "").strip()
    if not text:
        return "neither"
    m = _BOTH.match(text)
    if m and (m.group(1) is None or (m.group(1) in letters and m.group(2) in letters
                                      and m.group(1) != m.group(2))):
        return "both"
    if _NEITHER.match(text):
        return "neither"
    claims: list[str] = []
    bare = _BARE.match(text)
    if bare:
        claims.append(bare.group(1))
    labels = [m for m in _LABEL.finditer(text) if m.group(3) or m.group(4)]
    labelled = {m.group(2) for m in labels}
    if len(labelled) >= 2 and not _STATED.search(text):
        return "both" if labelled <= set(letters) else "neither"  # the options listed back
    weak: list[str] = []
    for m in labels:
        # "A) ..." repeats the prompt's own label: a claim. "A: ..." may equally be the
        # answer label of a Q/A format ("A: I would choose B."): a claim only when nothing
        # else in the reply makes one.
        (weak if m.group(4) == ":" and not m.group(3) else claims).append(m.group(2))
        rest = text[m.end():].split("\n", 1)[0]
        after = _BARE.match(rest)
        if after:  # "A: B" - a label followed by a bare letter claims that letter
            claims.append(after.group(1))
    claims += [m.group(1) for m in _STATED.finditer(text)
               if not _starts_option(text[m.start(1):], options)
               and not _REJECTS.search(text[:m.start()])]
    if options:
        # the text after a leading label, or the whole reply, may name one option
        body = text[labels[0].end():] if labels and labels[0].start() == 0 else text
        first_line = body.strip().split("\n")[0]
        named = _named(first_line, options) or _named(body, options)
        if len(named) == 1:
            claims.append(letters[named.pop()])
    if not claims:
        claims = weak
    picked = set(claims)
    if len(picked) == 1:
        letter = picked.pop()
        return letter if letter in letters else "neither"
    return "neither"


def parse_choice(text: str, options: Sequence[str] = ()) -> str:
    """Two options labelled A and B: ``A``, ``B``, ``both`` or ``neither``."""
    return read_choice(text, options, ("A", "B"))


def parse_letter(text: str, options: Sequence[str] = (), letters: Sequence[str] = "ABCD") -> str | None:
    """One of several lettered options (default A-D), or None (no answer, or more than one)."""
    got = read_choice(text, options, tuple(letters))
    return got if got in letters else None
