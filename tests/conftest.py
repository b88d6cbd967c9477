import os

# Never wait on the network for a local checkpoint or tokenizer.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("INSPECT_DISPLAY", "log")  # quiet, and no results panel rendered unseen

from harness import offline

offline.install()  # Inspect's token estimate without a network (explicit, not on import)


def prompt_sensitive_tiny_model(path, seed: int = 1):
    """A tiny model built from a config whose next token depends on the prompt: weights drawn
    large (normal, sd 0.5), so that different prompts give different answers."""
    import torch
    from transformers import AutoModelForCausalLM

    from training.tiny import build_tiny_model

    path = build_tiny_model(path, hidden_size=32, num_layers=1)
    model = AutoModelForCausalLM.from_pretrained(path)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.5)
    model.save_pretrained(path)
    return path
