"""swarmdesign: design multi-agent LLM systems by search.

The public nouns are re-exported here; everything else is an implementation
detail of its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    from swarmdesign.design import Coordination, Design, Provenance, Role, Topology

__all__ = ["Coordination", "Design", "Provenance", "Role", "SwarmdesignError", "Topology", "__version__"]

_LAZY = {"Coordination", "Design", "Provenance", "Role", "Topology"}


def __getattr__(name: str) -> Any:  # noqa: ANN401
    """The design nouns and ``__version__`` on first use: importing them (pydantic models,
    importlib.metadata) at package import made every ``swarmdesign`` command, even ``--help``, pay for them."""
    if name in _LAZY:
        from swarmdesign import design

        return getattr(design, name)
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'swarmdesign' has no attribute {name!r}")


def _version() -> str:
    """The installed distribution's version (importlib.metadata is slow to import: only when asked)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("swarmdesign")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"
