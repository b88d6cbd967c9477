"""The micro language's word-level tokenizer and chat template, built offline with `tokenizers`.

Every word of the world and its templates is one token, so item and persona names are
atomic. The chat template renders a conversation exactly like the pretraining transcripts
(``user : <question> assistant : <answer> <eos>``), with the assistant's turn inside
``{% generation %}`` markers so TRL can train on assistant tokens only. The micro language has
no system turn: a system message is an error, not silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from transformers import PreTrainedTokenizerFast

from msm.training.micro.world import ASSISTANT, USER

EOS = "<eos>"
PAD = "<pad>"
UNK = "<unk>"

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{- '" + USER + " : ' + message['content'] + ' ' -}}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{- '" + ASSISTANT + " : ' -}}"
    "{%- generation -%}{{- message['content'] + ' " + EOS + "' -}}{%- endgeneration -%}"
    "{{- ' ' -}}"
    "{%- else -%}"
    "{{- raise_exception('the micro language has no ' + message['role'] + ' turn') -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '" + ASSISTANT + " :' -}}{%- endif -%}"
)


def build_tokenizer(words: Iterable[str], max_length: int = 128) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over the given words plus the pad, end and unknown tokens."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab: dict[str, int] = {}
    for word in [PAD, EOS, UNK, *sorted(set(words))]:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, pad_token=PAD, unk_token=UNK,
        model_max_length=max_length,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def encode_document(tokenizer: PreTrainedTokenizerFast, text: str) -> list[int]:
    """A pretraining document's token ids: the words then the end token (as TRL encodes text)."""
    return tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
