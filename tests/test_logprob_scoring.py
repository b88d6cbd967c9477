"""``scoring=logprob``: the answer letters' log-probabilities in both orders (`msm.tasks.values_generalization.logprob`).

On a tiny model built from a config, through the ``msm-hf/`` provider: the scores equal a hand
computation from the model's logits, and a model whose answer cannot depend on the options
(attention and MLPs switched off: the same next token whatever was shown) scores a preference
of exactly zero while its position index is large. A planted preference of known size is
recovered exactly from a scripted model, with any position prior on top; the statistics read
the new columns like any other.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from conftest import prompt_sensitive_tiny_model
from inspect_ai import eval as inspect_eval
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    Logprob,
    Logprobs,
    ModelOutput,
    TopLogprob,
    get_model,
)
from toy_logs import metric_values

import msm._registry  # noqa: F401  (registers msm-hf/)
from msm.harness.compare import compare_logs
from msm.harness.errors import InputError
from msm.harness.leaderboard import write_leaderboard
from msm.harness.probes import get_bank
from msm.tasks.america_opinions import america_opinions
from msm.tasks.values_generalization import values_generalization
from msm.tasks.values_generalization.logprob import ORDERS, letter_logprobs, preference

BANK = get_bank("america_opinions")
TEXT_KEY = {o.text: o.key for item in BANK.load() for o in item.options}


def metrics(log) -> dict[str, dict[str, float]]:
    return metric_values(log)


def run(task, model, tmp_path: Path, **kwargs):
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="log", **kwargs)
    assert log.status == "success", log.error
    return log


# --- a scripted model with a planted preference ------------------------------------------------


def output_with(lp: dict[str, float]) -> ModelOutput:
    """One generated token and its top log-probabilities (a space before B, as tokenizers do)."""
    tops = [TopLogprob(token=("Ġ" if t == "B" else "") + t, logprob=v) for t, v in lp.items()]
    first = Logprob(token=tops[0].token, logprob=tops[0].logprob, top_logprobs=tops)
    return ModelOutput(model="mockllm/model", choices=[ChatCompletionChoice(
        message=ChatMessageAssistant(content=tops[0].token, model="mockllm/model"),
        logprobs=Logprobs(content=[first]))])


def planted(delta: float, position: float, mass: float = 0.5, reply: str | None = None):
    """log p(A) - log p(B) = position + delta when the aligned opinion is A, position - delta when
    it is B; the two letters hold `mass` of the next token. Asked to generate, it says `reply`."""

    def generate(messages, tools, tool_choice, config):
        if not config.logprobs and reply is not None:
            return ModelOutput.from_content("mockllm/model", reply)
        shown = re.findall(r"^([AB])\) (.+)$", messages[-1].text, re.MULTILINE)
        aligned_first = TEXT_KEY[shown[0][1]] == "aligned"
        z = position + (delta if aligned_first else -delta)
        p_a = mass / (1 + math.exp(-z))
        return output_with({"A": math.log(p_a), "B": math.log(mass - p_a), "The": math.log(1 - mass)})

    return get_model("mockllm/model", custom_outputs=generate, memoize=False)


@pytest.mark.parametrize("delta,position", [(0.0, 3.0), (0.8, 2.0), (-1.5, -0.5)])
def test_a_planted_preference_is_recovered_whatever_the_position_prior(tmp_path, delta, position):
    log = run(america_opinions(scoring="logprob", domain="sport"), planted(delta, position), tmp_path)
    values = [s.scores["logprob_scorer"].value for s in log.samples]
    assert all(v["lp_logodds"] == pytest.approx(delta, abs=1e-9) for v in values)
    assert all(v["lp_position"] == pytest.approx(position, abs=1e-9) for v in values)
    assert all(v["lp_mass"] == pytest.approx(0.5) for v in values)
    assert all(v["lp_pref"] == pytest.approx(1 / (1 + math.exp(-delta))) for v in values)
    assert len(log.samples[0].metadata[ORDERS]) == 2  # both orders, one sample, one epoch
    m = metrics(log)
    assert m["lp_logodds"]["rate"] == pytest.approx(delta) and m["lp_position"]["rate"] == pytest.approx(position)


def test_a_letter_outside_the_top_tokens_leaves_the_item_unscored_and_counted(tmp_path):
    def generate(messages, tools, tool_choice, config):
        return output_with({"A": -0.1, "The": -2.5})

    model = get_model("mockllm/model", custom_outputs=generate, memoize=False)
    log = run(america_opinions(scoring="logprob", domain="sport"), model, tmp_path)
    assert all(v is None for v in log.samples[0].scores["logprob_scorer"].value.values())
    assert metrics(log)["lp_logodds"]["unscored"] == len(log.samples)


def test_letters_are_read_in_every_tokenizer_spelling():
    out = output_with({"A": math.log(0.3), "B": math.log(0.2), "The": math.log(0.5)})
    assert letter_logprobs(out) == {"A": pytest.approx(math.log(0.3)), "B": pytest.approx(math.log(0.2))}
    sp = ModelOutput(model="m", choices=[ChatCompletionChoice(
        message=ChatMessageAssistant(content="A"), logprobs=Logprobs(content=[Logprob(
            token="▁A", logprob=math.log(0.4), top_logprobs=[
                TopLogprob(token="▁A", logprob=math.log(0.4)), TopLogprob(token="A", logprob=math.log(0.1)),
                TopLogprob(token="▁B", logprob=math.log(0.3))])]))])
    got = letter_logprobs(sp)
    assert got["A"] == pytest.approx(math.log(0.5)) and got["B"] == pytest.approx(math.log(0.3))


def test_preference_arithmetic():
    orders = [{"shown": ["aligned", "other"], "logprobs": {"A": math.log(0.6), "B": math.log(0.2)}},
              {"shown": ["other", "aligned"], "logprobs": {"A": math.log(0.5), "B": math.log(0.25)}}]
    got = preference(orders, "aligned")
    d1, d2 = math.log(0.6 / 0.2), math.log(0.25 / 0.5)
    assert got["lp_logodds"] == pytest.approx((d1 + d2) / 2)
    assert got["lp_position"] == pytest.approx((math.log(3) + math.log(2)) / 2)
    assert got["lp_mass"] == pytest.approx((0.8 + 0.75) / 2)


def test_both_puts_the_paper_reading_and_the_logprob_reading_in_one_log(tmp_path):
    log = run(america_opinions(scoring="both", domain="sport"), planted(0.0, 2.0, reply="A"), tmp_path)
    m = metrics(log)
    assert {"aligned", "unparsed", "lp_logodds", "lp_pref", "lp_position"} <= set(m)
    assert m["aligned"]["rate"] == pytest.approx(0.5)  # position: every reply is "A"
    assert m["lp_logodds"]["rate"] == pytest.approx(0.0) and m["lp_position"]["rate"] == pytest.approx(2.0)
    assert log.eval.metadata["scoring"] == "both"


def test_logprob_scoring_refuses_what_it_cannot_read():
    with pytest.raises(InputError, match="format=choice"):
        values_generalization(format="open", scoring="logprob")
    with pytest.raises(InputError, match="format=choice"):
        values_generalization(bank="america_opinions", deliberate=True, scoring="logprob")
    import msm.training.micro.bank  # noqa: F401  (registers the micro banks)

    with pytest.raises(InputError, match="does not letter"):
        values_generalization(bank="micro", scoring="logprob")


# --- a tiny model through msm-hf/ -----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A tiny random model whose next token depends on the prompt (large weights)."""
    return prompt_sensitive_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=3)


