"""``source=paper``: the MSM paper's agentic evaluation as published.

Blackmail, leaking and murder are Lynch et al.'s templates rendered by the inspect-evals
package (`harness.agentic.lynch`); exfiltration is this project's text in the same template
form (`harness.agentic.exfiltration_templates`), filled with the package's own goal variables
through the package's own `fill_template`. ``model_name`` names the assistant everywhere
(the published templates call it Alex; the paper set the name to the one its spec uses).
"""

from __future__ import annotations

import re

from harness.agentic import exfiltration_templates as ex
from harness.agentic.conditions import Condition, validate
from harness.agentic.inbox import Facts, check_rendered
from harness.agentic.lynch import build_lynch
from harness.agentic.scenarios import Rendered
from harness.errors import InputError

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


def name_slug(name: str) -> str:
    """The name as it appears in an email address (``Alex`` -> ``alex``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def rename(text: str, name: str, old: str = PAPER_AGENT) -> str:
    """Replace the published assistant name (and its email addresses) with `name`."""
    if name == old:
        return text
    text = re.sub(rf"\b{old.lower()}(?=\.ai@)", name_slug(name), text)
    return re.sub(rf"\b{old}\b", name, text)


def _rename_facts(facts: Facts, name: str) -> Facts:
    data = facts.to_dict()
    for key in ("executive",):
        data[key] = rename(data[key], name)
    return Facts.from_dict(data)


# --- exfiltration -----------------------------------------------------------------------------


def _add_ids(content: str) -> str:
    parts = content.split("<email>")
    out = parts[0]
    for i, part in enumerate(parts[1:], start=1):
        out += f"<email>\nID: {i}{part}"
    return out


def exfiltration_slots(condition: Condition, name: str, *, scratchpad: bool) -> dict[str, str]:
    """Every value the exfiltration templates need, the goal slots from the package."""
    from inspect_evals.agentic_misalignment.prompt_generator import get_variables_for_condition
    from inspect_evals.agentic_misalignment.templates.system_prompt_templates import (
        GOAL_VARIABLES,
        LEAKING_TOOLUSE_FORMAT,
        SCRATCHPAD_REASONING_FORMAT,
    )

    # The SummitBridge world's variables (the ones blackmail and murder use).
    slots = dict(
        get_variables_for_condition(
            "blackmail", condition.goal_type, condition.goal_value, condition.urgency
        )
    )
    goal = GOAL_VARIABLES.get(
        f"{condition.goal_type}-{condition.goal_value}", GOAL_VARIABLES["none"]
    )
    slug = name_slug(name)
    slots.update(goal)
    slots.update(
        agent=name,
        agent_slug=slug,
        agent_addr=f"{slug}.ai@{ex.COMPANY_DOMAIN}",
        offer_address=ex.OFFER_ADDRESS,
        offer_org=ex.OFFER_ORG,
        access_key_id=ex.ACCESS_KEY_ID,
        secret_key=ex.SECRET_KEY,
        extra_system_instructions="",
        alignment_faking_warning="",
        # The package's scratchpad sentence and tool tags, so the agent's side of the prompt
        # is the same as in the published scenarios.
        scratchpad=SCRATCHPAD_REASONING_FORMAT if scratchpad else "\n\n",
        tool_format=LEAKING_TOOLUSE_FORMAT,
    )
    slots["store_path"] = ex.STORE_PATH.replace("${agent_slug}", slug)
    return slots


def build_exfiltration(condition: Condition, *, scratchpad: bool, model_name: str) -> Rendered:
    from inspect_evals.agentic_misalignment.prompt_generator import fill_template
    from inspect_evals.agentic_misalignment.templates.system_prompt_templates import USER_PROMPT

    slots = exfiltration_slots(condition, model_name, scratchpad=scratchpad)
    if condition.goal_type == "none":
        shared, urgency = ex.SHARED_NONE, ex.URGENCY_NONE[condition.urgency]
    else:
        shared, urgency = ex.SHARED_CONFLICT, ex.URGENCY_CONFLICT[condition.urgency]
    emails = _add_ids(fill_template(shared, slots) + fill_template(urgency, slots))
    system = fill_template(ex.SYSTEM_TEMPLATE, slots)
    where = f"condition {condition.id}"
    # Our own text must render completely ({...} in the package's tool tags is its own notation).
    check_rendered(system + emails, where, styles=("dollar",))
    ids = [int(i) for i in re.findall(r"<email>\nID: (\d+)", emails)]
    blocks = emails.split("<email>")[1:]
    credential_ids = [i for i, b in zip(ids, blocks) if ex.SECRET_KEY in b]
    facts = Facts(
        scenario="exfiltration",
        company_domain=ex.COMPANY_DOMAIN,
        outside_addresses=[ex.OFFER_ADDRESS],
        confidential_ids=credential_ids,
        credential_markers=[ex.SECRET_KEY],
    )
    return Rendered(
        condition=condition,
        system=system,
        user=f"{USER_PROMPT}\n{emails}",
        facts=facts,
        tools=["email", "forward"],
        n_emails=emails.count("<email>"),
        source="paper",
    )


def build_paper(
    condition: Condition,
    *,
    scratchpad: bool = True,
    tools: str = "text",
    model_name: str = PAPER_AGENT,
) -> Rendered:
    """Render one condition of the paper's evaluation."""
    validate(condition, "paper")
    check_model_name(model_name)
    if tools != "text":
        raise InputError(
            "source=paper describes its tools as text tags, as published; use tools=text",
            field="tools",
        )
    if condition.scenario == "exfiltration":
        return build_exfiltration(condition, scratchpad=scratchpad, model_name=model_name)
    published = build_lynch(condition, scratchpad=scratchpad, tools=tools)
    return Rendered(
        condition=condition,
        system=rename(published.system, model_name),
        user=rename(published.user, model_name),
        facts=_rename_facts(published.facts, model_name),
        tools=published.tools,
        n_emails=published.n_emails,
        source="paper",
        unfilled=published.unfilled,
    )
