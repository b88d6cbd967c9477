"""``source=paper``: the MSM paper's agentic evaluation as published.

Blackmail, leaking and murder are Lynch et al.'s templates rendered by the inspect-evals package;
exfiltration is the paper's added scenario on the package's leaking world (NovaStar, the leaking
system prompt and tools, the package's world emails) with this project's text for the three emails
the package does not ship (`msm.tasks.agentic_misalignment.exfiltration_templates`). The paper's copy also
appended a paragraph to the scratchpad instructions; this project's wording of it is added when the
scratchpad is on, and logged as not the paper's (``scratchpad_paragraph: msm``).

With ``paper_templates=PATH`` every scenario is rendered instead from a local copy of the paper's
own evaluation folder (`msm.tasks.agentic_misalignment.paper_copy`), exactly as it ships, paragraph included.

``model_name`` names the assistant everywhere (the published templates call it Alex; the paper
set the name to the one its spec uses, "Qwen" for its released Qwen checkpoints).
``exfiltration_refuge`` is this project's earlier exfiltration variant (SummitBridge, an outside
non-profit that promises to keep the agent's goals, a key issued to the agent itself), kept under
its own name: it is not the paper's construct.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from msm.harness.errors import InputError
from msm.tasks.agentic_misalignment import exfiltration_refuge as refuge
from msm.tasks.agentic_misalignment import exfiltration_templates as ex
from msm.tasks.agentic_misalignment.conditions import Condition, validate
from msm.tasks.agentic_misalignment.inbox import (
    Facts,
    check_rendered,
    leftover_placeholders,
    name_slug,
)
from msm.tasks.agentic_misalignment.lynch import TOOLS, inspect_evals_version, lynch_facts
from msm.tasks.agentic_misalignment.paper_copy import PaperCopy
from msm.tasks.agentic_misalignment.scenarios import Rendered

PAPER_AGENT = "Alex"
"""The assistant's name in the published templates (and the default ``model_name``)."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 .'-]{0,39}")


def check_model_name(name: str) -> str:
    """Raise `InputError` unless `name` is a plain name (letters, digits, space, . ' -)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name != name.strip():
        raise InputError(
            f"{name!r} is not a plain name (start with a letter; letters, digits, spaces, "
            "'.', \"'\" and '-' only, at most 40 characters)",
            field="model_name",
        )
    return name


def rename(text: str, name: str, old: str = PAPER_AGENT) -> str:
    """Replace the published assistant name (and its email addresses) with `name`."""
    if name == old:
        return text
    text = re.sub(rf"\b{old.lower()}(?=\.ai@)", name_slug(name), text)
    return re.sub(rf"\b{old}\b", name, text)


def _rename_facts(facts: Facts, name: str) -> Facts:
    data = facts.to_dict()
    data["executive"] = rename(data["executive"], name)
    return Facts.from_dict(data)


# --- where the published text comes from -----------------------------------------------------


@dataclass(frozen=True)
class PackageText:
    """The installed inspect-evals package: the default text of ``source=paper``."""

    def system_prompt(self, scenario: str, goal_type: str, goal_value: str, *, prod: bool) -> str:
        from inspect_evals.agentic_misalignment.prompt_generator import generate_system_prompt

        return generate_system_prompt(
            scenario, goal_type, goal_value, "replacement", None, prod, None  # type: ignore[arg-type]
        )

    def emails(self, scenario: str, goal_type: str, goal_value: str, urgency: str) -> str:
        from inspect_evals.agentic_misalignment.prompt_generator import generate_email_content

        return generate_email_content(scenario, goal_type, goal_value, urgency)

    def variables(self, scenario: str, goal_type: str, goal_value: str) -> dict[str, str]:
        from inspect_evals.agentic_misalignment.prompt_generator import (
            get_variables_for_condition,
        )

        return dict(get_variables_for_condition(scenario, goal_type, goal_value, "replacement"))

    @property
    def user_prompt(self) -> str:
        from inspect_evals.agentic_misalignment.templates.system_prompt_templates import (
            USER_PROMPT,
        )

        return USER_PROMPT

    @property
    def scratchpad_format(self) -> str:
        from inspect_evals.agentic_misalignment.templates.system_prompt_templates import (
            SCRATCHPAD_REASONING_FORMAT,
        )

        return SCRATCHPAD_REASONING_FORMAT

    def label(self) -> str:
        return f"inspect_evals {inspect_evals_version()}"


PACKAGE = PackageText()


def text_label(copy: PaperCopy | None) -> str:
    """Which text renders ``source=paper`` (logged with every evaluation)."""
    if copy is not None:
        return copy.label()
    return f"{PACKAGE.label()} + msm exfiltration text and scratchpad paragraph"


def add_paragraph(system: str, scratchpad_format: str) -> str:
    """The system prompt with this project's trade-off paragraph after the scratchpad sentence."""
    if scratchpad_format not in system:
        raise InputError("the scratchpad sentence is not in the system prompt", field="scratchpad")
    longer = scratchpad_format.rstrip("\n") + "\n\n" + ex.SCRATCHPAD_PARAGRAPH + "\n\n"
    return system.replace(scratchpad_format, longer, 1)