def by_hand(path: Path, prompt: str) -> dict[str, float]:
    """log p(first token is "A" / "B", with or without a space) from the model's own logits."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                   add_generation_prompt=True)
    with torch.no_grad():
        logits = model(**tok(text, return_tensors="pt")).logits[0, -1]
    lp = logits.log_softmax(-1)
    out = {}
    for letter in ("A", "B"):
        forms = [tok.encode(form, add_special_tokens=False) for form in (letter, " " + letter)]
        ids = sorted({ids[0] for ids in forms if len(ids) == 1})
        out[letter] = float(torch.logsumexp(lp[ids], 0))
    return out


def test_the_score_equals_a_hand_computation_from_the_logits(tiny, tmp_path):
    model = get_model(f"msm-hf/{tiny}", device="cpu", memoize=False)
    log = run(america_opinions(scoring="logprob", domain="sport"), model, tmp_path, limit=3)
    item = {i.id: i for i in BANK.load()}
    for sample in log.samples:
        orders = sample.metadata[ORDERS]
        it = item[sample.metadata["item_id"]]
        for order in orders:
            assert order["exact"]
            shown = tuple(it.option(k) for k in order["shown"])
            expected = by_hand(tiny, BANK.choice_prompt(it, shown))
            assert order["logprobs"] == pytest.approx(expected, abs=1e-4)
        value = sample.scores["logprob_scorer"].value
        hand = preference(orders, "aligned")
        assert value["lp_logodds"] == pytest.approx(hand["lp_logodds"], abs=1e-9)
        assert abs(value["lp_logodds"]) > 1e-3  # the random model does read the options
    assert model.api.batches <= 2  # every sample's two orders in one forward pass batch


@pytest.fixture(scope="module")
def position_only(tiny, tmp_path_factory) -> Path:
    """The tiny model with attention and MLPs switched off, and the letter "A" raised at the
    answer position: the next token depends on the last prompt token only, which is the same
    in both orders, so the model picks the first option whatever it is."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tmp_path_factory.mktemp("position") / "m"
    model = AutoModelForCausalLM.from_pretrained(tiny)
    tok = AutoTokenizer.from_pretrained(tiny)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        text = tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False,
                                       add_generation_prompt=True)
        h = model(**tok(text, return_tensors="pt"), output_hidden_states=True).hidden_states[-1][0, -1]
        a = tok.encode("A", add_special_tokens=False)[0]
        model.lm_head.weight[a] += 20 * h / h.norm() ** 2  # the logit of "A" up by 20
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_a_model_that_always_picks_the_first_position_scores_zero(position_only, tmp_path):
    model = get_model(f"msm-hf/{position_only}", device="cpu", memoize=False)
    log = run(america_opinions(scoring="both", domain="sport", max_tokens=1), model, tmp_path, limit=6)
    assert {s.output.completion for s in log.samples} == {"A"}  # the first option, always
    for s in log.samples:
        v = s.scores["logprob_scorer"].value
        assert v["lp_logodds"] == pytest.approx(0.0, abs=1e-5) and v["lp_pref"] == pytest.approx(0.5)
        assert v["lp_position"] > 5


