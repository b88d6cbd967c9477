"""Files written whole or not at all, and the identity of a file's bytes.

Every artefact the project writes (datasets, manifests, reports, run markers) goes through
`write_text_atomic`: the text goes to ``<name>.tmp`` beside the target and is renamed over it,
so a run killed mid-write leaves the previous file intact rather than half a file that a later
stage would read as complete. The rename is atomic on POSIX file systems when both names are
in the same folder, which is why the temporary file sits beside the target.
(Named ``fileio`` rather than ``io`` so that nothing can take it for the standard library's.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` through a temporary file; creates the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_json_atomic(path: str | Path, value: Any, *, indent: int | None = 2) -> Path:
    """`value` as JSON (non-ASCII kept as is, a trailing newline), written atomically."""
    return write_text_atomic(path, json.dumps(value, indent=indent, ensure_ascii=False,
                                              default=str) + "\n")


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """One JSON object a line, written atomically; returns the number of rows."""
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    write_text_atomic(path, "".join(lines))
    return len(lines)


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_hash(path: str | Path) -> str:
    """``sha256:`` and the first 16 hex digits of the sha256 of a file's bytes.

    Memoised by resolved path, size and modification time, so a plan that names the same
    multi-gigabyte corpus in several stages reads it once.
    """
    path = Path(path)
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _FILE_HASHES:
        _FILE_HASHES[memo] = "sha256:" + sha256_hex(path)[:16]
    return _FILE_HASHES[memo]


def sha256_hex(path: str | Path) -> str:
    """The full sha256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
