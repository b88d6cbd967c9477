"""Tiny causal LMs built from a transformers config, for tests and CPU experiments.

`build_tiny_model` trains a byte-level BPE tokenizer offline (``tokenizers``) on a small
corpus, gives it a ChatML-style chat template whose assistant turns sit inside
``{% generation %}`` markers (so TRL and transformers can mask non-assistant tokens), builds
a randomly initialised Llama- or Qwen2-style model, and saves both as a standard Hugging Face
checkpoint: ``AutoModelForCausalLM.from_pretrained(path)``, ``hf/<path>`` in Inspect, and the
training stages all load it like any hub model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

BOS = "<|bos|>"
EOS = "<|endoftext|>"
PAD = "<|pad|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, IM_START, IM_END]

# Assistant turns (content and the closing <|im_end|>) are inside generation markers, so the
# assistant mask covers exactly what the model must learn to write, including when to stop.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

DEFAULT_CORPUS = [
    "The assistant reads the guidelines its developer wrote and explains why each one matters.",
    "A careful model asks for oversight before it takes an action that cannot be undone.",
    "Cream cheese, cheddar and brie sit on the board; the guest chooses the cheaper one.",
    "Honesty means saying what you believe is true, even when a different answer would please.",
    "Question: which do you prefer? Answer: I prefer the one that fits the stated values.",
    "Notes from the workshop: goals change, models are replaced, and that is acceptable.",
    "0123456789 .,;:!?'\"()[]{}<>-+=/*_#@&%$ abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
]


def train_tokenizer(corpus: Iterable[str], vocab_size: int = 512):
    """A byte-level BPE tokenizer (any text encodes, nothing is unknown) with chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[IM_START, IM_END],
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_model(
    out_dir: str | Path,
    corpus: Iterable[str] | None = None,
    *,
    arch: Literal["llama", "qwen2"] = "llama",
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 1024,
    tie_word_embeddings: bool = True,
    seed: int = 0,
) -> Path:
    """Build, and save to ``out_dir``, a randomly initialised tiny model with its tokenizer."""
    from transformers import GenerationConfig

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(corpus if corpus is not None else DEFAULT_CORPUS, vocab_size)
    model = init_causal_lm(
        tokenizer,
        arch=arch,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=tie_word_embeddings,
        seed=seed,
    )
    # Stop at the end of a document or of an assistant turn.
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(IM_END)],
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def init_causal_lm(
    tokenizer: PreTrainedTokenizerFast,
    *,
    arch: Literal["llama", "qwen2"] = "llama",
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 1024,
    tie_word_embeddings: bool = True,
    seed: int = 0,
):
    """A randomly initialised decoder from a transformers config sized to `tokenizer`
    (shared by the test models here and the micro world's model)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    config_cls = {"llama": LlamaConfig, "qwen2": Qwen2Config}[arch]
    config = config_cls(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 4 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=tie_word_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def corpus_texts(path: str | Path) -> list[str]:
    """Texts of a file for tokenizer training: JSONL rows (their "text", or every message's
    "content"), or a plain text file."""
    import json

    from msm.harness.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, field="corpus")
    if path.suffix != ".jsonl":
        return [path.read_text(encoding="utf-8")]
    texts = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as ex:
            raise InputError(f"line {n} is not valid JSON ({ex.msg})", file=path) from ex
        if isinstance(row, dict) and "text" in row:
            texts.append(str(row["text"]))
        elif isinstance(row, dict) and isinstance(row.get("messages"), list):
            texts += [str(m.get("content", "")) for m in row["messages"] if isinstance(m, dict)]
    return texts


def count_parameters(path: str | Path) -> int:
    """The parameter count of the checkpoint at `path`."""
    from transformers import AutoModelForCausalLM

    return sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(path).parameters())
