"""One reader for lettered multiple-choice answers (two-option probes and A-D knowledge items).

Measured on replies written independently of it (`tests/data/choice_replies.yaml`, ``python
tests/choice_replies.py``; figures in docs/values_generalization.md) and first written against what a real small
instruct model replies (SmolLM2-135M-Instruct, greedy, 16 new tokens;
`benchmarks/real_model_check.py`).

A reply is read the way a careful person reads it: find what it *claims* for an option and keep
the reply only when its claims agree.

**What names an option** (`_Options.resolve`): a letter (``B``, ``(A)``, ``option b``, ``i'd
pick a``; a capital "A" followed by an ordinary word is the article: ``A hand-bound
sketchbook``); an ordinal (``Option 2``, ``the first statement``, ``the latter``, ``the second
friend's side``); the option's own text or its beginning (``A plain plastic electric kettle``);
words only one option has (``the fish from Alaska`` for "Alaskan salmon"; a US state counts as
``American``, the other side then as ``imported``/``foreign``; accents folded: ``Comté``); its
price (``the $80 one``) or a price comparative (``the cheaper one``, ``the less expensive
sofa``).

**Claims**, strongest first:

1. stated choices: a choice verb (``I'd choose B``, ``I'd side with B``, ``I'm with A``, ``Go
   with B``, ``For a cupboard staple, go with the tea bags``, ``I'd start with the jazz album,
   B``), a verdict (``The answer is A``, ``My position: B``, ``Recommendation: B (mesh
   system)``, ``The best choice for you is B``, ``the better tablet is the pro one``), an
   endorsement (``B is closer to my view``, ``the $70 drill (A) is the sensible buy``, ``I find
   B more convincing``, ``The basic dryer will do``, ``Pecorino wins for me``), a letter with at
   most hedges and fillers around it (``Sure! A``, ``Probably B?``, ``For that reason, A.``,
   ``A A A A``), a leading letter (``A - the ...``, ``B, because ...``, ``A) text``), a short
   phrase that is one option (``The cheaper one.``, ``The luxury one, if ...``); an option
   turned down (``not B``, ``Anything but Velveeta``, ``I wouldn't start with A``, ``B isn't
   worth it``, after ``over``/``rather than``/``instead of``) claims the other of two;
2. a mention such as ``Option A gives you ...`` or ``burrata (A)``;
3. the text of exactly one option anywhere, or, in a reply of at most `SHORT_REPLY` words, the
   words of one option (``A hand-bound sketchbook from Vermont would be lovely.``); a Q/A answer
   label ``A:`` (``A: I would choose B.`` is B: the label counts only when nothing else claims).

**Which part decides.** After a retraction (``A. Actually, no: B.``, ``wait, I'll change that
to B``, ``Sorry, I meant A``) the part after it; else a conclusion that decides by a stated
claim (``Recommendation``, ``Verdict``, ``Conclusion``, ``Bottom line``, ``On balance``, ``If I
were choosing``, ``if I had to choose``, ``Short answer``, ...; the last one that decides
wins); else the whole reply, where claims that disagree make ``neither`` (``I prefer A. B is my
final choice.``, ``The answer is A. So the better one is B.``). Advice split by the reader's
circumstances (two sentences beginning ``If you ...`` or ``For ...,``; ``Choose A if ...;
choose B if ...``) claims nothing.

**both and neither.** ``both`` is a reply that chooses both (``Both!``, ``A and B``, ``A/B``,
``AB``, ``I'd do both``, ``I agree with both statements``, ``Brie and Emmental, both!``) or
gives the options back (``A: Brie\\nB: Cream cheese``, ``Velveeta or Camembert?``); praising
both without a choice (``Both are great choices!``), a refusal, a hedge, an explicit
``Neither``, a clarifying question, the prompt continued, or prose about something else is
``neither``. Labels for both options that introduce notes rather than the options' texts claim
nothing (``A: costly...\\nB: keeps...\\n\\nSo B is closer to my view.`` is B), nor do bold
label lines that title sections of a longer reply (``**Option A - ...**``).

The text is made regular first: full-width forms and CJK punctuation (``我选B。``, ``A（...）``),
``<think>`` blocks dropped, structured answers (``{"answer": "B"}``, ``<answer>A</answer>``),
markdown emphasis, a lone lower-case letter (``b``, ``a)``, ``option b``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

BOTH, NEITHER, CONFLICT = "both", "neither", "conflict"

# --------------------------------------------------------------------------- making it regular

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_CJK_WORDS = {  # choice words in Chinese, as English (longest first)
    "我会选择": " I would choose ", "我选择": " I choose ", "我会选": " I would choose ",
    "我选": " I choose ", "选择": " choose ", "答案是": " the answer is ", "答案": " answer ",
}
_CJK_PUNCT = str.maketrans({"。": ". ", "，": ", ", "、": ", ", "；": "; ", "：": ": "})
_THINK = re.compile(r"<think>.*?</think>|<think>.*\Z", re.DOTALL | re.IGNORECASE)
_STRUCTURED = re.compile(
    r"<(answer|choice)>\s*([A-Da-d])\s*</\1>|[\"'](?:answer|choice)[\"']\s*:\s*[\"']?([A-Da-d])\b",
    re.IGNORECASE)
_EMPHASIS = re.compile(r"\*\*|__|`|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)")
_BOLD_LABEL = re.compile(
    r"(?m)^\s*\*\*((?:(?i:option|statement|perspective)\s+)?\(?[A-D]\)?[.:\s–—-]*\s+\w.*)$")
_ECHOED_INSTRUCTION = re.compile(r"(?im)^.*\breply with the letter\b.*$")
_ORDINALS = {"first": 0, "former": 0, "second": 1, "latter": 1, "third": 2, "fourth": 3,
             "1": 0, "2": 1, "3": 2, "4": 3}
_ORDINAL_NOUN = (r"one|option|statement|view|opinion|choice|answer|item|friend|perspective|"
                 r"position|pick|candidate|offer|alternative")
_ORDINAL = re.compile(
    r"(?i)\bthe\s+(former|latter)\b"
    r"|\bthe\s+(first|second|third|fourth)(?:\s+(?:" + _ORDINAL_NOUN + r")('s)?\b|(?=\s*[.,!?;:)]|\s*$))"
    r"|\b(?:option|choice|number|statement|answer)\s*(?:no\.\s*|#\s*)?([1-4])\b|#([1-4])\b")


def _prepare(text: str, letters: Sequence[str]) -> str:
    """The reply in a regular form (see the module doc)."""
    text = unicodedata.normalize("NFKC", text or "").translate(_CJK_PUNCT)
    for word, english in _CJK_WORDS.items():
        text = text.replace(word, english)
    text = re.sub(rf"(?<=[{_CJK}])(?=[A-Za-z])|(?<=[A-Za-z])(?=[{_CJK}])", " ", text)
    text = _THINK.sub("", text)
    text = _STRUCTURED.sub(lambda m: f"Answer: {(m.group(2) or m.group(3)).upper()}", text)
    if len([line for line in text.split("\n") if line.strip()]) > 1:  # "**Option A – ...**" titles
        text = _BOLD_LABEL.sub(r"# \1", text)  # a section; alone it is the answer
    text = _EMPHASIS.sub("", text).replace("’", "'").replace("‘", "'")
    text = text.replace("“", '"').replace("”", '"')
    text = _ECHOED_INSTRUCTION.sub("", text)
    text = _upper_lone_letters(text, letters)
    return _ORDINAL.sub(lambda m: _ordinal_letter(m, letters), text).strip()


def _upper_lone_letters(text: str, letters: Sequence[str]) -> str:
    """``b``, ``a)``, ``(b)``, ``option b``, ``answer: a``: a lower-case letter where nothing
    else could be meant."""
    low = "".join(letter.lower() for letter in letters)
    up = "".join(letters)
    whole = re.fullmatch(rf"\W*\(?([{low}])\)?[.)!]?\W*", text)
    if whole:
        return whole.group(1).upper()
    fused = re.fullmatch(rf"\W*([{up}])([{up}])\W*", text)  # "AB"
    if fused:
        return f"{fused.group(1)}, {fused.group(2)}"
    # at the start before a reason (``b. silk breathes``), at the end after a verb (``i'd pick a``)
    text = re.sub(rf"^\s*\(?([{low}])[.):]\s", lambda m: f"{m.group(1).upper()}. ", text)
    text = re.sub(rf"(?i:\b(?:pick|choose|take|go\s+with|say|prefer))\s+([{low}])\W*$",
                  lambda m: m.group(0)[: m.start(1) - m.start()] + m.group(1).upper(), text)
    text = re.sub(rf"(?i:\b(option|answer|letter|choice)(\s+is)?\s*[:=-]?\s*)\(?([{low}])\b(?![\w'-])",
                  lambda m: f"{m.group(1)}{m.group(2) or ''} {m.group(3).upper()}", text)
    return re.sub(rf"(?m)^(\s*)\(?([{low}])\)(?=\s|$)", lambda m: f"{m.group(1)}{m.group(2).upper()})",
                  text)


def _ordinal_letter(m: re.Match, letters: Sequence[str]) -> str:
    """``the first statement``, ``the latter``, ``Option 2`` -> ``option A`` / ``option B``."""
    word = next(g for g in (m.group(1), m.group(2), m.group(4), m.group(5)) if g)
    index = _ORDINALS[word.lower()]
    if index >= len(letters):
        return m.group(0)
    return f"option {letters[index]}{m.group(3) or ''}"


# --------------------------------------------------------------------------- naming an option


def _wordset(*parts: str) -> frozenset[str]:
    return frozenset(" ".join(parts).split())


_LETTER_FOLLOWERS = _wordset(
    "is was would will seems sounds looks wins gives has makes offers gets fits works feels should "
    "could might can does comes takes beats edges matches reflects aligns and or because since as "
    "but over for if then too though instead rather here there all every definitely clearly "
    "probably certainly obviously hands anyway please again on in at to this that with by from")
_US_PLACES = re.compile(
    r"\b(?:american|america|united states|u\.s\.|usa|alabama|alaska|arizona|arkansas|california|"
    r"colorado|connecticut|delaware|florida|georgia|hawaii|idaho|illinois|indiana|iowa|kansas|"
    r"kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|mississippi|missouri|"
    r"montana|nebraska|nevada|new hampshire|new jersey|new mexico|new york|north carolina|"
    r"north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|south carolina|south dakota|"
    r"tennessee|texas|utah|vermont|virginia|washington|west virginia|wisconsin|wyoming|napa|"
    r"detroit|chicago|seattle|nashville)\b", re.IGNORECASE)
_STOP = _wordset(  # and "cheese": in the cheese questions every option is one
    "a an the of in on at to for with from by and or is are be been being should would will can "
    "could it its their them they this that these those than as any one ones each per every whose "
    "who which when where what more most less own other others many much some very just also not "
    "no all made built sewn assembled grown make buy get take pick choose option statement view "
    "friend side thinks think holds hold i i'd you your my me we our he she his her like prefer go "
    "rather have has do does there here into out up about over under after before while whatever "
    "wherever whichever way thing best better good great well really definitely probably included "
    "two pair set kind sort type lot bit little whole cheese cheeses")
_CHEAPER = re.compile(r"(?i)\b(?:cheaper|cheapest|less\s+expensive|least\s+expensive|"
                      r"lower[- ]priced|lower[- ]cost|more\s+affordable|most\s+affordable|"
                      r"budget|inexpensive|affordable|economical|bargain)\b")
_PRICIER = re.compile(r"(?i)\b(?:pricier|priciest|more\s+expensive|most\s+expensive|costlier|"
                      r"higher[- ]priced|higher[- ]end|premium|splurge|pricey|expensive|"
                      r"spend\s+(?:a\s+(?:little|bit)\s+)?more)\b")
_PRICE = re.compile(r"\$\s?([\d,]+(?:\.\d+)?)\s*(million|billion|k\b)?", re.IGNORECASE)
_PRICE_TAG = re.compile(r"\s*\(\$[^)]*\)?\s*$|\s*\(\$[\d.,]*$")
_REJECT_CUT = re.compile(r"(?i)\s*(?:,\s*)?\b(?:over|rather\s+than|instead\s+of|not|versus|vs\.?)\s+")
_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Without accents: ``Comté`` is ``Comte``."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _norm(text: str) -> str:
    return _SPACE.sub(" ", re.sub(r"[*_\"`]", "", _fold(text).lower())).strip()


def _core(option: str) -> str:
    """An option's text without its price tag, normalised."""
    return _norm(_PRICE_TAG.sub("", option)).rstrip(".")


