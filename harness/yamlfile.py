"""YAML files read strictly: a key given twice in one mapping is an error, not a silent overwrite.

PyYAML keeps the last of two equal keys and drops the first without a word, so an arm listed
twice under ``arms:`` would vanish from the experiment. `read_yaml` reads a file with
``safe_load`` after checking every mapping for repeated keys (merge keys ``<<: *anchor`` may
be overridden, as YAML intends), and turns every way the file can be unreadable (missing, a
folder, not UTF-8 text, not YAML) into one `InputError` naming the file, and the field where
there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from msm.harness.errors import InputError

_MERGE = "tag:yaml.org,2002:merge"


def read_yaml(path: str | Path, *, what: str = "file") -> Any:
    """The YAML document in `path` (``safe_load``), refusing repeated keys in any mapping;
    `what` names the file in messages ("experiment file")."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"is a folder; {what} expected", file=path)
    if not path.is_file():
        raise InputError(f"{what} not found", file=path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as ex:
        raise InputError(f"cannot read the {what} ({ex.strerror})", file=path) from None
    except UnicodeDecodeError as ex:
        raise InputError(f"not a UTF-8 text file (byte {ex.start}); {what} expected",
                         file=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _check_unique(node, [], path)
        return yaml.safe_load(text)
    except yaml.YAMLError as ex:
        raise InputError(f"not valid YAML ({str(ex).splitlines()[0]})", file=path) from None


def _check_unique(node: yaml.Node, where: list[str], path: Path, seen: set[int] | None = None) -> None:
    """Walk the composed document; the first mapping with a repeated key is an `InputError`
    at that key's place in the document (``arms.aft_only``), with both line numbers."""
    seen = set() if seen is None else seen
    if id(node) in seen:  # an alias of a node already walked
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if key.tag == _MERGE or not isinstance(key, yaml.ScalarNode):
                continue
            name, line = str(key.value), key.start_mark.line + 1
            if (key.tag, name) in first:
                raise InputError(f"key '{name}' is given twice (lines {first[key.tag, name]} and "
                                 f"{line}); YAML would keep only the last",
                                 file=path, field=".".join([*where, name]))
            first[key.tag, name] = line
            _check_unique(value, [*where, name], path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_unique(item, [*where, str(i)], path, seen)
