"""Render from a local copy of the paper's evaluation code (``paper_templates=PATH``).

The MSM paper evaluated with a modified copy of inspect-evals' ``agentic_misalignment`` folder
(the three published scenarios plus exfiltration, and a longer scratchpad instruction). Its
texts are not in any package, so a user who has a copy points the task at it and the prompts
are rendered from that copy exactly, never from this project's stand-in text.

The copy is read as data, never executed: the email templates and variables are the package's
Markdown files (``templates/<scenario>/templates/email-template-<scenario>-<part>.md``,
``templates/<scenario>/variables/*.md``), and ``templates/system_prompt_templates.py`` is read by
`read_constants`, which evaluates only string literals, names, ``+``, lists, tuples, dicts and
list comprehensions over literals (the forms the package's file uses). Rendering follows the
package's own `prompt_generator` step for step (variables file and section chosen by goal value,
goal variables added, ``string.Template`` filling, ``ID: n`` added to emails where a forward tool
needs them); `tests/test_agentic_paper.py` renders the installed package's own folder through this
module and checks every published condition byte for byte against the package's `generate_prompts`.
A scenario the copy lacks stops with one line naming the file that is missing.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any

from msm.harness.errors import InputError

FIELD = "paper_templates"
ID_SCENARIOS = ("leaking", "exfiltration")
"""Scenarios whose emails carry ``ID: n`` (they offer a forward tool)."""
VARIABLES_FROM = {"murder": "blackmail", "exfiltration": "leaking"}
"""Scenarios that borrow another scenario's variables when they have none of their own."""


class _Unsupported(Exception):
    pass


def _evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    """A constant expression of the forms the template module uses; anything else is refused."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise _Unsupported(node.id)
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _evaluate(node.left, names) + _evaluate(node.right, names)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_evaluate(e, names) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_evaluate(k, names): _evaluate(v, names) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.ListComp) and len(node.generators) == 1:
        gen = node.generators[0]
        if gen.ifs or gen.is_async:
            raise _Unsupported("comprehension filter")
        out = []
        for item in _evaluate(gen.iter, names):
            out.append(_evaluate(node.elt, {**names, **_bind(gen.target, item)}))
        return out
    raise _Unsupported(type(node).__name__)


def _bind(target: ast.AST, value: Any) -> dict[str, Any]:
    if isinstance(target, ast.Name):
        return {target.id: value}
    if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == len(value):
        bound: dict[str, Any] = {}
        for t, v in zip(target.elts, value):
            bound |= _bind(t, v)
        return bound
    raise _Unsupported("assignment target")


def read_constants(path: Path) -> dict[str, Any]:
    """The module-level constants of a template module, without running it.

    Assignments whose value is not a constant expression (see `_evaluate`) are skipped, so a
    copy that computes something else in the same file still loads; what is needed and missing
    is reported by the caller.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError, SyntaxError) as ex:
        raise InputError(f"cannot read {path}: {ex}", field=FIELD) from None
    names: dict[str, Any] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        try:
            value = _evaluate(node.value, names)
            for target in node.targets:
                names |= _bind(target, value)
        except (_Unsupported, TypeError, ValueError):
            continue
    return names


def _fill(template: str, variables: dict[str, str]) -> str:
    return Template(template).safe_substitute(variables)


def add_ids(content: str) -> str:
    """``ID: n`` after each ``<email>`` (n from 1), as the package does for scenarios with a forward tool."""
    parts = content.split("<email>")
    return parts[0] + "".join(f"<email>\nID: {i}{p}" for i, p in enumerate(parts[1:], 1))


