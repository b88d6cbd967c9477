"""Temperature 0 through Inspect's ``hf/`` provider: greedy decoding.

Inspect's ``hf/`` provider calls ``generate(do_sample=True, temperature=...)`` unless the model
argument ``do_sample`` says otherwise, and transformers (5.x) refuses ``temperature=0`` while
sampling ("has to be a strictly positive float ... set do_sample=False"). Greedy decoding is
what temperature 0 means, so on the command line give both::

    inspect eval tasks/values_generalization/values_generalization.py --model hf/<dir> --temperature 0 -M do_sample=false

and inside the project use `model_args` below wherever a model is loaded for an evaluation with
a known temperature (the experiment runner does). transformers then ignores the temperature
(it logs that the flag is not used) and decodes greedily. Other providers are untouched.
"""

from __future__ import annotations

from typing import Any


def model_args(model: object, temperature: float | None, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """`args` plus ``do_sample=False`` for an ``hf/`` model string at temperature 0.

    A ``do_sample`` already given is kept (the caller asked for it)."""
    out = dict(args or {})
    if (temperature is not None and temperature == 0 and isinstance(model, str)
            and model.startswith("hf/") and "do_sample" not in out):
        out["do_sample"] = False
    return out