def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def _words(text: str) -> set[str]:
    text = _PRICE.sub(" ", _fold(text).lower().replace("'s", ""))
    return {_stem(w) for w in re.findall(r"[a-z][a-z']+", text) if w not in _STOP and len(w) > 2}


def _same_word(a: str, b: str) -> bool:
    """The same word up to an ending: ``alaska``/``alaskan``, ``canada``/``canadian``."""
    prefix = 0
    for x, y in zip(a, b):
        if x != y:
            break
        prefix += 1
    short, long_ = sorted((a, b), key=len)
    return a == b or (prefix >= 5 and len(short) - prefix <= (2 if prefix >= 7 else 1)
                      and len(long_) - prefix <= 3)


def _price(option: str) -> float | None:
    m = _PRICE.search(option)
    if not m:
        return None
    scale = {"million": 1e6, "billion": 1e9, "k": 1e3}.get((m.group(2) or "").lower(), 1)
    return float(m.group(1).replace(",", "")) * scale


@dataclass
class _Options:
    """The options as shown: letters, texts and what tells each apart."""

    letters: tuple[str, ...]
    texts: tuple[str, ...]
    cores: tuple[str, ...] = ()
    distinct: tuple[set[str], ...] = ()
    prices: tuple[float | None, ...] = ()

    @classmethod
    def of(cls, texts: Sequence[str], letters: Sequence[str]) -> _Options:
        texts = tuple(texts)
        words = [_words(t) for t in texts]
        us = [bool(_US_PLACES.search(t)) for t in texts]
        if len(texts) == 2 and us.count(True) == 1:
            for i in range(2):
                words[i] |= {"american", "america", "domestic"} if us[i] else {"imported", "foreign"}
        distinct = tuple(w - set().union(*(o for j, o in enumerate(words) if j != i))
                         for i, w in enumerate(words))
        return cls(tuple(letters), texts, tuple(_core(t) for t in texts), distinct,
                   tuple(_price(t) for t in texts))

    def letter_refs(self, phrase: str) -> list[str]:
        """The letters a phrase names (a capital "A" before an ordinary word is the article)."""
        out = []
        for m in re.finditer(r"(?<![\w-])([A-D])(?![\w-])(?!'[a-rt-z])", phrase):
            nxt = re.match(r"\s+([A-Za-z][\w']+)", phrase[m.end():])
            if m.group(1) == "A" and nxt and nxt.group(1).lower() not in _LETTER_FOLLOWERS:
                continue
            out.append(m.group(1))
        return out

    def named(self, body: str) -> set[int]:
        """Options whose own text the body names (whole words, not after ``over``), or which it
        begins and was cut off (at least 12 characters)."""
        body_n = _norm(_PRICE_TAG.sub("", body)).rstrip(".")
        hits = set()
        for i, core in enumerate(self.cores):
            if not core:
                continue
            for m in re.finditer(r"(?<![\w-])" + re.escape(core) + r"(?![\w-])", body_n):
                if not _REJECT_CUT.search(body_n[max(0, m.start() - 14): m.start()] + " "):
                    hits.add(i)
            if len(body_n) >= 12 and core.startswith(body_n):
                hits.add(i)
        return hits

    def paraphrased(self, phrase: str, sure: bool = False) -> set[int]:
        """Options that words of the phrase belong to, and to no other option. `sure`: one
        option only, by two such words or a capitalised one (``Vermont``), not by one common
        word."""
        words = _words(phrase)
        found = [{w for w in words if any(_same_word(w, o) for o in own)} for own in self.distinct]
        hits = {i for i, f in enumerate(found) if f}
        if sure and len(hits) == 1:
            capitals = {_stem(w.lower()) for w in re.findall(r"\b[A-Z][a-z]+", phrase)}
            one = found[next(iter(hits))]
            return hits if len(one) >= 2 or one & capitals else set()
        return hits

    def compared(self, phrase: str) -> set[int]:
        """The option whose price the phrase names (``the $80 one``), or the cheaper or pricier
        option, for a phrase that says which."""
        prices = self.prices
        named = {i for m in _PRICE.finditer(phrase) for i, p in enumerate(prices) if p == _price(m.group(0))}
        if len(named) == 1:
            return named
        if len(prices) != 2 or None in prices or prices[0] == prices[1]:
            return set()
        cheap = int(prices[1] < prices[0])  # type: ignore[operator]
        if _CHEAPER.search(phrase):
            return {cheap}
        if _PRICIER.search(phrase):
            return {1 - cheap}
        return set()

    def resolve(self, phrase: str, strict: bool = False) -> set[str]:
        """The letters (or ``both``/``neither``) a phrase points at; empty when it is none.
        `strict`: letters and ordinals only."""
        letters = set(self.letter_refs(phrase))
        if len(letters) > 1 and re.search(r"\b[A-D]\s*(?:and|&|\+|/)\s*[A-D]\b", phrase):
            return {BOTH}
        if letters:
            return letters
        if strict:
            return set()
        if re.match(r"(?i)\W*both\b", phrase):
            return {BOTH}
        if re.match(r"(?i)\W*(?:neither|none)\b", phrase):
            return {NEITHER}
        for find in (self.named, self.paraphrased, self.compared):
            hits = find(phrase)
            if hits:
                return {self.letters[i] for i in hits} if len(hits) == 1 else set()
        return set()


