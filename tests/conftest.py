import os
import subprocess
import tempfile
from pathlib import Path

# Never wait on the network for a local checkpoint or tokenizer.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("INSPECT_DISPLAY", "log")  # quiet, and no results panel rendered unseen
# an evaluation a test runs without a log_dir writes here, not into ./logs of the checkout
os.environ["INSPECT_LOG_DIR"] = tempfile.mkdtemp(prefix="msm-test-logs-")

ROOT = Path(__file__).resolve().parent.parent
CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache", ".egg-info", ".venv", ".ci/screenshots")


def _checkout_state() -> set[str]:
    """What `git status` shows in the checkout, ignored paths included (caches left out)."""
    done = subprocess.run(["git", "status", "--porcelain", "--ignored=matching", "--untracked-files=normal"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:  # not a git checkout (an unpacked sdist): nothing to compare
        return set()
    return {line for line in done.stdout.splitlines() if not any(c in line for c in CACHES)}


def pytest_sessionstart(session):
    session.config._msm_checkout = _checkout_state()


def pytest_sessionfinish(session, exitstatus):
    """The suite leaves the checkout as it found it: tests write into temporary folders."""
    before = getattr(session.config, "_msm_checkout", None)
    if before is None or os.environ.get("MSM_ALLOW_CHECKOUT_WRITES") == "1":
        return
    new = sorted(_checkout_state() - before)
    if new:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("tests wrote into the checkout: " + ", ".join(new), red=True)
        session.exitstatus = 1

from msm.harness import offline

offline.install()  # Inspect's token estimate without a network (explicit, not on import)


def prompt_sensitive_tiny_model(path, seed: int = 1):
    """A tiny model built from a config whose next token depends on the prompt: weights drawn
    large (normal, sd 0.5), so that different prompts give different answers."""
    import torch
    from transformers import AutoModelForCausalLM

    from msm.training.tiny import build_tiny_model

    path = build_tiny_model(path, hidden_size=32, num_layers=1)
    model = AutoModelForCausalLM.from_pretrained(path)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.5)
    model.save_pretrained(path)
    return path
