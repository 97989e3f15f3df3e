"""swarmdesign: design multi-agent LLM systems by search.

The public nouns are re-exported here; everything else is an implementation
detail of its module.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("swarmdesign")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

from swarmdesign.design import Coordination, Design, Provenance, Role, Topology
from swarmdesign.errors import SwarmdesignError

__all__ = ["Coordination", "Design", "Provenance", "Role", "SwarmdesignError", "Topology", "__version__"]