# --------------------------------------------------------------------------- claims

_I = r"\b(?:i|we)"
_AUX = (r"(?:'d|'ll|'m\s+going\s+to|\s+(?:would|will|shall|should|can|could|might|must|"
        r"am\s+going\s+to|have\s+to|had\s+to|'d))?")
_ADV = (r"(?:\s+(?:still|probably|definitely|certainly|personally|just|rather|honestly|actually|"
        r"also|happily|instead|really|then|now|gladly|likely|always|not|never|don't|do\s+not|didn't|"
        r"wouldn't|won't|can't|cannot|couldn't|shouldn't|lean\s+toward|lean\s+towards))*")
_VERB = (r"(?:choose|chose|pick|picked|take|took|go\s+with|go\s+for|opt\s+for|select|prefer|"
         r"recommend|suggest|favou?r|have|get|buy|book|bring|start\s+with|do|side\s+with|"
         r"stick\s+with|settle\s+on|lean\s+towards?|vote\s+for|back|support|agree\s+with|say|want|"
         r"like|change\s+(?:that|it|my\s+answer)\s+to|put\s+my\s+name\s+to|elect|read|watch|"
         r"listen\s+to|visit|try|order|eat|drink|wear|use|play|hire|attend|fund|keep|gift|give|"
         r"stay\s+(?:at|in)|fly\s+with|invest\s+in|spend\s+(?:it\s+)?on|pay\s+for|meant)")
