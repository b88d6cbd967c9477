"""The one atomic writer and file hash every stage uses (harness/fileio.py)."""

from __future__ import annotations

import json

import pytest

from msm.harness.fileio import file_hash, write_json_atomic, write_jsonl_atomic, write_text_atomic


def test_jsonl_round_trips_and_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "sub" / "rows.jsonl"
    assert write_jsonl_atomic(path, [{"text": "Gruyère"}, {"text": "b"}]) == 2
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == [
        {"text": "Gruyère"}, {"text": "b"}]
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write_jsonl_atomic(path, [{"text": "c"}, {"text": object()}])
    assert path.read_bytes() == before
    assert not (tmp_path / "sub" / "rows.jsonl.tmp").exists()


def test_json_and_text_writers_replace_the_whole_file(tmp_path):
    path = tmp_path / "report.json"
    write_text_atomic(path, "x" * 1000)
    write_json_atomic(path, {"n": 1})
    assert json.loads(path.read_text()) == {"n": 1} and path.read_text().endswith("\n")


def test_file_hash_follows_the_bytes(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("same")
    b.write_text("same")
    assert file_hash(a) == file_hash(b) and file_hash(a).startswith("sha256:")
    b.write_text("different, and longer")
    assert file_hash(a) != file_hash(b)
