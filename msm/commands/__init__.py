"""The `msm` subcommands, grouped by what they drive; `msm.cli` loads each module only when its command runs."""

from __future__ import annotations

from msm.harness.errors import InputError


def role_model(values: tuple[str, ...], role: str, earlier: str | None = None) -> str | None:
    """The model of `role` from Inspect-style ``--model-role ROLE=MODEL`` values (a command's
    earlier option, `earlier`, still counts); another role or a value without ``=`` is one line."""
    model = earlier
    for value in values:
        name, sep, given = value.partition("=")
        if not sep or not given or name != role:
            raise InputError(f"expected {role}=MODEL, got '{value}'", field="--model-role")
        model = given
    return model