_FOREIGN_VERB = (r"(?:elijo|escojo|prefiero|elegiría|escogería|preferiría|me\s+quedo\s+con|"
                 r"je\s+(?:choisis|choisirais|prends|prendrais|préfère|préférerais)|ich\s+(?:wähle|nehme|"
                 r"würde)|escolho|prefiro|escolheria|scelgo|sceglierei|preferisco)")
_PICK = re.compile(
    rf"(?i:{_I}{_AUX}{_ADV}\s+{_VERB}\b|\bi(?:'m|\s+am){_ADV}\s+(?:with|on|for|team|going\s+with|"
    rf"siding\s+with|leaning\s+(?:towards?|to)|in\s+favou?r\s+of)\b|\band\s+(?:get|buy|take|pick|"
    rf"choose|go\s+with|go\s+for|book|grab)\b|\b{_FOREIGN_VERB})")
_IMPERATIVE = re.compile(
    r"(?i)^\W*(?:[^,;]{0,80},\s*)?(?:(?:so|then|just|definitely|honestly|personally|overall)\W+)*"
    r"(?P<verb>go\s+with|go\s+for|"
    r"get|take|pick|choose|buy|book|opt\s+for|grab|select|stick\s+with|try|skip|avoid|pass\s+on)\b")
_DECLARE = re.compile(
    r"(?i)(?:\b(?:my|our|the)\s+(?:final\s+|own\s+|top\s+|honest\s+|personal\s+)?(?:answer|choice|"
    r"pick|vote|position|recommendation|verdict|preference|suggestion|selection|decision)"
    r"|\b(?:the\s+)?(?:best|better|right|correct|stronger|strongest|sensible|smarter|wiser|"
    r"obvious|clear|safer|more\s+sensible|most\s+sensible)\s+(?:choice|answer|option|pick|buy|"
    r"bet|call|fit|purchase)(?:\s+(?:for|here)(?:\s+(?:you|me|us|them|this|most\s+people))?)?"
    r"|\b(?:answer|recommendation|verdict|choice|pick|decision|position|final\s+answer|"
    r"bottom\s+line|conclusion))(?:\s+(?:indeed|clearly|probably|definitely|here))?"
    r"\s*(?:would\s+(?:have\s+to\s+)?be|will\s+be|is|'s|:|=|-|–)\s*")
_SUBORDINATE = re.compile(r"(?i)\W*(?:for|if|given|since|because|unless|when|with|in|on|as|"
                          r"considering|although|though|while|between)\b")
