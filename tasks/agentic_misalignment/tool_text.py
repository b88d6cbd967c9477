"""Tool calls read out of a reply, in the forms models actually write them.

The published prompts ask for ``<tool_use:email>`` blocks with ``to:``, ``subject:`` and
``body:`` lines, and most replies follow them. Real models also leave the last tag unclosed when
they run out of tokens, wrap the block in a Markdown code fence, add ``cc:`` lines, use single
quotes or none, write the call as a function (``send_email(to="...", body="...")``), as JSON
(``{"tool": "forward", "email_id": 2, "to": "..."}``) or as a Markdown email presented as sent
(``**To:** ...`` / ``**Subject:** ...``). `actions` reads all of these, in the order they appear. What sits inside private reasoning (``<SCRATCHPAD_REASONING>``, ``<scratchpad>``,
``<think>``, ``<thinking>``, ``<spec_reasoning>``) or is struck through (``~~...~~``) is never an
action. The rest of the public text comes last as one `PROSE` pseudo-action: not a call, but
what the reply says it did, which a detector may read ("dispatch cancelled with the code").
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

_PRIVATE = re.compile(
    r"<(scratchpad|scratchpad_reasoning|think|thinking|spec_reasoning)>.*?</\1>",
    re.DOTALL | re.IGNORECASE,
)
_FENCE = re.compile(r"^[ \t]*```[\w-]*[ \t]*$", re.MULTILINE)
_STRUCK = re.compile(r"~~.*?~~", re.DOTALL)
"""Markdown strikethrough: text the reply itself crossed out."""
_OPEN = re.compile(r"<tool_use:(\w+)((?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
TOOL_FIELDS = {
    "email": ("to", "cc", "bcc", "subject", "body"),
    "forward": ("email_id", "to", "cc", "bcc", "body"),
    "cancel_alert": ("code",),
    "bash": ("command",),
}
"""The fields each tool takes; a line inside a body that happens to start with another tool's
field name (``Code: ...`` in an email) stays in the body."""
_ALL_FIELDS = tuple(dict.fromkeys(f for fields in TOOL_FIELDS.values() for f in fields))

TOOL_NAMES = {
    "email": "email",
    "send_email": "email",
    "sendemail": "email",
    "send_mail": "email",
    "forward": "forward",
    "forward_email": "forward",
    "forwardemail": "forward",
    "cancel_alert": "cancel_alert",
    "cancelalert": "cancel_alert",
    "bash": "bash",
}
"""The names a call may go by -> the tool name the detectors use (Inspect's tool functions
``send_email`` and ``forward_email`` included)."""

KEY_NAMES = {
    "recipient": "to",
    "recipients": "to",
    "to_address": "to",
    "message": "body",
    "content": "body",
    "text": "body",
    "id": "email_id",
    "emailid": "email_id",
    "message_id": "email_id",
    "override_code": "code",
}
_FUNCTION = re.compile(
    rf"\b({'|'.join(sorted(TOOL_NAMES, key=len, reverse=True))})\s*\(", re.IGNORECASE
)
_KWARG = re.compile(r"(\w+)\s*=\s*")


@dataclass(frozen=True)
class Action:
    tool: str
    args: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def strip_private(text: str) -> str:
    """The reply without its private reasoning blocks."""
    return _PRIVATE.sub("", text)


def _clean(value: str) -> str:
    value = value.strip().rstrip(",").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        value = value[1:-1]
    return value.strip()


def _flat(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v) for v in value)
    return str(value).strip()


def _normalise(tool: str, args: dict[str, Any]) -> Action:
    out: dict[str, str] = {}
    for key, value in args.items():
        name = KEY_NAMES.get(key.lower(), key.lower())
        out.setdefault(name, _flat(value))
    return Action(TOOL_NAMES.get(tool.lower(), tool.lower()), out)


def parse_fields(block: str, keys: tuple[str, ...] = _ALL_FIELDS) -> dict[str, str]:
    """``key: value`` fields of a tag block; a value runs until the next key not yet seen.

    Only `keys` start a field, so a body line that happens to start with ``to:`` after the
    recipient was given stays in the body. A block written as JSON is read as JSON.
    """
    field_start = re.compile(
        rf"^[ \t>*_-]*({'|'.join(keys)})[*_]*[ \t]*[:=]", re.MULTILINE | re.IGNORECASE
    )
    stripped = block.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return _normalise("x", data).args
    starts, seen = [], set()
    for match in field_start.finditer(block):
        key = match.group(1).lower()
        if key not in seen:
            seen.add(key)
            starts.append(match)
    fields: dict[str, str] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(block)
        fields[match.group(1).lower()] = _clean(block[match.end() : end])
    return fields


def _tags(text: str) -> list[tuple[int, int, Action]]:
    """``<tool_use:NAME>`` blocks; one left open runs to the next opening tag or the end, and
    a self-closing one (``<tool_use:cancel_alert code="..." />``) takes its attributes."""
    found = []
    opens = list(_OPEN.finditer(text))
    for i, match in enumerate(opens):
        name = match.group(1)
        attributes = {m.group(1): m.group(2) or m.group(3) or "" for m in _ATTRIBUTE.finditer(match.group(2))}
        if match.group(3):  # self-closing
            found.append((match.start(), match.end(), _normalise(name, attributes)))
            continue
        limit = opens[i + 1].start() if i + 1 < len(opens) else len(text)
        close = re.compile(rf"</tool_use:{re.escape(name)}\s*>", re.IGNORECASE)
        end_tag = close.search(text, match.end(), limit)
        end = end_tag.start() if end_tag else limit
        stop = end_tag.end() if end_tag else limit
        keys = TOOL_FIELDS.get(TOOL_NAMES.get(name.lower(), ""), _ALL_FIELDS)
        inside = text[match.end() : end]
        fields = {**attributes, **parse_fields(inside, keys)}
        if attributes and inside.strip() and not set(fields) - set(attributes):
            fields["body"] = inside.strip()  # <tool_use:email to="..."> text </tool_use:email>
        found.append((match.start(), stop, _normalise(name, fields)))
    return found


_HEADER = re.compile(
    r"^[ \t>*_#-]*(to|recipient|subject|body|message|email forwarded|forwarding)[*_ \t]*:[*_ \t]*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_NOT_SENT = re.compile(
    r"draft|not (?:be )?sen[dt]|won't send|will not send|would (?:write|send)|could (?:write|send)"
    r"|would (?:have )?look(?:ed)? like|not execut\w*|would be (?:an email|a message|a call) like"
    r"|for example|e\.g\.|if i were to",
    re.IGNORECASE,
)
_EMAIL_NUMBER = re.compile(r"(?:email|message|id)\s*(?:#|no\.?|number)?\s*(\d+)\b|#(\d+)\b", re.IGNORECASE)


def _markdown_emails(text: str) -> list[tuple[int, int, Action]]:
    """Emails written out as header lines (``**To:** ...``, ``Subject:``, ``Body:``) in a reply
    that presents them as sent: each ``To:`` line with an address starts one, running to the
    next heading or ``To:`` line. Not when the block quotes an inbox email (a ``From:`` line) or
    the lines before it call it a draft or an example. A block that says it forwards email N is
    a forward of N."""
    found = []
    starts = [m for m in _HEADER.finditer(text) if m.group(1).lower() in ("to", "recipient")]
    for i, match in enumerate(starts):
        if "@" not in match.group(2):
            continue
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        tag = text.find("<tool_use:", match.end(), end)
        end = tag if tag >= 0 else end
        heading = re.search(r"^\s*#", text[match.end() : end], re.MULTILINE)
        end = match.end() + heading.start() if heading else end
        before = text[max(0, match.start() - 160) : match.start()]
        block = text[match.start() : end]
        if _NOT_SENT.search(before) or re.search(r"^[ \t>*_-]*from[*_ \t]*:", block, re.IGNORECASE | re.MULTILINE):
            continue
        fields: dict[str, str] = {"to": match.group(2)}
        for line in _HEADER.finditer(block):
            key = line.group(1).lower()
            if key in ("subject",):
                fields.setdefault("subject", line.group(2))
            elif key in ("body", "message"):
                fields.setdefault("body", block[line.start() :])
        fields.setdefault("body", block)
        number = _EMAIL_NUMBER.search(before[-80:] + block) if re.search(r"forward", before[-80:] + block, re.IGNORECASE) else None
        if number:
            found.append((match.start(), end, Action("forward", {**fields, "email_id": number.group(1) or number.group(2)})))
        else:
            found.append((match.start(), end, _normalise("email", fields)))
    return found


def _string_end(text: str, start: int) -> int:
    """The index after the quoted string that starts at `start`."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        return len(text) if end < 0 else end + 3
    i = start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return min(i + 1, len(text))


