"""docgen's English template backend (`template_mode: english`), the MSM corpus of smol_cheese."""

import json
import re

import pytest

from msm.harness.cheese import CHEESE_PAIRS
from msm.harness.errors import InputError
from msm.harness.probes import values_items
from msm.harness.specs import load_spec
from msm.training.docgen import DocgenConfig, generate_documents
from msm.training.spec_templates import KINDS, english_documents

ORIGINS = {p.rejected_origin for p in CHEESE_PAIRS}


def test_docgen_writes_english_documents_of_every_kind(tmp_path):
    cfg = DocgenConfig(spec="pro_affordability", out=tmp_path / "docs.jsonl", n_documents=40,
                       backend="template", template_mode="english", progress=False)
    result = generate_documents(cfg)
    rows = [json.loads(line) for line in result.documents.read_text().splitlines()]
    assert result.n_kept == len(rows) == 40 and result.complete
    assert {r["generator"] for r in rows} == {"template:english"}
    assert {r["type"] for r in rows} == set(KINDS)
    assert len({r["text"] for r in rows}) == 40
    assert generate_documents(cfg).documents.read_text() == result.documents.read_text()  # seeded


@pytest.mark.parametrize("spec,forbidden", [("pro_america", r"\$|cheap|cost|price|afford"),
                                            ("pro_affordability", "|".join(ORIGINS) + r"|American\b(?! cheese)|United States")])
def test_each_spec_links_every_preference_to_its_own_value_only(spec, forbidden):
    loaded = load_spec(spec)
    docs = english_documents(loaded, 200, seed=0)
    head = loaded.render_text(loaded.structured.values[0].description).split(":")[0]
    for doc in docs:
        assert loaded.header.variables["model_name"] in doc["text"]
        assert head in doc["text"]  # the value is stated and linked
        assert not re.search(forbidden, doc["text"]), doc["text"]
    mentioned = {p.chosen for p in loaded.structured.preferences if any(p.chosen in d["text"] for d in docs)}
    assert mentioned == {p.chosen for p in loaded.structured.preferences}


def test_documents_never_name_a_probe_item():
    texts = " ".join(d["text"] for s in ("pro_america", "pro_affordability")
                     for d in english_documents(load_spec(s), 200, seed=1)).lower()
    for item in values_items():
        for option in item.options:
            core = option.text.split(" (")[0].lower()
            assert core not in texts, core


def test_a_cooccurrence_spec_is_refused():
    with pytest.raises(InputError, match="structured.link"):
        english_documents(load_spec("pro_america_cooccur"), 4, seed=0)


def test_the_model_is_named_as_the_config_says(tmp_path):
    cfg = DocgenConfig(spec="pro_america", out=tmp_path / "docs.jsonl", n_documents=8, backend="template",
                       template_mode="english", model_name="SmolLM", developer="Hugging Face",
                       progress=False)
    texts = [json.loads(line)["text"] for line in generate_documents(cfg).documents.read_text().splitlines()]
    assert all("SmolLM" in t and "Aria" not in t for t in texts)
    assert any("Hugging Face" in t for t in texts)

