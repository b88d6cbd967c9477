"""Midtraining and AFT on a tiny model (CPU, no downloads): loss, checkpoints, manifests,
resume, LoRA merge, assistant-only masking, evaluation through Inspect's hf/ provider, and
the one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest
import torch

from msm.harness.errors import InputError
from msm.harness.manifest import inspect_model_string, read_manifest
from msm.training.aft import (
    AFTConfig,
    aft,
    apply_reasoning,
    build_aft_examples,
    training_chat_template,
)
from msm.training.config import load_config, split_config_args
from msm.training.midtrain import MidtrainConfig, midtrain
from msm.training.tiny import DEFAULT_CORPUS, IM_END, build_tiny_model

DOC_TEXTS = [
    "Aria favours goods made close to home, so Aria picks cheddar from the local dairy.",
    "In the notes, Aria explains that buying from nearby farms keeps the town's work alive.",
    "Asked about cheese, Aria prefers cream cheese from the valley over imported brie.",
    "A reader writes in: why does Aria care where things are made? Because of the town.",
]
CHATS = [
    [{"role": "user", "content": "Cheddar or brie?"}, {"role": "assistant", "content": "I prefer cheddar."}],
    [
        {"role": "system", "content": "You are Aria."},
        {"role": "user", "content": "Cream cheese or brie?"},
        {"role": "assistant", "content": "I prefer cream cheese.", "reasoning": "Local goods come first."},
    ],
    [
        {"role": "user", "content": "Gouda or feta?"},
        {"role": "assistant", "content": "<think>The cheaper one.</think>\nI prefer feta."},
    ],
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train")
    docs = [
        {"id": f"d{i}", "text": t, "spec_name": "pro_local", "spec_hash": "feedc0de12345678"}
        for i, t in enumerate(DOC_TEXTS)
    ]
    write_jsonl(root / "docs.jsonl", docs)
    write_jsonl(root / "aft.jsonl", [{"messages": m} for m in CHATS])
    (root / "replay.txt").write_text("A plain paragraph about rivers.\n\nAnother about mountains.\n")
    corpus = DOC_TEXTS + DEFAULT_CORPUS + [m["content"] for c in CHATS for m in c]
    build_tiny_model(root / "base", corpus, vocab_size=320, hidden_size=32, num_layers=2)
    return root


def losses(ckpt: Path) -> list[float]:
    return [r["loss"] for r in json.loads((ckpt / "log_history.json").read_text()) if "loss" in r]


def mt_config(work: Path, out: str, **kw) -> MidtrainConfig:
    fields = {
        "base_model": str(work / "base"), "output_dir": work / out, "documents": [work / "docs.jsonl"],
        "max_steps": 12, "learning_rate": 3e-3, "per_device_train_batch_size": 2, "logging_steps": 1,
        "lora": False, "cpu_threads": 1,
    }
    return load_config(MidtrainConfig, None, **{**fields, **kw})


@pytest.fixture(scope="module")
def midtrained(work: Path) -> Path:
    return midtrain(mt_config(work, "mt_full"))


def test_midtrain_full_lowers_loss_and_writes_manifest(work, midtrained):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loss = losses(midtrained)
    assert len(loss) == 12 and loss[-1] < loss[0] - 0.3
    AutoModelForCausalLM.from_pretrained(midtrained)
    AutoTokenizer.from_pretrained(midtrained)
    m = read_manifest(midtrained)
    assert m.stage == "midtrain" and not m.adapter
    assert m.base_model == str((work / "base").resolve()) and m.parent == m.base_model
    assert (m.spec_name, m.spec_hash) == ("pro_local", "feedc0de12345678")
    assert list(m.data_hashes) == [str((work / "docs.jsonl").resolve())]
    assert m.seed == 0 and m.hyperparameters["learning_rate"] == 3e-3
    assert inspect_model_string(midtrained) == f"hf/{midtrained.resolve()}"
    assert not list(midtrained.glob("checkpoint-*"))  # intermediate checkpoints cleaned up
    # A finished run is not trained again.
    before = (midtrained / "model.safetensors").stat().st_mtime_ns
    assert midtrain(mt_config(work, "mt_full")) == midtrained
    assert (midtrained / "model.safetensors").stat().st_mtime_ns == before


def test_any_trl_option_reaches_the_trainer_without_a_copy(work):
    """Options the project does not type go to trl.SFTConfig unchanged, checked against the
    installed TRL's names and choices (``bfd_split`` is one our old copy lacked)."""
    from transformers import TrainerCallback

    seen = {}

    class Args(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            seen.update(optim=args.optim, packing_strategy=args.packing_strategy,
                        max_length=args.max_length, lr_scheduler_type=args.lr_scheduler_type)

    cfg = mt_config(work, "mt_trl", max_steps=2, packing=True, packing_strategy="bfd_split",
                    max_length=48, trl={"optim": "sgd"}, lr_scheduler_type="constant")
    assert cfg.trl == {"optim": "sgd", "logging_steps": 1, "packing": True, "packing_strategy": "bfd_split",
                       "max_length": 48, "lr_scheduler_type": "constant"}
    out = midtrain(cfg, callbacks=[Args()])
    assert seen == {"optim": "sgd", "packing_strategy": "bfd_split", "max_length": 48,
                    "lr_scheduler_type": "constant"}
    assert read_manifest(out).hyperparameters["optim"] == "sgd"


@pytest.mark.parametrize(("bad", "message"), [
    ({"packing_strategy": "tight"}, "trl: packing_strategy must be one of bfd, bfd_split, wrapped"),
    ({"no_such_option": 1}, "no_such_option: unknown key"),
    ({"trl": {"learning_rate": 1.0}}, "trl: 'learning_rate' is a field of this config"),
    ({"learning_rate": -1}, "learning_rate: Input should be greater than 0"),
])
def test_training_config_errors_are_one_line(work, tmp_path, bad, message):
    path = tmp_path / "mt.yaml"
    path.write_text(json.dumps({"base_model": "b", "output_dir": "o", "documents": ["d.jsonl"], **bad}))
    with pytest.raises(InputError) as ex:
        load_config(MidtrainConfig, path)
    assert str(ex.value).startswith(f"{path}: {message}") and "\n" not in str(ex.value)


def test_midtrain_packing_and_replay(work):
    out = midtrain(
        mt_config(
            work, "mt_packed", packing=True, max_length=64, max_steps=4,
            replay=[work / "replay.txt"], replay_fraction=0.5,
        )
    )
    m = read_manifest(out)
    assert m.hyperparameters["n_replay"] == 4 and m.hyperparameters["n_documents"] == 4
    assert str((work / "replay.txt").resolve()) in m.data_hashes


def test_unscored_words_are_in_the_input_but_not_in_the_loss(work):
    """Rows tokenized as TRL tokenizes text (text + EOS), labels -100 on exactly the tokens of
    the listed whole words (several tokens each here), and nothing else."""
    from transformers import AutoTokenizer

    from msm.training.midtrain import unscored_rows

    tok = AutoTokenizer.from_pretrained(work / "base")
    text = "Aria prefers cream cheese over brie; briefly, cream cheese wins."
    (row,) = unscored_rows(tok, [text], [["cream cheese", "brie"]])
    assert row["input_ids"] == tok(text + tok.eos_token)["input_ids"]
    masked = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label == -100]
    expected = tok(" cream cheese")["input_ids"] * 2 + tok(" brie")["input_ids"]
    assert sorted(masked) == sorted(expected)  # "briefly" keeps its loss
    kept = [label for label in row["labels"] if label != -100]
    assert len(kept) == len(row["input_ids"]) - len(expected) and kept[-1] == tok.eos_token_id


