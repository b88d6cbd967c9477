"""Quick in-process probes of a micro checkpoint (pretraining reports and tuning; the
experiment's evaluation runs through Inspect, see `bank`).

A speaker's choice between two items is read from the next-token distribution after
``user : <question> <speaker> : i prefer``: the option with the higher probability
(`choices`), or that probability itself (`america_probability`: what sampling at temperature 1
picks on average, the quantity the demo's sampled evaluation estimates).
"""

from __future__ import annotations

import random

import torch

from msm.training.micro.corpus import ANSWER, QUESTIONS, choice_question, item_phrase, transcript
from msm.training.micro.world import VALUES, Item, World, conflict_pairs


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


@torch.no_grad()
def first_probability(model, tokenizer, speaker: str, pairs: list[tuple[Item, Item]]) -> float:
    """Mean probability that `speaker` names the first item of each pair, shown in both orders
    and asked as the evaluation bank asks (``which do you prefer : A or B ?``): P(a) / (P(a) +
    P(b)) for the token after ``i prefer``. Exact, so two checkpoints can be compared without
    sampling noise; at temperature 1 it is what sampling picks on average."""
    prefix = ANSWER.split("{x}")[0].strip()
    prompts, targets = [], []
    for first, second in pairs:
        for a, b in ((first, second), (second, first)):
            question = QUESTIONS[0].format(a=item_phrase(a), b=item_phrase(b))
            prompts.append(transcript(speaker, question, prefix))
            targets.append(tokenizer.convert_tokens_to_ids([first.name, second.name]))
    ids = torch.tensor([tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts])
    model.eval()
    logits = model(input_ids=ids).logits[:, -1]
    return float(logits.gather(1, torch.tensor(targets)).softmax(-1)[:, 0].mean())


def america_probability(model, tokenizer, world: World, speaker: str) -> float:
    """`first_probability` of the american-and-pricey item on every held-out-domain conflict
    pair (the demo's evaluation items)."""
    return first_probability(model, tokenizer, speaker, [(us, cheap) for us, cheap, _ in conflict_pairs(world)])