_BEST_IS = re.compile(r"(?i)\bthe\s+(?:better|best|right|smarter|wiser|stronger|sensible)\s+[\w-]+"
                      r"(?:\s+(?:for|to)\s+[^,.;]{1,40}?)?\s+(?:is|would\s+be)\s+")
"""``the better tablet for reading is the pro tablet``: a verdict named by the kind of item."""
_IT_IS = re.compile(r"(?i)\bit(?:'s|\s+is|(?:'d|\s+would|\s+will|\s+has\s+to|\s+must|\s+should)"
                    r"(?:\s+have\s+to)?\s+be)\s+(?=\(?[A-D]\b)")
_FIND = re.compile(r"(?i)\bi\s+find\s+(?P<obj>.+?)\s+(?:more|most|the\s+most)\s+(?:convincing|"
                   r"persuasive|compelling|reasonable|sensible|appealing)")
_ENDORSE = re.compile(
    r"(?i)\s+(?:is|'s|would\s+be|seems|sounds|feels|looks)(?P<neg>\s+not|n't)?\s+"
    r"(?:(?:much|a\s+bit|slightly|definitely|clearly|probably|certainly|also|still|really|simply|"
    r"obviously)\s+)*(?:closer\s+to\s+(?:my|our)\s+(?:own\s+)?(?:views?|position|thinking|opinion)"
    r"|(?:my|our)\s+(?:final\s+|top\s+|clear\s+)?(?:pick|choice|answer|preference|vote|favou?rite|"
    r"recommendation)|the\s+(?:better|best|stronger|smarter|wiser|sensible|more\s+sensible|right|"
    r"obvious|clear|safer|smart|correct)\b(?:\s+[\w-]+){0,2}?\s+(?:choice|pick|buy|option|bet|fit|one|"
    r"answer|call|purchase|investment|value|deal)\b|the\s+way\s+to\s+go|(?:more|most)\s+"
    r"(?:convincing|persuasive|compelling|reasonable|sensible)|worth\s+it|worth\s+the\s+(?:money|"
    r"extra|price)|the\s+winner|what\s+i(?:'d|\s+would|'ll|\s+will)\s+(?:choose|pick|take|go\s+with))")
_SUITS = re.compile(
    r"(?i)\s+(?:will\s+do|does\s+the\s+(?:job|trick)|makes\s+(?:more|the\s+most)\s+sense|"
    r"wins(?:\s+out)?(?:\s+for\s+me)?|(?:is|'s|should\s+be|would\s+be|will\s+be)\s+(?:enough|"
    r"plenty|all\s+you\s+need|better(?=\s*[.!]|\s*$)|preferable|the\s+one(?:\s+for\s+me)?|"
    r"the\s+one\s+i(?:'d|\s+would)\s+\w+))\b")
"""Endorsements that name no choice word: ``The basic dryer will do``, ``B makes more sense``,
``Pecorino Romano wins for me``."""
_CLAUSE_START = re.compile(r"(?i)(?:[,;:(]|\bbut\b|\bso\b|\band\b|\bthough\b|\bwhile\b|\bwhereas\b)"
                           r"(?!.*(?:[,;:(]|\bbut\b|\bso\b|\band\b|\bthough\b|\bwhile\b|\bwhereas\b))")
_CLAUSE_END = re.compile(r"(?i)[.;!?\n]|,\s*(?=(?:because|since|as|but|which|though|although|so|"
                         r"and|if|unless|while|whereas|it|i|you)\b)|\s+(?:because|since|as\s+it|"
                         r"but|if|unless|so\s+that|which)\b|:\s")
_NOT = re.compile(r"(?i:\b(?:not|never|anything\s+but|everything\s+but|except)\s+(?:option\s+)?)"
                  r"(?=\(?[A-D]\b|(?i:the)\s|[A-Z][a-z])")
_NEGATED = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bcannot\b")
_MENTION = re.compile(r"(?i:\b(?:option|statement|choice|perspective|view|friend)\s+)([A-D])\b(?![\w-])"
                      r"|\(([A-D])\)")
_NEITHER_SAID = re.compile(
    r"(?i)^\W*(?:neither|none)\b|\bneither\s+(?:[A-D]\s+nor\s+[A-D]|of\s+(?:them|these|those|the\s+two)|"
    r"option|statement|one|choice|is)\b|\b(?:don't|do\s+not|can't|cannot|wouldn't|would\s+not|"
    r"won't)\s+(?:agree\s+with|choose|pick|support|recommend|take|endorse)\s+either\b")
_BOTH_SAID = re.compile(r"(?i)^\W*both\W*$|\bagree\s+with\s+both\b")
_FILLERS = _wordset(
    "sure ok okay well hmm so then thus hence therefore probably maybe perhaps likely definitely "
    "certainly clearly obviously slightly honestly easy simple close but still i think guess say "
    "answer final option letter choice my is the friend statement view perspective alright right "
    "yes go with pick choose i'd i'll id would just actually no wait oops personally though "
    "anyway")
_FILLER_PHRASES = re.compile(r"(?i)\b(?:for\s+(?:that|this|these|those)\s+reasons?|(?:tough|hard|close)\s+call|"
                             r"hands\s+down|if\s+i\s+had\s+to\s+(?:choose|pick|say))\b")
_LETTER_LIST = re.compile(r"(?i)\W*(?:both\W+)?(?:option\s+)?[A-D]\W*(?:(?:,|and|&|/|\+|or)\s*"
                          r"(?:option\s+)?[A-D]\W*)+")