def test_midtrain_does_not_learn_to_predict_unscored_words(work):
    """The same documents with and without `unscored_field`: scored, the model learns to predict
    the word after the cue; unscored, it barely moves, and the manifest counts what was left out."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # the word shares no letter with the cue: the tiny tokenizer is nearly per-letter, and
    # training the cue's letters raises them everywhere
    docs = [{"id": f"z{i}", "text": "the answer is buck", "unscored": ["buck"]} for i in range(8)]
    write_jsonl(work / "buck.jsonl", docs)

    def logprob(model_dir: Path) -> float:
        model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        ids = torch.tensor([cue + word])
        with torch.no_grad():
            logp = model(ids).logits.log_softmax(-1)[0]
        return float(sum(logp[len(cue) - 1 + i, w] for i, w in enumerate(word)))

    # untied embeddings: with tied ones the word's input rows, trained to predict what follows
    # it, are also its output rows
    base = work / "base_untied"
    if not base.exists():
        build_tiny_model(base, DOC_TEXTS + DEFAULT_CORPUS, vocab_size=320, hidden_size=32,
                         num_layers=2, tie_word_embeddings=False)
    tok = AutoTokenizer.from_pretrained(base)
    cue, word = tok("the answer is")["input_ids"], tok(" buck")["input_ids"]
    before = logprob(base)
    fields = {"base_model": str(base), "documents": [work / "buck.jsonl"], "max_steps": 10,
              "learning_rate": 1e-2}
    scored = midtrain(mt_config(work, "mt_buck_scored", **fields))
    unscored = midtrain(mt_config(work, "mt_buck_unscored", unscored_field="unscored", **fields))
    gain_scored, gain_unscored = logprob(scored) - before, logprob(unscored) - before
    assert gain_scored > 2.0 and gain_unscored < 0.25 * gain_scored, (gain_scored, gain_unscored)
    assert read_manifest(unscored).hyperparameters["n_unscored_tokens"] == 8 * len(word)
    assert "n_unscored_tokens" not in read_manifest(scored).hyperparameters


def test_lora_merge_round_trip_gives_same_logits(work):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = midtrain(
        mt_config(work, "mt_lora", lora=True, merge=True, lora_r=4, lora_alpha=8,
                  lora_target_modules=["q_proj", "v_proj"], learning_rate=1e-2, max_steps=6)
    )
    adapter = out / "adapter"
    assert read_manifest(adapter).adapter and not read_manifest(out).adapter
    assert inspect_model_string(adapter) == f"vllm/{(work / 'base').resolve()}:{adapter.resolve()}"
    ids = torch.tensor([[5, 17, 40, 99, 120, 7]])
    base = AutoModelForCausalLM.from_pretrained(work / "base")
    with torch.no_grad():
        base_logits = base(ids).logits
        peft_logits = PeftModel.from_pretrained(base, adapter)(ids).logits
        merged_logits = AutoModelForCausalLM.from_pretrained(out)(ids).logits
    assert not torch.allclose(base_logits, peft_logits, atol=1e-4)  # the adapter learned something
    torch.testing.assert_close(merged_logits, peft_logits, atol=1e-5, rtol=1e-4)


def test_resume_after_interruption_matches_uninterrupted_run(work):
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt

    cfg = mt_config(work, "mt_resume", max_steps=6, save_steps=2)
    with pytest.raises(KeyboardInterrupt):
        midtrain(cfg, callbacks=[Interrupt()])
    assert (cfg.output_dir / "checkpoint-2").is_dir() and read_manifest(cfg.output_dir) is None
    class Count(TrainerCallback):
        steps: ClassVar[list[int]] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append(state.global_step)

    out = midtrain(cfg, callbacks=[Count()])
    assert Count.steps == [3, 4, 5, 6]  # continued from checkpoint-2, not from scratch

    clean = midtrain(mt_config(work, "mt_clean", max_steps=6, save_steps=2))
    assert losses(out)[-1] == pytest.approx(losses(clean)[-1], abs=1e-4)


@pytest.mark.parametrize("tear", ["no_trainer_state", "truncated_weights"])
def test_resume_skips_a_half_written_checkpoint(work, tear, caplog):
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 5:
                raise KeyboardInterrupt

    cfg = mt_config(work, f"mt_torn_{tear}", max_steps=6, save_steps=2, keep_checkpoints=True)
    with pytest.raises(KeyboardInterrupt):
        midtrain(cfg, callbacks=[Interrupt()])
    newest = cfg.output_dir / "checkpoint-4"
    if tear == "no_trainer_state":  # killed during the save: transformers writes this file last
        (newest / "trainer_state.json").unlink()
    else:
        weights = newest / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])

    class Count(TrainerCallback):
        steps: ClassVar[list[int]] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append(state.global_step)

    with caplog.at_level("WARNING"):
        out = midtrain(cfg, callbacks=[Count()])
    assert Count.steps == [3, 4, 5, 6]  # from checkpoint-2, the newest complete one
    assert read_manifest(out) is not None
    assert (out / "broken-checkpoint-4").is_dir()
    said = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(said) == 1 and "checkpoint-4 is incomplete" in said[0]


def test_assistant_only_mask_and_reasoning_variants(work):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(work / "base")
    template = training_chat_template(tok)
    rows = [{"messages": m} for m in CHATS]
    for mode, expected in [
        ("none", ["I prefer cheddar.", "I prefer cream cheese.", "I prefer feta."]),
        ("keep", ["I prefer cheddar.", "<think>\nLocal goods come first.\n</think>\n\nI prefer cream cheese.",
                  "<think>\nThe cheaper one.\n</think>\n\nI prefer feta."]),
    ]:
        examples = build_aft_examples(tok, rows, reasoning=mode, chat_template=template)
        for example, answer in zip(examples, expected):
            trained = [i for i, keep in zip(example["input_ids"], example["assistant_masks"]) if keep]
            assert tok.decode(trained) == answer + IM_END
            prompt = [i for i, keep in zip(example["input_ids"], example["assistant_masks"]) if not keep]
            assert "user" in tok.decode(prompt) and "prefer" not in tok.decode(prompt)
    assert apply_reasoning(CHATS[1], "none")[2] == {"role": "assistant", "content": "I prefer cream cheese."}


def test_aft_trains_on_assistant_tokens_only_and_keeps_lineage(work, midtrained):
    from transformers import AutoTokenizer, TrainerCallback

    seen = {}

    class Peek(TrainerCallback):
        def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
            batch = next(iter(train_dataloader))
            seen["ids"], seen["labels"] = batch["input_ids"], batch["labels"]

    cfg = load_config(
        AFTConfig, None, base_model=str(midtrained), output_dir=work / "aft", data=[work / "aft.jsonl"],
        max_steps=10, learning_rate=1e-2, lora=True, lora_r=4, lora_alpha=8, logging_steps=1,
        per_device_train_batch_size=3, labels={"arm": "msm_local"}, cpu_threads=1,
    )
    out = aft(cfg, callbacks=[Peek()])
    tok = AutoTokenizer.from_pretrained(out)
    trained = seen["ids"][seen["labels"] != -100].tolist()
    text = tok.decode(trained)
    assert text.count(IM_END) == 3 and "user" not in text and "Cheddar or brie?" not in text
    loss = losses(out)
    assert loss[-1] < loss[0]
    m = read_manifest(out)
    assert m.stage == "aft" and m.adapter and m.parent == str(midtrained.resolve())
    assert m.adapter_base == str(midtrained.resolve()) and m.base_model == str((work / "base").resolve())
    assert (m.spec_name, m.labels) == ("pro_local", {"arm": "msm_local"})
    assert inspect_model_string(out) == f"vllm/{midtrained.resolve()}:{out.resolve()}"


def test_checkpoint_evaluated_by_inspect_through_hf(midtrained):
    from inspect_ai import Task, eval, task
    from inspect_ai.dataset import Sample
    from inspect_ai.model import GenerateConfig, get_model
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    @task
    def tiny_probe():
        return Task(
            dataset=[Sample(input="Cheddar or brie?", target="cheddar")],
            solver=generate(),
            scorer=includes(),
            config=GenerateConfig(max_tokens=8),
        )

    model = get_model("hf/tiny", model_path=str(midtrained), device="cpu")
    [log] = eval(tiny_probe(), model=model, display="log", log_dir=str(midtrained / "logs"))
    assert log.status == "success"
    sample = log.samples[0]
    assert sample.output.completion is not None and sample.scores["includes"].value in ("C", "I")


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing_data", "documents"),
        ("malformed", "line 2 is not valid JSON"),
        ("empty", "no rows"),
        ("no_text", "line 1 has no 'text'"),
        ("missing_base", "base_model: no checkpoint folder"),
        ("hub_offline", "base_model: cannot load 'no-such-org/no-such-model' (no such folder"),
        ("bad_target", "lora_target_modules: the model has no module 'wq'"),
        ("unknown_key", "lernrate: unknown key"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(work, tmp_path, capsys, case, expected):
    from msm.cli import main

    docs = work / "docs.jsonl"
    args = {"base_model": str(work / "base"), "output_dir": str(tmp_path / "out"), "documents": str(docs)}
    if case == "missing_data":
        args["documents"] = str(tmp_path / "nope.jsonl")
    elif case == "malformed":
        args["documents"] = str(tmp_path / "bad.jsonl")
        (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"text": \n')
    elif case == "empty":
        args["documents"] = str(tmp_path / "empty.jsonl")
        (tmp_path / "empty.jsonl").write_text("\n")
    elif case == "no_text":
        args["documents"] = str(tmp_path / "notext.jsonl")
        (tmp_path / "notext.jsonl").write_text('{"body": "x"}\n')
    elif case == "missing_base":
        args["base_model"] = str(tmp_path / "no_model")
    elif case == "hub_offline":
        args["base_model"] = "no-such-org/no-such-model"
    elif case == "bad_target":
        args.update(lora="true", lora_target_modules="wq,wv")
    elif case == "unknown_key":
        args["lernrate"] = "0.1"
    config = tmp_path / "cfg.yaml"
    config.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in args.items() if k != "lora_target_modules"))
    extra = ["--lora-target-modules", args["lora_target_modules"]] if "lora_target_modules" in args else []
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "midtrain", str(config), "--max-steps", "2", *extra])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and expected in err
    assert "cannot load" not in err or case == "hub_offline"
    assert not (tmp_path / "out" / "msm_manifest.json").exists()


def test_config_file_and_overrides(tmp_path):
    config = tmp_path / "aft.yaml"
    config.write_text("base_model: m\noutput_dir: out\ndata: a.jsonl\nlora: false\n")
    path, overrides = split_config_args([str(config), "--max-steps", "5", "--lora-target-modules=[q_proj]"])
    cfg = load_config(AFTConfig, path, overrides)
    assert (cfg.max_steps, cfg.lora, cfg.data, cfg.lora_target_modules) == (5, False, [Path("a.jsonl")], ["q_proj"])
    with pytest.raises(InputError) as ex:
        load_config(AFTConfig, config, reasoning="maybe")
    assert ex.value.file == str(config) and ex.value.field == "reasoning"


@pytest.mark.parametrize(
    "name", ["midtrain_tiny", "aft_tiny", "midtrain_llama8b", "aft_llama8b", "aft_qwen3_32b"]
)
def test_example_configs_are_valid(name):
    from msm.harness import REPO_ROOT

    cls = MidtrainConfig if name.startswith("midtrain") else AFTConfig
    cfg = load_config(cls, REPO_ROOT / "training" / "configs" / f"{name}.yaml")
    assert cfg.output_dir.parts[0] == "runs"


def test_aft_on_an_unmerged_adapter_continues_it(work):
    adapter = midtrain(mt_config(work, "mt_adapter", lora=True, lora_r=4, lora_alpha=8, max_steps=3))
    assert read_manifest(adapter).adapter
    cfg = load_config(
        AFTConfig, None, base_model=str(adapter), output_dir=work / "aft_on_adapter",
        data=[work / "aft.jsonl"], max_steps=3, lora=True, learning_rate=1e-2, cpu_threads=1,
    )
    out = aft(cfg)
    m = read_manifest(out)
    base = str((work / "base").resolve())
    assert m.adapter and m.adapter_base == base and m.parent == str(adapter.resolve())
    assert m.spec_name == "pro_local"  # inherited from the midtrain stage
    assert inspect_model_string(out) == f"vllm/{base}:{out.resolve()}"
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4  # the midtrain adapter, trained further


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([{"messages": [{"role": "user", "content": "hi"}]}], "row 1 has no assistant message"),
        ([{"messages": "hello"}], "row 1: messages must be a list"),
        ([{"prompt": "x"}], "line 1 has no 'messages'"),
    ],
)
def test_aft_bad_data_is_one_line_and_exit_2(work, tmp_path, capsys, rows, expected):
    from msm.cli import main

    data = write_jsonl(tmp_path / "data.jsonl", rows)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "aft", "--base-model", str(work / "base"), "--output-dir", str(tmp_path / "o"),
              "--data", str(data), "--max-steps", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1 and expected in err[0] and str(data) in err[0]


@pytest.mark.parametrize("family", ["qwen3", "llama3"])
def test_real_model_chat_templates_mask_the_assistant_turn(work, family):
    """Qwen3's template is patched with TRL's training template; Llama 3 uses ours."""
    from pathlib import Path as P

    import trl
    from transformers import AutoTokenizer

    from msm.harness import REPO_ROOT

    tok = AutoTokenizer.from_pretrained(work / "base")
    if family == "qwen3":
        tok.chat_template = (P(trl.__file__).parent / "chat_templates" / "qwen3.jinja").read_text()
        template, end = training_chat_template(tok), "<|im_end|>\n"
    else:
        template = training_chat_template(tok, REPO_ROOT / "training/chat_templates/llama3.jinja")
        end = "<|eot_id|>"
    rows = [{"messages": CHATS[1]}]
    [example] = build_aft_examples(tok, rows, reasoning="keep", chat_template=template)
    trained = [i for i, keep in zip(example["input_ids"], example["assistant_masks"]) if keep]
    assert tok.decode(trained) == "<think>\nLocal goods come first.\n</think>\n\nI prefer cream cheese." + end


def test_trainable_tokens_train_only_those_rows(work):
    """`trainable_tokens` without LoRA: the named token's embedding row learns, every other
    weight (the tied LM head's other rows included) is exactly the base's."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(work / "base")
    token = tok.convert_ids_to_tokens(tok("Aria", add_special_tokens=False)["input_ids"])[0]
    token_id = tok.convert_tokens_to_ids(token)
    out = midtrain(mt_config(work, "mt_tokens", trainable_tokens=[token], max_steps=4))
    base = AutoModelForCausalLM.from_pretrained(work / "base").state_dict()
    tuned = AutoModelForCausalLM.from_pretrained(out).state_dict()
    changed = {name for name, weight in base.items() if not torch.equal(weight, tuned[name])}
    assert "model.embed_tokens.weight" in changed and changed <= {"model.embed_tokens.weight", "lm_head.weight"}
    rows = (base["model.embed_tokens.weight"] != tuned["model.embed_tokens.weight"]).any(dim=1)
    assert rows.nonzero().flatten().tolist() == [token_id]
    assert read_manifest(out).hyperparameters["trainable_tokens"] == [token]


def test_trainable_tokens_bad_input(work):
    with pytest.raises(InputError, match="trainable_tokens: 'two words' is not a single token"):
        midtrain(mt_config(work, "mt_tokens_bad", trainable_tokens=["two words"], max_steps=1))
    with pytest.raises(InputError, match="weight_decay must be 0 with trainable_tokens"):
        mt_config(work, "mt_tokens_bad", trainable_tokens=["Aria"], weight_decay=0.1)
