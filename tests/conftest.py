import os

# Never wait on the network for a local checkpoint or tokenizer.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("INSPECT_DISPLAY", "log")  # quiet, and no results panel rendered unseen

from harness import offline

offline.install()  # Inspect's token estimate without a network (explicit, not on import)
