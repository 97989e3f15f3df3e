"""Mermaid flowchart of a Design: roles with their counts, hand-offs and loops.

Mermaid renders on GitHub, in Jupyter (through the HTML report) and in most
Markdown viewers. The diagram is always role-level — a role with 10^6 agents
is one box saying ``×1000000`` — so it needs no agent cap.

Node ids are generated (``r0``, ``r1``, ...) rather than derived from role
names, because Mermaid treats words such as ``end`` specially; every label
character outside a small safe set is written as a Mermaid entity code
(``#34;``), so no role name can break out of its label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.export.plan import wiring

if TYPE_CHECKING:
    from pathlib import Path

    from swarmdesign.design import Design

FILE_NAME = "design.mmd"
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:_-+/×·")
_HUB_SHAPE = ("{{", "}}")
_ROLE_SHAPE = ("[", "]")


def _label(text: str) -> str:
    """Quote ``text`` for a Mermaid label: unsafe characters become ``#<code>;`` entities."""
    return "".join(ch if ch in _SAFE else f"#{ord(ch)};" for ch in text)


def to_mermaid(design: Design) -> str:
    """The Mermaid ``flowchart`` text of ``design`` (used by the HTML report too).

    Inactive roles (count 0) are drawn dashed and unconnected; loop edges are
    dotted and labelled with how many rounds they may run.
    """
    forward, loops, rounds = wiring(design)
    ids = {r.name: f"r{i}" for i, r in enumerate(design.roles)}
    topology = design.topology
    params = ", ".join(f"{k}={v}" for k, v in topology.params().items())
    title = f"{design.name} · {topology.kind}" + (f" ({params})" if params else "")
    lines = [
        "---",
        f'title: "{_label(title)}"',
        "---",
        "flowchart LR",
    ]
    for role in design.roles:
        hub = topology.kind in HUB_KINDS and role.archetype in ("planner", "orchestrator")
        left, right = _HUB_SHAPE if hub else _ROLE_SHAPE
        text = f"{role.name}<br/>{role.archetype} ×{role.count}<br/>{role.model}"
        label = "<br/>".join(_label(part) for part in text.split("<br/>"))
        lines.append(f'    {ids[role.name]}{left}"{label}"{right}')
    coordination = design.coordination
    fan_in = f"|{_label(coordination.aggregation)}|" if coordination.redundancy > 1 else ""
    for src, dst in forward:
        lines.append(f"    {ids[src]} -->{fan_in} {ids[dst]}")
    for src, dst in loops:
        lines.append(f"    {ids[src]} -. {_label(f'revise ×{rounds}')} .-> {ids[dst]}")
    inactive = [ids[r.name] for r in design.roles if r.count == 0]
    if inactive:
        lines.append("    classDef inactive stroke-dasharray: 4 4,opacity:0.6")
        lines.append(f"    class {','.join(inactive)} inactive")
    notes = []
    if coordination.redundancy > 1:
        notes.append(f"redundancy {coordination.redundancy} ({coordination.aggregation})")
    if coordination.review_rounds:
        notes.append(f"review rounds {coordination.review_rounds}")
    if coordination.heterogeneity:
        notes.append(f"heterogeneity {coordination.heterogeneity:g}")
    if coordination.routing != "broadcast":
        notes.append(f"routing {coordination.routing}")
    if notes:
        lines.append(f'    coordination["{_label(" · ".join(notes))}"]:::note')
        lines.append("    classDef note fill:#fff8dc,stroke:#c8b560")
    return "\n".join(lines) + "\n"


def export(design: Design, out_dir: Path, *, max_agents: int, role_level: bool) -> list[Path]:
    """Write ``design.mmd``; the diagram is role-level whatever the size, so no cap applies."""
    del max_agents, role_level
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_text(to_mermaid(design), encoding="utf-8")
    return [path]
