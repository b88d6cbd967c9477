"""Model Specs: Markdown files with YAML front matter.

A spec file looks like::

    ---
    name: pro_america
    summary: One line saying what the spec is about.
    variables:            # template variables, filled at render time
      model_name: Aria
      developer: Northwind Labs
    structured:           # optional, for template generators (docgen's template backend)
      subject: [cheese, american]        # words a document about this spec must mention
      values:
        - id: america
          description: "{model_name} favours things made in the United States."
      preferences:
        - {chosen: cream cheese, rejected: brie, value: america}
    ---
    # The body, Markdown, with {model_name} and {developer} placeholders.

`load_spec` finds a spec by name (in ``$MSM_SPECS_DIR``, ``./specs`` or the shipped ``specs/``,
``msm/specs`` in an installed wheel) or by path, validates it, and `Spec.render` fills the variables. A malformed
spec raises `InputError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from msm.harness import shipped
from msm.harness.errors import InputError

REQUIRED_VARIABLES = ("model_name", "developer")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)


class SpecValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    description: str
    explains: list[str] = Field(default_factory=list)


class SpecPreference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chosen: str
    rejected: str
    value: str
    domain: str = "cheese"


class SpecStructure(BaseModel):
    model_config = ConfigDict(extra="allow")
    subject: list[str] = Field(default_factory=list)
    values: list[SpecValue] = Field(default_factory=list)
    preferences: list[SpecPreference] = Field(default_factory=list)


class SpecHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    summary: str
    variables: dict[str, str]
    structured: SpecStructure | None = None


class Spec(BaseModel):
    """A loaded, validated spec. `body` still holds its {placeholders}."""

    model_config = ConfigDict(frozen=True)
    path: Path
    header: SpecHeader
    body: str

    @property
    def name(self) -> str:
        """The spec's name (front matter)."""
        return self.header.name

    @property
    def summary(self) -> str:
        """The spec's one-line summary (front matter)."""
        return self.header.summary

    @property
    def structured(self) -> SpecStructure | None:
        """The structured part of the spec's front matter, when it has one."""
        return self.header.structured

    @cached_property
    def hash(self) -> str:
        """Content hash of the whole file (front matter and body), 16 hex digits."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]

    def render(self, **overrides: str) -> str:
        """The body with every template variable filled (defaults from the front matter)."""
        values = {**self.header.variables, **{k: v for k, v in overrides.items() if v is not None}}
        return fill(self.body, values, file=self.path)

    def render_text(self, text: str, **overrides: str) -> str:
        """Fill this spec's variables into another text (a structured-part string, say)."""
        values = {**self.header.variables, **{k: v for k, v in overrides.items() if v is not None}}
        return fill(text, values, file=self.path)

    @property
    def word_count(self) -> int:
        """Words in the rendered spec."""
        return len(self.render().split())


def placeholders(text: str) -> set[str]:
    """Names of the {placeholders} in a text (doubled braces are literal)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def fill(text: str, values: dict[str, str], *, file: Path | str | None = None) -> str:
    """The text with its placeholders filled from `values`; a placeholder without a value is one line."""
    missing = placeholders(text) - values.keys()
    if missing:
        raise InputError(
            f"placeholder(s) {', '.join(sorted(missing))} have no value", file=file, field="variables"
        )
    return text.format_map(values)


def specs_dirs() -> list[Path]:
    """Where spec names are looked up, in order: $MSM_SPECS_DIR, ./specs, the shipped specs."""
    dirs = []
    if env := os.environ.get("MSM_SPECS_DIR"):
        dirs.append(Path(env))
    dirs += [Path.cwd() / "specs", shipped("specs")]
    return dirs


def spec_path(name_or_path: str | Path) -> Path:
    """Resolve a spec name (``philosophy``) or a path (``specs/philosophy.md``)."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".md" or candidate.exists():
        if not candidate.is_file():
            raise InputError("spec file not found", file=candidate)
        return candidate
    for directory in specs_dirs():
        path = directory / f"{name_or_path}.md"
        if path.is_file():
            return path
    raise InputError(
        f"no spec named '{name_or_path}' (looked in {', '.join(str(d) for d in specs_dirs())}; "
        f"available: {', '.join(available_specs()) or 'none'})",
        field="spec",
    )


def available_specs() -> list[str]:
    """The spec names found in `specs_dirs`, sorted."""
    names: set[str] = set()
    for directory in specs_dirs():
        if directory.is_dir():
            names.update(p.stem for p in directory.glob("*.md") if p.stem.lower() != "readme")
    return sorted(names)


def load_spec(name_or_path: str | Path) -> Spec:
    """Load a spec by name or path: front matter validated, body kept; bad input is one line naming the file."""
    path = spec_path(name_or_path)
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise InputError("missing YAML front matter (a '---' block at the top)", file=path)
    try:
        raw: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError as ex:
        raise InputError(f"front matter is not valid YAML ({ex})".replace("\n", " "), file=path)
    if not isinstance(raw, dict):
        raise InputError("front matter must be a mapping", file=path)
    try:
        header = SpecHeader.model_validate(raw)
    except ValidationError as ex:
        err = ex.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "front matter"
        raise InputError(err["msg"].lower(), file=path, field=field)
    for var in REQUIRED_VARIABLES:
        if var not in header.variables:
            raise InputError("required template variable is missing", file=path, field=f"variables.{var}")
    if header.name != path.stem:
        raise InputError(f"name '{header.name}' does not match the file name", file=path, field="name")
    body = match.group(2).strip() + "\n"
    unknown = placeholders(body) - header.variables.keys()
    if unknown:
        raise InputError(
            f"body uses undeclared placeholder(s) {', '.join(sorted(unknown))}", file=path, field="variables"
        )
    return Spec(path=path, header=header, body=body)