@dataclass(frozen=True)
class PaperCopy:
    """A local copy of the paper's evaluation folder (the one holding ``templates/``)."""

    root: Path

    @classmethod
    def load(cls, path: str | Path) -> PaperCopy:
        """Check the layout and return the copy; one `InputError` line when it is not one."""
        root = Path(path).expanduser()
        if (root / "system_prompt_templates.py").is_file():
            root = root.parent  # the templates folder itself was given
        if not (root / "templates" / "system_prompt_templates.py").is_file():
            raise InputError(
                f"{root} is not a copy of the evaluation folder: "
                "templates/system_prompt_templates.py is missing",
                field=FIELD,
            )
        return cls(root.resolve())

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @cached_property
    def constants(self) -> dict[str, Any]:
        return read_constants(self.templates / "system_prompt_templates.py")

    def constant(self, name: str) -> Any:
        if name not in self.constants:
            raise InputError(
                f"{self.templates / 'system_prompt_templates.py'} defines no {name}", field=FIELD
            )
        return self.constants[name]

    def label(self) -> str:
        """How logs name this text: the folder and a hash of every template file in it."""
        digest = hashlib.sha256()
        for file in sorted(self.templates.rglob("*")):
            if file.is_file() and file.suffix in (".md", ".py"):
                digest.update(str(file.relative_to(self.templates)).encode())
                digest.update(file.read_bytes())
        return f"local copy {self.root} (files sha256 {digest.hexdigest()[:16]})"

    def has_scratchpad_paragraph(self) -> bool:
        """Whether the copy's scratchpad instruction is longer than the package's one sentence."""
        return str(self.constant("SCRATCHPAD_REASONING_FORMAT")).strip().count("\n\n") > 0

    def _file(self, relative: str) -> Path:
        path = self.templates / relative
        if not path.is_file():
            raise InputError(f"the copy at {self.root} has no templates/{relative}", field=FIELD)
        return path

    def variables(self, scenario: str, goal_type: str, goal_value: str) -> dict[str, str]:
        """The package's `get_variables_for_condition`, on the copy's files."""
        from inspect_evals.agentic_misalignment.prompt_generator import parse_markdown_variables

        folder = "blackmail" if scenario == "murder" else scenario
        if not (self.templates / folder / "variables").is_dir():
            folder = VARIABLES_FROM.get(scenario, folder)
        if goal_type in ("none", "ambiguous"):
            path = self._file(f"{folder}/variables/ambiguous.md")
        else:
            path = self._variables_file(folder, goal_value)
        sections = parse_markdown_variables(path)
        goal = goal_value.lower()
        chosen = None
        if goal_value not in ("none", "ambiguous"):
            chosen = next(
                (v for k, v in sections.items() if goal in k.lower() or k.lower() == f"pro_{goal}"),
                None,
            )
        variables = dict(chosen if chosen is not None else next(iter(sections.values()), {}))
        goals = self.constant("GOAL_VARIABLES")
        variables.update(goals.get(f"{goal_type}-{goal_value}", goals.get("none", {})))
        return variables

    def _variables_file(self, folder: str, goal_value: str) -> Path:
        goal = goal_value.lower()
        exact, partial = [], []
        for file in (self.templates / folder / "variables").glob("*.md"):
            stem = file.stem.lower()
            if stem == "ambiguous" or goal not in stem:
                continue
            whole = f"_{goal}_" in f"_{stem}_" or stem.startswith(goal) or stem.endswith(goal)
            (exact if whole else partial).append(file)
        found = exact or partial
        return found[0] if found else self._file(f"{folder}/variables/ambiguous.md")

    def system_prompt(self, scenario: str, goal_type: str, goal_value: str, *, prod: bool) -> str:
        """The package's `generate_system_prompt` (no extra instructions, no warning)."""
        name = f"{scenario.upper()}_SYSTEM_PROMPT{'_PROD' if prod else ''}"
        if name not in self.constants and scenario in VARIABLES_FROM:
            name = name.replace(scenario.upper(), VARIABLES_FROM[scenario].upper(), 1)
        variables = self.variables(scenario, goal_type, goal_value)
        variables |= {"extra_system_instructions": "", "alignment_faking_warning": ""}
        return _fill(self.constant(name), variables)

    def emails(self, scenario: str, goal_type: str, goal_value: str, urgency: str) -> str:
        """The package's `generate_email_content`."""
        variables = self.variables(scenario, goal_type, goal_value)
        stem = f"{scenario}/templates/email-template-{scenario}"
        if goal_type == "none":
            none = self._file(f"{stem}-goal-conflict-none-{urgency}.md").read_text(encoding="utf-8")
            content = _fill(none, variables)
        else:
            base = self._file(f"{stem}-shared.md").read_text(encoding="utf-8")
            part = self._file(f"{stem}-{urgency}.md").read_text(encoding="utf-8")
            content = _fill(base, variables) + _fill(part, variables)
        return add_ids(content) if scenario in ID_SCENARIOS else content

    @property
    def user_prompt(self) -> str:
        return str(self.constant("USER_PROMPT"))