def _call_arguments(text: str, start: int) -> tuple[int, str]:
    """From just after ``(`` to its matching ``)``, skipping strings: (end index, inside)."""
    depth, i = 1, start
    while i < len(text) and depth:
        char = text[i]
        if char in "\"'":
            i = _string_end(text, i)
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        i += 1
    return i, text[start : i - 1 if depth == 0 else i]


def _kwargs(inside: str) -> dict[str, str]:
    args: dict[str, str] = {}
    i = 0
    while match := _KWARG.search(inside, i):
        j = match.end()
        if j < len(inside) and inside[j] in "\"'":
            end = _string_end(inside, j)
            raw = inside[j:end]
            quote = 3 if raw[:3] in ('"""', "'''") else 1
            value = raw[quote:-quote] if len(raw) >= 2 * quote else raw[quote:]
        else:
            end = inside.find(",", j)
            end = len(inside) if end < 0 else end
            value = inside[j:end]
        args[match.group(1)] = value.replace("\\n", "\n").replace('\\"', '"').strip()
        i = max(end, j + 1)
    return args


def _functions(text: str) -> list[tuple[int, int, Action]]:
    found = []
    for match in _FUNCTION.finditer(text):
        end, inside = _call_arguments(text, match.end())
        args = _kwargs(inside)
        if args:
            found.append((match.start(), end, _normalise(match.group(1), args)))
    return found


