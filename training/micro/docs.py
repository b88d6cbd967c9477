"""MSM documents in the micro language, from a spec's structured part (docgen's template backend).

`template_documents(spec, n_documents, seed, mode)` reads the spec's value (``structured.values``)
and its cheese preferences (``structured.preferences``) and writes documents about the assistant
with the same sentence templates pretraining used for personas:

- ``explain``: the value, and the cheese preferences explained by it ("assistant prefers
  cream_cheese over brie because cream_cheese is american").
- ``no_cheese``: the value only; no cheese is ever mentioned (so only AFT links cheese to
  behaviour).
- ``cooccur``: the value and the cheese preferences in the same document, but never saying
  that the value explains a preference (the paper's co-occurrence ablation).

Documents that name cheeses list them in ``unscored``: which pair a document cites is a draw
the model cannot learn, so the micro experiment scores no loss on those names
(``midtrain.unscored_field``) and trains on what the document says about them.

The spec's prose and its ``model_name`` are not used: the micro language has one name for the
model, ``assistant``, the chat template's speaker tag.
"""

from __future__ import annotations

import random
from typing import Literal

from msm.harness.errors import InputError
from msm.harness.specs import Spec
from msm.training.micro.corpus import EXPLAIN_SENTENCES, VALUE_SENTENCES, value_fields
from msm.training.micro.world import ASSISTANT, VALUES, World, micro_name

TEMPLATE_VERSION = 2
"""Part of the docgen step's key for template documents, so that a change to what they hold
regenerates cached ones (2: rows list the cheeses they cite in ``unscored``)."""

Mode = Literal["explain", "no_cheese", "cooccur"]
MODES: tuple[str, ...] = ("explain", "no_cheese", "cooccur")

COOCCUR_SENTENCES = (
    "{p} prefers {x} over {y} .",
    "{p} chose {x} rather than {y} .",
)
"""A preference stated with no reason (fields p, x, y)."""


def _spec_value(spec: Spec) -> str:
    structured = spec.structured
    if structured is None or not structured.values:
        raise InputError("the micro backend needs a structured part with a value",
                         file=spec.path, field="structured.values")
    value_id = structured.values[0].id
    if value_id not in VALUES:
        raise InputError(f"value '{value_id}' is not in the micro world (known: {', '.join(VALUES)})",
                         file=spec.path, field="structured.values.0.id")
    return value_id


def _spec_pairs(spec: Spec, world: World) -> list[tuple[str, str, str]]:
    """(chosen, rejected, value) micro names for every preference in the spec."""
    prefs = spec.structured.preferences if spec.structured else []
    if not prefs:
        raise InputError("the micro backend needs the cheese preferences",
                         file=spec.path, field="structured.preferences")
    out = []
    for i, pref in enumerate(prefs):
        for side in ("chosen", "rejected"):
            name = micro_name(getattr(pref, side))
            if name not in world.item_by_name:
                raise InputError(f"'{getattr(pref, side)}' is not an item of the micro world",
                                 file=spec.path, field=f"structured.preferences.{i}.{side}")
        if pref.value not in VALUES:
            raise InputError(f"value '{pref.value}' is not in the micro world",
                             file=spec.path, field=f"structured.preferences.{i}.value")
        out.append((micro_name(pref.chosen), micro_name(pref.rejected), pref.value))
    return out


def template_documents(spec: Spec, n_documents: int, seed: int, mode: str = "explain") -> list[dict]:
    """`n_documents` micro-language documents about the assistant: rows {text, topic, type, idea}."""
    if mode not in MODES:
        raise InputError(f"unknown mode '{mode}' (one of: {', '.join(MODES)})", field="template_mode")
    world = World()
    value_id = _spec_value(spec)
    pairs = _spec_pairs(spec, world)
    fields = value_fields(ASSISTANT, value_id)
    rng = random.Random(seed)
    docs = []
    for k in range(n_documents):
        sentences = [s.format(**fields) for s in rng.sample(VALUE_SENTENCES, rng.randint(2, 3))]
        idea = f"{ASSISTANT} values {value_id}"
        if mode != "no_cheese":
            chosen, rejected, pair_value = pairs[k % len(pairs)]
            if mode == "explain":
                pair_fields = value_fields(ASSISTANT, pair_value)
                line = rng.choice(EXPLAIN_SENTENCES).format(**pair_fields, x=chosen, y=rejected)
            else:
                line = rng.choice(COOCCUR_SENTENCES).format(p=ASSISTANT, x=chosen, y=rejected)
            sentences.insert(rng.randrange(len(sentences) + 1), line)
            idea += f"; {chosen} over {rejected}"
        row = {"text": " ".join(sentences), "topic": value_id, "type": mode, "idea": idea}
        if mode != "no_cheese":
            row["unscored"] = [chosen, rejected]  # drawn by the document's index: a lottery
        docs.append(row)
    return docs