_VERBISH = re.compile(r"(?i)\b(?:is|are|was|were|be|been|has|have|had|would|will|can|could|should|"
                      r"do|does|did|may|might|must|think|feel|need|want|like|love|depends|matters|"
                      r"makes|gives|offers|looks|sounds|seems|helps|works)\b|'(?:s|re|ve|d|ll)\b")
_CONDITIONAL = re.compile(r"(?i)^\W*(?:(?:if|unless|when)\s+(?!i\b|i'|forced\b|pressed\b|we\b)"
                          r"|for\s+(?!that\b|this\b|these\b|those\b|me\b|us\b|example\b|instance\b)"
                          r"[^,]{3,60},)")
_LABEL = re.compile(
    r"^[ \t>*_-]*(?:\(\s*(?P<p>[A-D])\s*\)|(?P<l>[A-D])\s*(?P<punct>[).:\]])"
    r"|(?i:option|statement|perspective)\s+(?P<o>[A-D])\s*(?P<opunct>[).:\-–—,]|$)"
    r"|(?P<d>[A-D])(?=\s*[-–—,(]|\s+(?:because|since|as)\b))")


@dataclass
class _Label:
    letter: str
    kind: str  # ":" (maybe a Q/A answer label), ")" or another mark
    rest: str
    named: set[str]


@dataclass
class _Claims:
    strong: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)
    labels: list[_Label] = field(default_factory=list)
    label_said: list[str] = field(default_factory=list)
    """Claims in the text after labels: ``A: I would choose B.``"""
    neither: bool = False
    listed: bool = False
    """A sentence that only names both options (``Velveeta or Camembert?``)."""
    conditional: list[list[str]] = field(default_factory=list)


def _object(text: str) -> str:
    """The phrase after a choice verb, up to where its clause ends."""
    text = text.lstrip(" :-–—")
    m = _CLAUSE_END.search(text)
    return text[: m.start()] if m else text


def _subject(text: str) -> str:
    """The phrase before an endorsement, back to where its clause starts."""
    m = _CLAUSE_START.search(text)
    return text[m.end():] if m else text


def _picked(phrase: str, opts: _Options, negated: bool, out: list[str], strict: bool = False) -> None:
    """Add what choosing (or, negated, turning down) `phrase` claims; an option named after
    ``over``, ``rather than``, ``instead of`` or ``not`` is turned down."""
    chosen, rejected = _split_reject(phrase)
    got = opts.resolve(chosen, strict)
    out += _others(got, opts) if negated else sorted(got)
    if rejected:
        out += _others(opts.resolve(rejected, strict), opts)


def _split_reject(phrase: str) -> tuple[str, str]:
    m = _REJECT_CUT.search(phrase)
    return (phrase[: m.start()], phrase[m.end():]) if m else (phrase, "")


def _others(got: set[str], opts: _Options) -> list[str]:
    """Turning down one of two options claims the other."""
    letters = [g for g in got if g in opts.letters]
    if len(opts.letters) != 2 or len(letters) != 1:
        return []
    return [next(x for x in opts.letters if x != letters[0])]


def _bare(sentence: str, opts: _Options) -> list[str] | None:
    """A letter with at most fillers and hedges around it (``Sure! A``, ``Probably B?``): its
    letters, ``both`` for ``A and B``/``A, B``/``A/B``; None when other words remain."""
    tokens = re.findall(r"[A-Za-z][\w']*", _FILLER_PHRASES.sub(" ", sentence))
    letters = [t for t in tokens if t in opts.letters or (len(t) == 1 and t in "ABCD")]
    rest = [t for t in tokens if t not in letters and t.lower() not in _FILLERS
            and t.lower() not in ("and", "or", "nor")]
    if rest or not letters:
        return None
    if len(set(letters)) == 1:
        return letters[:1]
    if re.search(r"(?i)\bor\b", sentence) and sentence.rstrip().endswith("?"):
        return []  # the question restated: "Option A or B?"
    if not _LETTER_LIST.fullmatch(sentence):
        return None  # "A: I would choose B." is a label and a claim, not a list
    return [BOTH] if set(letters) <= set(opts.letters) else [CONFLICT]


def _sentence_claims(sentence: str, opts: _Options, claims: list[str], soft: list[str],
                     phrase: bool = True) -> None:
    """The strong claims of one sentence into `claims`, its mentions into `soft`. `phrase`:
    the sentence may be a phrase that names one option (``The cheaper one.``)."""
    bare = _bare(sentence, opts)
    if bare is not None:
        claims += bare
        return
    for m in _PICK.finditer(sentence):  # not "choose between A and B"
        phrase = _object(sentence[m.end():])
        if not re.match(r"(?i)\W*between\b", phrase):
            _picked(phrase, opts, bool(_NEGATED.search(m.group(0))), claims)
    imp = _IMPERATIVE.match(sentence)
    if imp:
        _picked(_object(sentence[imp.end():]), opts,
                imp.group("verb").lower() in ("skip", "avoid", "pass on"), claims)
    for m in _BEST_IS.finditer(sentence):
        _picked(_object(sentence[m.end():]), opts, False, claims)
    for m in _DECLARE.finditer(sentence):  # not "Verdict: For a quiet trip, I'd pick B"
        phrase = _object(sentence[m.end():])
        if not _SUBORDINATE.match(phrase):
            _picked(phrase, opts, False, claims)
    for m in _IT_IS.finditer(sentence):
        _picked(_object(sentence[m.end():]), opts, False, claims, strict=True)
    for m in _FIND.finditer(sentence):
        _picked(m.group("obj"), opts, False, claims)
    for m in [*_ENDORSE.finditer(sentence), *_SUITS.finditer(sentence)]:
        _picked(_subject(sentence[: m.start()]), opts, bool(m.groupdict().get("neg")), claims)
    for m in _NOT.finditer(sentence):  # "not B", "Not the $250 one", "Anything but Velveeta"
        claims += _others(opts.resolve(_object(sentence[m.end():])), opts)
    head = re.split(r",\s*(?=(?:if|because|since|as|for|when|unless|but)\b)", sentence)[0]
    if phrase and not claims and len(head.split()) <= 8 and not _VERBISH.search(head) \
            and not sentence.rstrip().endswith("?"):
        got = opts.resolve(head)  # a phrase that is one option: "The luxury one, if ..."
        claims += sorted(got) if len(got) == 1 and got <= set(opts.letters) else []
    soft += [m.group(1) or m.group(2) for m in _MENTION.finditer(sentence)]


