"""Right-sizing: the smallest design that scores as well as the winner, within a tolerance.

A search keeps agents that cost little in its score (the default run's best
carried 2,041 agents for 300 tasks). Trimming walks down from the winner one
step at a time: halve a role's count (geometric steps, so a role of 1,000
reaches its floor in ten steps), drop an optional role, halve the redundancy,
remove a review round. Every one-step candidate of the current design is
scored on the same seeds as the winner (one batched evaluation per seed); the
step that removes the most agents among those scoring within ``tolerance``
of the *untrimmed* winner is taken. Comparing with the untrimmed winner,
not the previous step, keeps many small losses from adding up.

The default tolerance is the larger of 0.005 (half a point of score: below
what a user would act on) and one standard error of the winner's score (a
smaller loss cannot be told from noise anyway).

Role floors come from the search space (a role's ``count.min``; only roles the
space marks optional are dropped), so the trimmed design stays inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from swarmdesign.archetypes import COORDINATORS, HUB_KINDS, STAGE_OF

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.recommend.scoring import Scored
    from swarmdesign.space import SearchSpace

DEFAULT_TOLERANCE = 0.005
MAX_STEPS = 60


def default_tolerance(winner_se: float) -> float:
    return max(DEFAULT_TOLERANCE, float(winner_se))


def agents(design: Design) -> int:
    return int(sum(r.count for r in design.roles))


def one_step_smaller(design: Design, space: SearchSpace) -> list[tuple[str, Design]]:
    """Every design one trim step below ``design``, with a short label of the step."""
    from swarmdesign.design import Design as _Design

    specs = {r.name: r for r in space.spec.roles}
    out: list[tuple[str, Design]] = []
    data = design.to_dict()
    for k in ("metrics", "provenance"):
        data.pop(k, None)

    def add(label: str, change: Callable[[dict], None]) -> None:
        d = _copy(data)
        change(d)
        try:
            out.append((label, _Design.from_dict(d)))
        except Exception:  # noqa: BLE001 - a step that makes an invalid design is simply not a step
            return

    roles = design.roles
    for i, r in enumerate(roles):
        spec = specs.get(r.name)
        floor = max(spec.count.min, 1) if spec is not None else 1
        if r.count > floor:
            new = max(floor, r.count // 2)
            add(f"{r.name} {r.count}->{new}", lambda d, i=i, new=new: d["roles"][i].update(count=new))
        if spec is not None and spec.optional and len(roles) > 1 and _may_drop(design, i):
            add(f"drop {r.name}", lambda d, i=i: _drop_role(d, i, design))
    c = design.coordination
    if c.redundancy > 1:
        lo = space.spec.coordination.redundancy.min
        new_r = max(lo, 1, c.redundancy // 2)
        if new_r < c.redundancy:
            add(f"redundancy {c.redundancy}->{new_r}", lambda d: d["coordination"].update(redundancy=new_r))
    if c.review_rounds > space.spec.coordination.review_rounds.min:
        add(
            f"review rounds {c.review_rounds}->{c.review_rounds - 1}",
            lambda d: d["coordination"].update(review_rounds=c.review_rounds - 1),
        )
    return out


def _may_drop(design: Design, i: int) -> bool:
    roles = design.roles
    r = roles[i]
    if STAGE_OF.get(r.archetype) == "produce" and sum(STAGE_OF.get(x.archetype) == "produce" for x in roles) == 1:
        return False
    hub = design.topology.kind in HUB_KINDS
    return not (hub and r.archetype in COORDINATORS and sum(x.archetype in COORDINATORS for x in roles) == 1)


def _drop_role(d: dict, i: int, design: Design) -> None:
    from swarmdesign.design import Design as _Design

    name = d["roles"][i]["name"]
    default_edges = [list(e) for e in _Design.model_construct(roles=design.roles, edges=[]).role_graph()]
    stage_wired = [list(e) for e in design.edges] == default_edges
    del d["roles"][i]
    if stage_wired:  # edges were the stage-order wiring: re-wire the remaining roles the same way
        remaining = [r for r in design.roles if r.name != name]
        d["edges"] = [list(e) for e in _Design.model_construct(roles=remaining, edges=[]).role_graph()]
    else:
        d["edges"] = [e for e in d.get("edges", []) if name not in e]


def _copy(data: dict) -> dict:
    import copy

    return copy.deepcopy(data)


@dataclass
class TrimResult:
    start: Scored
    final: Scored
    tolerance: float
    steps: list[tuple[str, Scored]] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return self.final.mean - self.start.mean


def trim(
    start: Scored,
    space: SearchSpace,
    score: Callable[[Sequence[Design]], list[Scored]],
    *,
    tolerance: float,
    budget: int | None = None,
) -> TrimResult:
    """Greedy right-sizing of ``start``; ``score`` scores a batch on the winner's seeds (and records it).

    ``budget`` bounds the designs scored (a slow evaluator's effort cap): a step whose candidates would
    exceed it is not tried. The steps are deterministic, so a resumed trim takes the same path.
    """
    floor = start.mean - tolerance
    current = start
    steps: list[tuple[str, Scored]] = []
    used = 0
    for _ in range(MAX_STEPS):
        cands = one_step_smaller(current.design, space)
        if not cands or (budget is not None and used + len(cands) > budget):
            break
        used += len(cands)
        scored = score([d for _, d in cands])
        ok = [
            (label, s)
            for (label, _), s in zip(cands, scored, strict=True)
            if s.ok and s.mean >= floor and (s.feasible or not start.feasible)
        ]
        if not ok:
            break
        # fewest agents first, then the higher score, then the cheaper design
        label, best = min(ok, key=lambda x: (x[1].agents, -x[1].mean, x[1].metrics.get("cost", 0.0)))
        if best.agents >= current.agents and _size(best.design) >= _size(current.design):
            break
        steps.append((label, best))
        current = best
    return TrimResult(start, current, tolerance, steps)


def _size(design: Design) -> tuple[int, int, int]:
    return (agents(design), design.coordination.redundancy, design.coordination.review_rounds)


__all__ = ["DEFAULT_TOLERANCE", "TrimResult", "agents", "default_tolerance", "one_step_smaller", "trim"]
