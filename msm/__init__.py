"""msm-harness under one import root: ``msm.harness``, ``msm.tasks`` and ``msm.training`` are the
checkout's ``harness/``, ``tasks/`` and ``training/`` folders, and ``msm.specs`` and
``msm.experiments`` its ``specs/`` and ``experiments/`` (shipped as data, read through
`importlib.resources`). A built wheel installs them inside ``msm/`` (pyproject's
``package-dir``); an editable install maps them with setuptools' finder. Run from a checkout
without an install (``PYTHONPATH=.``), the folders sit beside this package, so the checkout's
root is added to this package's search path: then ``msm.harness`` is found there, as a
namespace package's portions are. Also the namespace for Inspect's ``msm/<task>`` names.
"""

from pathlib import Path as _Path

_HERE = _Path(__file__).resolve().parent
_CHECKOUT = _HERE.parent
if not (_HERE / "harness").is_dir() and (_CHECKOUT / "harness" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))