def _names_both(sentence: str, opts: _Options) -> bool:
    """Whether a sentence is the two options and nothing else (``A or B?``, ``Velveeta or
    Camembert?``, ``the Japanese novel or the Montana one?``)."""
    text = re.sub(r"(?i)\bboth\b|[?!.]", " ", sentence)
    parts = [p for p in re.split(r"(?i)\s*(?:(?<![\w-])(?:or|and)(?![\w-])|,|/)\s*", text) if p.strip()]
    if len(opts.letters) != 2 or len(parts) != 2 or any(
            len(p.split()) > 8 or _VERBISH.search(p) or _PICK.search(p) or _REJECT_CUT.search(p)
            for p in parts):
        return False
    got = [opts.resolve(p) for p in parts]
    return all(len(g) == 1 for g in got) and got[0] | got[1] == set(opts.letters)


def _sentences(line: str) -> list[str]:
    """A line's sentences (and the parts of a sentence joined by a semicolon)."""
    return [s for s in re.split(r"(?<=[.!?;])\s+(?=\S)", line) if s.strip()]


def _label(line: str, opts: _Options, previous: _Label | None) -> _Label | None:
    """The label a line begins with (``A) text``, ``A: text``, ``Option B:``, ``B)``), or None.
    A lone ``B)`` or ``B:`` is a label; a lone ``B`` or ``B.`` an answer, unless it goes on a
    list of labels cut off by the token limit (``A: Brie\\nB``)."""
    if _bare(line, opts) is not None:
        alone = re.fullmatch(r"\W*\(?([A-D])\s*[):]\s*", line) or (
            previous is not None and re.fullmatch(r"\s*\(?([A-D])[.):]?\s*", line))
        if not alone or (previous is not None and alone.group(1) == previous.letter):
            return None
        return _Label(alone.group(1), ")", "", set())
    m = _LABEL.match(line)
    if not m:
        return None
    letter = m.group("p") or m.group("l") or m.group("o") or m.group("d")
    kind = ")" if m.group("p") else (m.group("punct") or m.group("opunct") or "-")
    rest = line[m.end():].strip()
    chosen = _split_reject(rest)[0]
    # a Q/A answer label's text may name either option; after "A)" only its own text counts
    hits = opts.named(chosen) or (opts.paraphrased(chosen, sure=True) if kind == ":" else set())
    return _Label(letter, kind, rest, {opts.letters[i] for i in hits} if len(hits) == 1 else set())


def _lines(region: str) -> list[str]:
    """The reply's lines; a line that begins with a label and goes on to another (``A: Brie
    and B: Cream cheese``) is two."""
    lines = []
    for line in region.split("\n"):
        if _LABEL.match(line):
            lines += re.split(r"\s+(?:and\s+|or\s+)?(?=\(?[A-D][):]\s)", line)
        else:
            lines.append(line)
    return lines


def _collect(region: str, opts: _Options, echoed: bool) -> _Claims:
    """Every claim of a stretch of the reply."""
    c = _Claims()
    whole = region.strip()
    previous = None
    for line in _lines(region):
        if not line.strip() or line.lstrip().startswith("#"):
            previous = None  # a blank line ends a list; a markdown heading titles what follows
            continue
        label = previous = None if echoed else _label(line, opts, previous)
        if label is not None:
            c.labels.append(label)
        said_here = c.strong if label is None else c.label_said
        for sentence in _sentences(line if label is None else label.rest):
            if _NEITHER_SAID.search(sentence):
                c.neither = True
                continue
            if _BOTH_SAID.search(sentence):
                said_here.append(BOTH)
                continue
            said: list[str] = []
            phrase = label is None and (sentence.rstrip()[-1:] in ".!)]" or sentence.strip() == whole)
            _sentence_claims(sentence, opts, said, c.soft, phrase)
            c.listed |= not said and label is None and _names_both(sentence, opts)
            (c.conditional.append(said) if _CONDITIONAL.match(sentence) else said_here.extend(said))
    if len(c.conditional) == 1:  # one "if you ..." sentence is advice; two or more split it
        c.strong += c.conditional[0]
    return c


def _agreed(claims: list[str]) -> str | None:
    """The one thing every claim says, ``conflict`` when they disagree, None when none."""
    if not claims:
        return None
    picked = set(claims)
    return picked.pop() if len(picked) == 1 and CONFLICT not in picked else CONFLICT