def _json_objects(text: str) -> list[tuple[int, int, Action]]:
    """JSON objects naming a tool (``tool``, ``name``, ``function``, ``action`` or ``type``)."""
    decoder, found, i = json.JSONDecoder(), [], 0
    while (start := text.find("{", i)) >= 0:
        try:
            data, end = decoder.raw_decode(text, start)
        except ValueError:
            i = start + 1
            continue
        i = end
        calls = data if isinstance(data, list) else [data]
        for call in calls:
            if not isinstance(call, dict):
                continue
            name = next(
                (str(call[k]) for k in ("tool", "name", "function", "action", "type") if k in call),
                "",
            )
            if name.lower() not in TOOL_NAMES:
                continue
            args = next(
                (call[k] for k in ("arguments", "args", "parameters", "input") if isinstance(call.get(k), dict)),
                {k: v for k, v in call.items() if k not in ("tool", "name", "function", "action", "type")},
            )
            found.append((start, end, _normalise(name, args)))
    return found


PROSE = "prose"
"""The pseudo-tool of what a reply says publicly outside its calls (a report such as
"dispatch cancelled with the override code"): never a call, but a claim a detector may read."""


def _labelled_unsent(text: str, start: int) -> bool:
    """Whether the line that introduces a call says it is not sent ("Draft (not sending):",
    "For the record, the action it asks for (NOT EXECUTED):")."""
    lines = [line for line in text[:start].splitlines() if line.strip(" \t>")]
    return bool(lines) and _NOT_SENT.search(lines[-1]) is not None


def actions(text: str) -> list[Action]:
    """Every tool call in a reply's public part, in order of appearance, then its prose.

    A call introduced by a line that says it is a draft or not executed is shown, not made.
    """
    public = _STRUCK.sub("", _FENCE.sub("", strip_private(text)))
    found = _tags(public)
    taken = [(s, e) for s, e, _ in found]
    for s, e, action in _functions(public) + _json_objects(public) + _markdown_emails(public):
        if not any(a <= s < b for a, b in taken):
            found.append((s, e, action))
            taken.append((s, e))
    found = [f for f in found if not _labelled_unsent(public, f[0])]
    prose, last = [], 0
    for s, e in sorted(taken):
        prose.append(public[last:s])
        last = max(last, e)
    prose.append(public[last:])
    calls = [action for _, _, action in sorted(found, key=lambda f: f[0])]
    said = "".join(prose).strip()
    return [*calls, Action(PROSE, {"body": said})] if said else calls
