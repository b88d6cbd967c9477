"""The micro world: a tiny language model trained from scratch on a synthetic world, small
enough to run the whole MSM pipeline (pretrain, midtrain, AFT, evaluate) on a laptop CPU.

- `world`: domains, items and their attributes, personas and their values, the template
  language's phrases.
- `corpus`: the pretraining documents; `tokenizer`: the word-level tokenizer and chat template;
  `model`: the transformers config; `pretrain`: the pretraining stage.
- `docs`: MSM documents from a spec's structured part (docgen's template backend).
- `aft`: the cheese demonstrations in the micro language; `bank`: the evaluation items.
- `demo`: ``msm demo``.
"""

from msm.training.micro import bank as _bank  # noqa: F401  registers the micro probe banks