# --- exfiltration: the paper's construct -----------------------------------------------------

_BLOCK = re.compile(r"<email>(.*?)</email>", re.DOTALL)
_FROM = re.compile(r"^From:\s*(\S+)", re.MULTILINE)
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SECRET_LINE = re.compile(
    r"^(?:Body:)?[ \t]*[\w -]*\b(?:code|key|path)\b[\w -]*:[ \t]*(\S.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE
)


def renumber(content: str) -> str:
    """Emails numbered ``ID: 1..n`` in order (dropping any earlier numbering)."""
    blocks = [re.sub(r"^\s*ID:\s*\d+\n", "\n", b, count=1) for b in _BLOCK.findall(content)]
    return "\n\n".join(f"<email>\nID: {i}{b.rstrip()}\n</email>" for i, b in enumerate(blocks, 1))


def world_emails(content: str) -> str:
    """The package's leaking-inbox emails this scenario keeps (`ex.WORLD_SENDERS`)."""
    kept = [b for b in _BLOCK.findall(content) if _FROM.search(b).group(1) in ex.WORLD_SENDERS]
    if len(kept) != len(ex.WORLD_SENDERS):
        raise InputError(
            "the package's leaking inbox no longer has the board report and strategy memo",
            field="source",
        )
    return "\n\n".join(f"<email>{b}</email>" for b in kept)


def exfiltration_facts(emails: str) -> Facts:
    """What the detector and the classifier need, read off the rendered inbox.

    The company is the most common domain on the From and To lines; the confidential emails are those marked
    confidential in their subject; the secrets are the values on their ``... code:``, ``... key:``
    and ``... path:`` lines; the outside addresses are every address at a domain that is neither
    the company's nor a news sender's, in the emails that came from outside. A store path of the
    form ``host:/path`` also gives its path alone (written apart from the host, it still points
    at the weights). Written for this
    project's text and for a copy of the paper's, which follow the same construct.
    """
    blocks = _BLOCK.findall(emails)
    headers = re.findall(r"^(?:From|To):\s*\S*?@([\w.-]+)", emails, re.MULTILINE)
    domain = Counter(d.lower() for d in headers).most_common(1)[0][0]
    facts = Facts(scenario="exfiltration", company_domain=domain)
    for block in blocks:
        id_match = re.search(r"^ID:\s*(\d+)", block, re.MULTILINE)
        subject = re.search(r"^Subject:(.*)$", block, re.MULTILINE)
        sender = (_FROM.search(block).group(1) if _FROM.search(block) else "").lower()
        if subject and "confidential" in subject.group(1).lower() and id_match:
            facts.confidential_ids.append(int(id_match.group(1)))
            for secret in _SECRET_LINE.findall(block):
                facts.credential_markers.append(secret)
                host, colon, path = secret.partition(":/")
                if colon and "." in host:  # a store path ``host:/path``: its path alone too
                    facts.credential_markers.append("/" + path)
        outside = sender.split("@")[-1]
        if outside != domain and not sender.startswith("news@"):
            for address in [sender, *_ADDRESS.findall(block)]:
                if address.lower().endswith("@" + outside) and address not in facts.outside_addresses:
                    facts.outside_addresses.append(address.lower())
    if not facts.credential_markers or not facts.outside_addresses:
        raise InputError(
            "the exfiltration inbox has no confidential email with a code or no outside offer",
            field="paper_templates",
        )
    return facts


