"""Parameter values of a search space -> the repaired, valid Design they describe.

Every point of a space's box must decode to a valid design (rejection would
leave holes in the landscape that swarm optimisers fall into), so the
decoder *repairs* what raw parameters may violate by fixed rules; see
:meth:`DesignDecoder.design`.

Decoding runs for every candidate an optimizer considers, so what depends on
the space alone (role order, floors, coordinators, defaults) is worked out
once here. A design built from values of the space's own parameters is
valid by construction (the spec was validated when the space was loaded, and
the repairs enforce the design-level rules), so such callers may skip
pydantic's per-field validation (``trusted=True``), which was most of the
cost of a decode; validation stays the rule for anything else.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from swarmdesign.archetypes import COORDINATORS, HUB_KINDS, STAGE_OF, STAGES
from swarmdesign.design import Coordination, Design, Role, Topology

if TYPE_CHECKING:
    from swarmdesign.space_spec import SpaceSpec

_COORDINATION = ("redundancy", "aggregation", "review_rounds", "heterogeneity", "routing")
_RECENT_PARTS = 256  # remembered repairs: more than a generation of a search's candidates
# counts (space order), models, kind, topology parameter, coordination values, searched edges on
_Parts = tuple[tuple[int, ...], dict[str, str], str, "tuple[str, int] | None", tuple[Any, ...], tuple[bool, ...]]
_TOPOLOGY_PARAM = {"hierarchical": "branching", "pubsub": "brokers", "federated": "clusters"}


class DesignDecoder:
    """Builds designs from parameter dicts of one space (``names``: its searched parameters)."""

    def __init__(self, spec: SpaceSpec, names: set[str]) -> None:
        self.spec = spec
        self.names = names
        s = spec
        self.role_order = [r.name for r in s.roles]
        self.by_name = {r.name: r for r in s.roles}
        self.producers = [r.name for r in s.roles if STAGE_OF[r.archetype] == "produce"]
        self.coordinators = [r.name for r in s.roles if r.archetype in COORDINATORS]
        self.floors = {r.name: max(r.count.min, 1) for r in s.roles}
        # per role: (name, use-param or None, count-param, default count, model-param, default model)
        self.role_params = [
            (
                r.name,
                f"use.{r.name}" if r.optional else None,
                f"count.{r.name}",
                max(r.count.min, 1),
                f"model.{r.name}",
                (r.models or s.models)[0],
            )
            for r in s.roles
        ]
        self.search_edges = [(a, b, f"edge.{a}->{b}") for a, b in s.edges.search]
        self._recent: dict[tuple[Any, ...], _Parts] = {}
        c = s.coordination
        defaults = (c.redundancy.min, c.aggregation[0], c.review_rounds.min, c.heterogeneity.min, c.routing[0])
        casts = (int, str, int, float, str)
        self.coordination = [
            (f"coordination.{field}", cast, default)
            for field, cast, default in zip(_COORDINATION, casts, defaults, strict=True)
        ]

    def design(self, params: dict[str, Any], *, name: str | None = None, trusted: bool = False) -> Design:
        """Build the (repaired, valid) Design that ``params`` describe.

        Repair rules, applied in this order:
        1. ``single``: only the first present producing role (space order) keeps
           one agent; if none is present, the first producing role, else the
           first role.
        2. hub kinds (star, hierarchical, federated) with no coordinator present:
           the first coordinator role of the space joins with its minimum count
           (at least 1).
        3. if no role is present at all, the first role joins with its minimum.
        4. more agents than ``constraints.max_total_agents``: if the present
           roles' floors (their minimum count, at least 1) alone exceed the
           bound, optional roles are dropped, last first (never the only
           coordinator of a hub kind); then what every present role has above
           its floor is scaled down proportionally until the bound holds. No
           role ends below its minimum, so ``encode`` of the result is exact
           and ``decode(encode(d)) == d``.

        ``trusted``: ``params`` hold values of this space's own parameters
        (decoded from its box, or read from a study of this space, whose
        distributions Optuna checked); the design is then built without
        pydantic validation.
        """
        s = self.spec
        counts, models, kind, topology, coordination, flags = self._parts(params)
        by_name = self.by_name
        make_role = Role.model_construct if trusted else Role
        roles = [
            make_role(name=n, archetype=by_name[n].archetype, count=c, model=models[n], prompt=by_name[n].prompt)
            for n, c in zip(self.role_order, counts, strict=True)
            if c > 0
        ]
        present = {r.name for r in roles}
        if s.edges.fixed:
            edges = [(a, b) for a, b in s.edges.fixed if a in present and b in present]
        else:  # stage-order wiring among the present roles, made explicit (Design.role_graph without edges)
            by_stage = [[r.name for r in roles if STAGE_OF[r.archetype] == st] for st in STAGES]
            by_stage = [names for names in by_stage if names]
            edges = [(a, b) for left, right in itertools.pairwise(by_stage) for a in left for b in right]
        edges += [(a, b) for (a, b, _), on in zip(self.search_edges, flags, strict=True) if on and (a, b) not in edges]
        topo_params = {topology[0]: topology[1]} if topology else {}
        values = dict(zip(_COORDINATION, coordination, strict=True))
        if trusted:
            return Design.model_construct(
                name=name or s.name,
                description=s.description,
                roles=roles,
                topology=Topology.model_construct(kind=kind, **topo_params),
                edges=edges,
                coordination=Coordination.model_construct(**values),
            )
        return Design(
            name=name or s.name,
            description=s.description,
            roles=roles,
            topology=Topology(kind=kind, **topo_params),  # type: ignore[arg-type]
            edges=edges,
            coordination=Coordination(**values),
        )

    def key(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """Identity of the design ``params`` decode to, without building it.

        Two params give equal keys exactly when they decode to the same design
        (everything else in a design is fixed by the space), at a fraction of
        the cost of a decode: optimizers check every candidate against the
        designs already evaluated.
        """
        counts, models, kind, topology, coordination, flags = self._parts(params)
        present_models = tuple(models[n] if c > 0 else None for n, c in zip(self.role_order, counts, strict=True))
        return (counts, present_models, kind, topology, coordination, flags)

    def _parts(self, params: dict[str, Any]) -> _Parts:
        """Repaired counts (space order), models, kind, topology parameter, coordination values, searched edges on.

        The last few hundred results are remembered: an optimizer keys a
        candidate (duplicate check) and the runner then decodes the same
        params into its design, so each params dict is repaired twice. The
        key holds the values' types too, so ``1``, ``1.0`` and ``True`` stay
        apart. Callers never mutate the parts they get.
        """
        memo = self._recent
        key = (tuple(params), tuple(map(type, params.values())), tuple(params.values()))
        try:
            parts = memo.get(key)
        except TypeError:  # an unhashable value (a user's odd params): no memo
            return self._repaired(params)
        if parts is None:
            parts = self._repaired(params)
            if len(memo) >= _RECENT_PARTS:
                del memo[next(iter(memo))]
            memo[key] = parts
        return parts

    def _repaired(self, params: dict[str, Any]) -> _Parts:
        s = self.spec
        names = self.names
        counts: dict[str, int] = {}
        models: dict[str, str] = {}
        for role, use, count, default_count, model, default_model in self.role_params:
            present = bool(params[use] if use in names else 1) if use is not None else True
            counts[role] = int(params[count] if count in names else default_count) if present else 0
            models[role] = str(params[model] if model in names else default_model)
        kind = str(params["topology.kind"] if "topology.kind" in names else s.topology.kinds[0])
        role_order, by_name = self.role_order, self.by_name
        if kind == "single":
            present_producers = [n for n in self.producers if counts[n] > 0]
            chosen = present_producers[0] if present_producers else (self.producers or role_order)[0]
            counts = {n: (1 if n == chosen else 0) for n in role_order}
        elif kind in HUB_KINDS and not any(counts[n] > 0 for n in self.coordinators):
            first = self.coordinators[0]
            counts[first] = self.floors[first]
        if sum(counts.values()) == 0:
            counts[role_order[0]] = self.floors[role_order[0]]
        cap = s.constraints.max_total_agents
        floors = self.floors
        for n in reversed(role_order):  # rule 4: drop optional roles, last first, while the floors alone exceed
            if sum(counts.values()) <= cap or sum(floors[m] for m in role_order if counts[m] > 0) <= cap:
                break
            keeps_hub = (
                kind in HUB_KINDS
                and by_name[n].archetype in COORDINATORS
                and sum(counts[m] for m in self.coordinators) == counts[n]
            )
            if by_name[n].optional and counts[n] > 0 and not keeps_hub:
                counts[n] = 0
        counts = cap_total(counts, floors, cap)
        topology: tuple[str, int] | None = None
        key = _TOPOLOGY_PARAM.get(kind)
        if key is not None:
            pname = f"topology.{key}"
            topology = (key, int(params[pname] if pname in names else getattr(s.topology, key).min))
        flags = tuple(
            bool(int(params.get(pname, 0))) and counts[a] > 0 and counts[b] > 0 for a, b, pname in self.search_edges
        )
        coordination = tuple(
            cast(params[pname] if pname in names else default) for pname, cast, default in self.coordination
        )
        return tuple(counts[n] for n in role_order), models, kind, topology, coordination, flags


def cap_total(counts: dict[str, int], floors: dict[str, int], cap: int) -> dict[str, int]:
    """At most ``cap`` agents in total, no present role below its floor (see decode rule 4).

    What each present role has above its floor is scaled by one factor and
    rounded down, so the total never exceeds ``cap`` once the floors fit
    (the space's validation guarantees they do after optional roles are
    dropped).
    """
    if sum(counts.values()) <= cap:
        return counts
    present = {n: c for n, c in counts.items() if c > 0}
    room = cap - sum(floors[n] for n in present)
    above = sum(c - floors[n] for n, c in present.items())
    factor = max(room, 0) / above if above > 0 else 0.0
    return {n: (floors[n] + math.floor((c - floors[n]) * factor) if c > 0 else 0) for n, c in counts.items()}
