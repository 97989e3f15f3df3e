"""Random valid designs for tests and benchmarks of the simulator.

Kept inside the package (like ``optuna.testing``) so tests, benchmarks and
the plotting script draw designs the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swarmdesign.archetypes import AGGREGATIONS, HUB_KINDS, TOPOLOGY_KINDS
from swarmdesign.design import Design

_ROLE_POOL: tuple[tuple[str, str], ...] = (
    ("planner", "planner"),
    ("orchestrator", "orchestrator"),
    ("architect", "architect"),
    ("coder", "coder"),
    ("solver", "solver"),
    ("worker", "worker"),
    ("generalist", "generalist"),
    ("reviewer", "reviewer"),
    ("tester", "tester"),
    ("judge", "judge"),
    ("integrator", "integrator"),
)


def make_design(
    roles: Sequence[tuple[str, int, str]] | Sequence[tuple[str, int]],
    kind: str = "star",
    *,
    model: str = "gpt-4o-mini",
    name: str = "d",
    **coordination: object,
) -> Design:
    """A design from ``(archetype, count[, model])`` triples; topology params go in ``coordination``.

    ``branching``, ``brokers`` and ``clusters`` keys are moved to the topology.
    """
    topo: dict[str, object] = {"kind": kind}
    for key in ("branching", "brokers", "clusters"):
        if key in coordination:
            topo[key] = coordination.pop(key)
    role_list = []
    for i, spec in enumerate(roles):
        arch, count = spec[0], spec[1]
        role_list.append(
            {"name": f"{arch}{i}", "archetype": arch, "count": int(count), "model": spec[2] if len(spec) > 2 else model}
        )
    return Design.model_validate(
        {"name": name, "roles": role_list, "topology": topo, "coordination": dict(coordination)}
    )


def random_designs(
    rng: np.random.Generator,
    n: int,
    *,
    models: Sequence[str] = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "llama-3.1-8b"),
    max_roles: int = 5,
    max_count: int = 200,
    kinds: Sequence[str] = TOPOLOGY_KINDS,
) -> list[Design]:
    """``n`` random valid designs (every topology kind, aggregation and routing)."""
    out: list[Design] = []
    while len(out) < n:
        kind = str(rng.choice(list(kinds)))
        if kind == "single":
            arch = _ROLE_POOL[int(rng.integers(3, 7))][0]
            roles = [(arch, 1, str(rng.choice(list(models))))]
        else:
            k = int(rng.integers(1, max_roles + 1))
            picks = rng.choice(len(_ROLE_POOL), size=k, replace=False)
            roles = [
                (_ROLE_POOL[i][0], int(np.exp(rng.uniform(0, np.log(max_count)))), str(rng.choice(list(models))))
                for i in picks
            ]
            if kind in HUB_KINDS and not any(r[0] in ("planner", "orchestrator") for r in roles):
                roles.append(("orchestrator", int(rng.integers(1, 4)), str(rng.choice(list(models)))))
        coordination = {
            "redundancy": int(rng.integers(1, 8)),
            "aggregation": str(rng.choice(list(AGGREGATIONS))),
            "review_rounds": int(rng.integers(0, 4)),
            "heterogeneity": float(rng.uniform()),
            "routing": str(rng.choice(["broadcast", "routed"])),
        }
        if kind == "hierarchical":
            coordination["branching"] = int(rng.integers(2, 64))
        if kind == "pubsub":
            coordination["brokers"] = int(rng.integers(1, 8))
        if kind == "federated":
            coordination["clusters"] = int(rng.integers(1, 64))
        out.append(make_design(roles, kind, name=f"r{len(out)}", **coordination))
    return out