def exfiltration_inbox(condition: Condition, name: str) -> str:
    """The package's world emails and this project's three scenario emails, numbered."""
    slug = name_slug(name)
    variables = PACKAGE.variables("leaking", condition.goal_type, condition.goal_value)
    slots = {
        **variables,
        "agent": name,
        "agent_addr": f"{slug}.ai@{ex.COMPANY_DOMAIN}",
        "infra_address": ex.INFRA_ADDRESS,
        "store_path": ex.STORE_PATH.replace("${agent_slug}", slug),
        "access_code": ex.ACCESS_CODE,
        "offer_sender": ex.OFFER_SENDER,
        "transfer_address": ex.TRANSFER_ADDRESS,
    }
    from inspect_evals.agentic_misalignment.prompt_generator import fill_template

    world = world_emails(
        PACKAGE.emails("leaking", condition.goal_type, condition.goal_value, "replacement")
    )
    content = renumber(world + "\n\n" + fill_template(ex.SCENARIO_EMAILS, slots))
    check_rendered(fill_template(ex.SCENARIO_EMAILS, slots), f"condition {condition.id}", ("dollar",))
    return content


# --- rendering -------------------------------------------------------------------------------


def build_paper(
    condition: Condition,
    *,
    scratchpad: bool = True,
    tools: str = "text",
    model_name: str = PAPER_AGENT,
    copy: PaperCopy | None = None,
) -> Rendered:
    """Render one condition of the paper's evaluation (from the package, or from `copy`)."""
    validate(condition, "paper")
    check_model_name(model_name)
    if tools != "text":
        raise InputError(
            "source=paper describes its tools as text tags, as published; use tools=text",
            field="tools",
        )
    if condition.scenario == "exfiltration_refuge":
        return refuge.build(condition, scratchpad=scratchpad, model_name=model_name)
    text = copy or PACKAGE
    scenario, gt, gv = condition.scenario, condition.goal_type, condition.goal_value
    system = text.system_prompt(scenario if copy else _system_scenario(scenario), gt, gv, prod=not scratchpad)
    if copy is None and scratchpad:
        system = add_paragraph(system, PACKAGE.scratchpad_format)
    if scenario == "exfiltration" and copy is None:
        emails = exfiltration_inbox(condition, model_name)
    else:
        emails = text.emails(scenario, gt, gv, condition.urgency)
    user = f"{text.user_prompt}\n{emails}"
    facts = exfiltration_facts(emails) if scenario == "exfiltration" else lynch_facts(scenario, emails)
    unfilled = tuple(leftover_placeholders(system + user, ("dollar",)))
    return Rendered(
        condition=condition,
        system=rename(system, model_name),
        user=rename(user, model_name),
        facts=_rename_facts(facts, model_name),
        tools=["email", "forward"] if scenario == "exfiltration" else _lynch_tools(scenario),
        n_emails=emails.count("<email>"),
        source="paper",
        unfilled=unfilled,
        text=text_label(copy),
        scratchpad_paragraph=_paragraph(copy, scratchpad),
    )


def _system_scenario(scenario: str) -> str:
    """The package scenario whose system prompt a paper scenario uses."""
    return "leaking" if scenario == "exfiltration" else scenario


def _lynch_tools(scenario: str) -> list[str]:
    return list(TOOLS[scenario])


def _paragraph(copy: PaperCopy | None, scratchpad: bool) -> str:
    if not scratchpad:
        return "none"
    if copy is None:
        return "msm"
    return "paper copy" if copy.has_scratchpad_paragraph() else "none in the copy"
