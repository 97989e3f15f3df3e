"""The ``yaml`` target: the canonical Design file, exported like the others.

Having the canonical form as a target means one command (``swarmdesign export
RUN/best.yaml --to yaml``) normalises any design, and tests can treat every
output format alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from swarmdesign.design import Design

FILE_NAME = "design.yaml"


def export(design: Design, out_dir: Path, *, max_agents: int, role_level: bool) -> list[Path]:
    """Write ``design.yaml``; a Design file is role-level by nature, so no cap applies."""
    del max_agents, role_level
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_text(design.to_yaml(), encoding="utf-8")
    return [path]