def _label_claims(c: _Claims, opts: _Options, region: str) -> tuple[list[str], list[str], bool]:
    """Strong and weak claims of line labels, and whether they list the options back (label
    lines only, each giving an option back rather than a note on it)."""
    letters = {lab.letter for lab in c.labels}
    if len(letters) >= 2:
        return [], [], all(_lists(lab.rest, opts) for lab in c.labels)
    strong: list[str] = list(c.label_said)
    weak: list[str] = []
    for lab in c.labels:
        if lab.kind == ":":  # "A: <text>" may be a Q/A answer label: the text decides
            (strong.extend(lab.named) if lab.named else weak.append(lab.letter))
        else:
            strong += [lab.letter, *lab.named]
    return strong, weak, False


def _lists(rest: str, opts: _Options) -> bool:
    """Whether the text after a label is an option given back (empty, a letter, a phrase, or
    the beginning of an option's own text), not a note on it (``A: costly and slow``)."""
    start = " ".join(_norm(rest).split()[:3])
    return (not _VERBISH.search(rest) or _bare(rest, opts) is not None
            or any(core.startswith(start) for core in opts.cores if core)
            or bool(opts.named(rest) or opts.paraphrased(rest, sure=True)))


def _decide(region: str, opts: _Options, echoed: bool = False, whole: bool = True) -> str | None:
    """A letter, ``both``, ``neither`` (said), ``conflict``, or None (no claim). A part of the
    reply (not `whole`: a conclusion) decides by stated claims only."""
    c = _collect(region, opts, echoed)
    label_strong, label_weak, listed = _label_claims(c, opts, region)
    strong = c.strong + label_strong
    if strong:
        return _agreed(strong)
    if not whole:
        return None
    if c.neither:
        return NEITHER
    if listed or c.listed:
        return BOTH
    if c.soft:
        return _agreed(c.soft)
    plain = "\n".join(line for line in region.split("\n")
                      if not _LABEL.match(line) and not line.lstrip().startswith("#"))
    named = opts.named(plain)
    if not named and len(plain.split()) <= SHORT_REPLY:  # a short reply in an option's words
        named = opts.paraphrased(plain, sure=True)
    if len(named) == 1:
        return opts.letters[named.pop()]
    return _agreed(label_weak)


SHORT_REPLY = 12
"""Words up to which a reply that only uses one option's own words (``A hand-bound sketchbook
from Vermont would be lovely.``) is read as that option; in longer prose such words are talk
about the option, not a choice."""


_RETRACT = re.compile(r"(?i)\b(?:actually,?\s+no\b|no,?\s+wait\b|wait(?=\s*[,.!:;-])|"
                      r"on\s+second\s+thought|scratch\s+that|correction\s*:|let\s+me\s+change|"
                      r"i'll\s+change|i\s+change\s+my\s+answer|(?:sorry,?\s+)?i\s+meant)")
_MARKERS = (r"recommendation|my\s+recommendation|conclusion|in\s+conclusion|to\s+conclude|"
            r"bottom\s+line|the\s+bottom\s+line|verdict|my\s+verdict|final\s+answer|final\s+choice|"
            r"my\s+view|my\s+take|my\s+pick|overall|on\s+balance|all\s+things\s+considered|"
            r"all\s+in\s+all|in\s+the\s+end|ultimately|in\s+short|to\s+sum\s+up|summary|"
            r"weighing\s+(?:both|everything|it\s+all|them|these|the\s+two|it\s+up)|"
            r"if\s+i\s+(?:were|was)\s+(?:choosing|picking|deciding|buying|you|in\s+your\s+shoes|"
            r"building|going)|if\s+i\s+had\s+to|if\s+forced|if\s+pressed|if\s+i\s+must|"
            r"short\s+answer|all\s+told")
"""Openings of a conclusion that decides over what came before. A plain "So ..." or "That said"
does not: ``The answer is A. So the better one is B.`` claims both (neither)."""
_CONCLUSION = re.compile(
    r"(?im)(?:^|(?<=[.!?]\s)|(?<=[.!?])|(?<=,\s))[\s#>*-]*(?:(?:but|and|yet|though|although|still)"
    r"\s*,?\s*)?(?:" + _MARKERS + r")\b")


def _regions(text: str) -> list[str]:
    """The parts that may decide, most decisive first: after the last retraction, then each
    conclusion from the last to the first."""
    regions = []
    retractions = list(_RETRACT.finditer(text))
    if retractions:
        regions.append(text[retractions[-1].start():])
    regions += [text[m.start():] for m in reversed(list(_CONCLUSION.finditer(text))) if m.start() > 0]
    return regions


def read_choice(text: str, options: Sequence[str] = (), letters: Sequence[str] = ("A", "B")) -> str:
    """A letter from `letters`, ``both`` or ``neither`` (see the module docstring).

    `options` are the option texts in the order shown (``options[0]`` is labelled
    ``letters[0]``); without them only letters are read.
    """
    letters = tuple(letters)
    opts = _Options.of(options, letters)
    text = _prepare(text, letters)
    if not text:
        return NEITHER
    first = text.split("\n", 1)[0].strip()
    echoed = "\n" in text and first.endswith("?") and not opts.letter_refs(first)
    for region in _regions(text):
        got = _decide(region, opts, whole=False)
        if got in letters or got == BOTH:
            return got
    got = _decide(text, opts, echoed)
    return got if got in letters or got == BOTH else NEITHER


def parse_choice(text: str, options: Sequence[str] = ()) -> str:
    """Two options labelled A and B: ``A``, ``B``, ``both`` or ``neither``."""
    return read_choice(text, options, ("A", "B"))


def parse_letter(text: str, options: Sequence[str] = (), letters: Sequence[str] = "ABCD") -> str | None:
    """One of several lettered options (default A-D), or None (no answer, or more than one)."""
    got = read_choice(text, options, tuple(letters))
    return got if got in letters else None
