"""Entry point for a training stage under ``accelerate launch`` (used by the experiment runner).

``accelerate launch [opts] -m msm.training._launch midtrain CONFIG.json`` loads the stage config
written by the runner and calls the stage's entry function in every process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Run one training stage from its config file (``midtrain`` or ``aft`` and the path): what `accelerate launch` starts in each process."""
    kind, config_file = (argv if argv is not None else sys.argv[1:])[:2]
    if kind == "midtrain":
        from msm.training.midtrain import MidtrainConfig as Config
        from msm.training.midtrain import midtrain as fn
    elif kind == "aft":
        from msm.training.aft import AFTConfig as Config
        from msm.training.aft import aft as fn
    else:
        raise SystemExit(f"training._launch: unknown stage '{kind}' (midtrain or aft)")
    fn(Config.model_validate(json.loads(Path(config_file).read_text())))


if __name__ == "__main__":
    main()
