"""Importing litellm the one safe way: offline price map, no telemetry, clear error when missing.

litellm takes ~3 s to import and, unless told otherwise, fetches its price
map from the network at import time; every module of this package goes
through :func:`import_litellm` so neither happens by accident.
"""

from __future__ import annotations

import os
from types import ModuleType

from swarmdesign.errors import SwarmdesignError

#: litellm releases that shipped malware; refuse to run on them.
COMPROMISED_VERSIONS = frozenset({"1.82.7", "1.82.8"})


def import_litellm() -> ModuleType:
    """Return the litellm module, configured for offline cost accounting."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    try:
        from importlib.metadata import version

        installed = version("litellm")
    except Exception:
        installed = None
    if installed is None:
        raise SwarmdesignError("litellm is not installed; expected `pip install 'swarmdesign[llm]'`", field="evaluator")
    if installed in COMPROMISED_VERSIONS:
        raise SwarmdesignError(
            f"litellm {installed} is a known compromised release; expected any other version (>=1.83)",
            field="evaluator",
        )
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm
