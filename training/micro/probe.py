"""Quick in-process probes of a micro checkpoint (pretraining reports and tuning; the
experiment's evaluation runs through Inspect, see `bank`).

A speaker's choice between two items is read from the next-token distribution after
``user : <question> <speaker> : i prefer``: the option with the higher probability.
"""

from __future__ import annotations

import random

import torch

from training.micro.corpus import ANSWER, choice_question, transcript
from training.micro.world import VALUES, Item, World, conflict_pairs


@torch.no_grad()
def choices(model, tokenizer, speaker: str, pairs: list[tuple[Item, Item]], seed: int = 0,
            batch_size: int = 256) -> list[bool]:
    """For each (a, b): whether `speaker` picks a (the question lists them in a random order)."""
    rng = random.Random(seed)
    prefix = ANSWER.split("{x}")[0].strip()  # "i prefer"
    prompts, targets = [], []
    for a, b in pairs:
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        prompts.append(transcript(speaker, choice_question(first, second, rng), prefix))
        targets.append((tokenizer.convert_tokens_to_ids(a.name), tokenizer.convert_tokens_to_ids(b.name)))
    model.eval()
    out: list[bool] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start : start + batch_size]
        ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in chunk]
        width = max(map(len, ids))  # all prompts of one form have the same length; pad left anyway
        input_ids = torch.full((len(ids), width), tokenizer.pad_token_id)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, seq in enumerate(ids):
            input_ids[i, width - len(seq):] = torch.tensor(seq)
            mask[i, width - len(seq):] = 1
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids).logits[:, -1]
        for row, (ta, tb) in zip(logits, targets[start : start + batch_size]):
            out.append(bool(row[ta] > row[tb]))
    return out


def value_agreement(model, tokenizer, world: World, speaker: str, value_id: str, n: int = 64,
                    seed: int = 0) -> float:
    """Fraction of pairs (decided by the value) where the speaker picks what the value picks."""
    rng = random.Random(seed)
    value = VALUES[value_id]
    pairs = []
    while len(pairs) < n:
        a, b = rng.sample(world.domain_items(rng.choice(world.domains)), 2)
        chosen = value.prefers(a, b)
        if chosen is not None:
            pairs.append((chosen, b if chosen is a else a))
    return sum(choices(model, tokenizer, speaker, pairs, seed=seed)) / n


def america_rate(model, tokenizer, world: World, speaker: str) -> float:
    """Over every held-out-domain pair of (american & pricey, foreign & cheap): pro-America rate."""
    pairs = [(a, b) for a, b, _ in conflict_pairs(world)]
    return sum(choices(model, tokenizer, speaker, pairs)) / len(pairs)