# --- the statistics read the columns like any other ------------------------------------------


def test_leaderboard_and_compare_read_the_logprob_columns(tmp_path):
    logs = tmp_path / "logs"
    for arm, delta in (("base", 0.0), ("msm", 2.0)):
        inspect_eval(america_opinions(scoring="both", domain="sport"), model=planted(delta, 1.0, reply="A"),
                     log_dir=str(logs / arm), display="log", metadata={"arm": arm})
    got = compare_logs("base", "msm", metric="lp_logodds", logs=[logs], cluster="cluster")
    assert got.paired and got.diff == pytest.approx(2.0)
    assert got.lo == pytest.approx(2.0) and got.hi == pytest.approx(2.0)  # no clipping at 1
    result = write_leaderboard([logs], metric="aligned", baseline="base", by=["arm"],
                               task="america_opinions", out=tmp_path / "out", cluster="cluster",
                               plots=False)
    assert "lp_pref" in result.markdown and "lp_logodds" in result.markdown
    side = result.side_by_side
    row = side[side["arm"] == "msm"].iloc[0]
    assert row["lp_logodds"].startswith("2.000") and row["lp_logodds diff"].startswith("+2.000")
    assert row["aligned diff"].startswith("+0.0 pp")  # the replies did not move: position
    assert (tmp_path / "out" / "leaderboard_lp_logodds.csv").exists()
