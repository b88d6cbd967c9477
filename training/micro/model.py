"""The micro model: a small Llama-style decoder built from a transformers config."""

from __future__ import annotations

from transformers import GenerationConfig, LlamaForCausalLM, PreTrainedTokenizerFast


def build_model(
    tokenizer: PreTrainedTokenizerFast,
    *,
    hidden_size: int = 128,
    layers: int = 4,
    heads: int = 4,
    intermediate_size: int = 512,
    max_positions: int = 128,
    seed: int = 0,
) -> LlamaForCausalLM:
    """A small Llama model sized for the micro world's vocabulary, initialised from `seed`."""
    from msm.training.tiny import init_causal_lm

    model = init_causal_lm(
        tokenizer,
        hidden_size=hidden_size,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        seed=seed,
    )
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_new_tokens=16,
        do_sample=False,
    )
    return model


def n_parameters(model) -> int:
    """The model's parameter count."""
    return sum(p.numel() for p in model.parameters())
