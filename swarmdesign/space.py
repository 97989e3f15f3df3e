"""Search spaces: what may vary in a design, and within which bounds.

A space (``search_spaces/*.yaml``, versioned ``swarmdesign_space: 1``) lists
the roles that may appear with their count ranges (log scale for large
ranges; ``min: 0`` makes a role optional), the model choices, the allowed
topology kinds and their parameter ranges, coordination ranges, edges that
are always present or searched on/off, and constraints.

It compiles to a fixed, ordered list of parameters, which gives two views of
the same point:

* Optuna distributions (``distributions()``), so that every evaluation, by any
  optimizer, is a trial with the same params, and
* the unit box ``[0, 1]^d`` (``decode(vector)`` / ``encode(design)``), so that
  continuous optimisers (PSO, CMA-ES, GA genes) serve every space.

Integers and categories occupy equal-width bins of the box (in log space for
log ranges), and ``encode`` returns a bin's centre, so ``decode(encode(d))``
reproduces ``d``. Every vector of the box decodes to a valid Design that
satisfies the constraints: ``decode`` *repairs* what the raw parameters may
violate (a hub topology without a hub, too many agents in total) by a fixed,
documented rule instead of rejecting the point, because rejection would leave
holes in the landscape that swarm optimisers fall into.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from pydantic import ValidationError

from swarmdesign import yamlio
from swarmdesign.archetypes import AGGREGATIONS, ROUTINGS, TOPOLOGY_KINDS
from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError, from_validation_error
from swarmdesign.space_codec import BoxCodec, clip, to_unit
from swarmdesign.space_decode import DesignDecoder
from swarmdesign.space_spec import (
    FORMAT_KEY,
    CoordinationSpec,
    EdgeSpec,
    FloatRange,
    IntRange,
    RoleSpec,
    SpaceConstraints,
    SpaceSpec,
    TopologySpec,
)


@dataclass(frozen=True)
class Param:
    """One searched dimension: its Optuna distribution and its bin layout in the box."""

    name: str
    distribution: BaseDistribution

    @property
    def is_categorical(self) -> bool:
        return isinstance(self.distribution, CategoricalDistribution)


class SearchSpace:
    """A compiled search space; see the module docstring."""

    def __init__(self, spec: SpaceSpec, *, source: str | None = None) -> None:
        self.spec = spec
        self.source = source
        self.params: list[Param] = self._compile()
        self._index = {p.name: i for i, p in enumerate(self.params)}
        self._codec = BoxCodec([p.name for p in self.params], [p.distribution for p in self.params])
        self._decoder = DesignDecoder(spec, set(self._index))

    # ------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> SearchSpace:
        if not isinstance(data, dict):
            raise SwarmdesignError("expected a YAML mapping", file=file, field="(document)")
        if type(data.get(FORMAT_KEY)) is not int or data.get(FORMAT_KEY) != 1:
            raise SwarmdesignError(
                f"expected '{FORMAT_KEY}: 1' (a search space file), got {data.get(FORMAT_KEY)!r}",
                file=file,
                field=FORMAT_KEY,
            )
        try:
            spec = SpaceSpec.model_validate(data)
        except ValidationError as exc:
            err = from_validation_error(exc, file=file)
            head, sep, rest = err.message.partition(": ")
            if sep and head.startswith(("roles", "edges", "topology", "constraints", "count")):
                field = head if err.field == "(document)" else f"{err.field}.{head}"
                return_err = SwarmdesignError(rest, file=file, field=field)
                raise return_err from None
            raise err from None
        return cls(spec, source=file)

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        return cls.from_dict(yamlio.load_file(path), file=str(path))

    def to_dict(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json")

    @property
    def name(self) -> str:
        return self.spec.name

    # ----------------------------------------------------------- compiling
    def _compile(self) -> list[Param]:
        s = self.spec
        out: list[Param] = []

        def add_int(name: str, r: IntRange, low: int | None = None) -> None:
            lo = r.min if low is None else max(r.min, low)
            if lo < r.max:
                out.append(Param(name, IntDistribution(lo, r.max, log=r.log and lo >= 1)))

        for r in s.roles:
            if r.optional:
                out.append(Param(f"use.{r.name}", IntDistribution(0, 1)))
            add_int(f"count.{r.name}", r.count, low=1)
            models = r.models or s.models
            if len(models) > 1:
                out.append(Param(f"model.{r.name}", CategoricalDistribution(list(models))))
        kinds = s.topology.kinds
        if len(kinds) > 1:
            out.append(Param("topology.kind", CategoricalDistribution(list(kinds))))
        for key, kind in (("branching", "hierarchical"), ("brokers", "pubsub"), ("clusters", "federated")):
            if kind in kinds:
                add_int(f"topology.{key}", getattr(s.topology, key))
        c = s.coordination
        add_int("coordination.redundancy", c.redundancy)
        if len(c.aggregation) > 1:
            out.append(Param("coordination.aggregation", CategoricalDistribution(list(c.aggregation))))
        add_int("coordination.review_rounds", c.review_rounds)
        if c.heterogeneity.min < c.heterogeneity.max:
            out.append(
                Param(
                    "coordination.heterogeneity",
                    FloatDistribution(c.heterogeneity.min, c.heterogeneity.max, log=c.heterogeneity.log),
                )
            )
        if len(c.routing) > 1:
            out.append(Param("coordination.routing", CategoricalDistribution(list(c.routing))))
        for a, b in s.edges.search:
            out.append(Param(f"edge.{a}->{b}", IntDistribution(0, 1)))
        return out

    @property
    def dim(self) -> int:
        return len(self.params)

    def distributions(self) -> dict[str, BaseDistribution]:
        """The fixed Optuna distributions every trial of a run uses."""
        return {p.name: p.distribution for p in self.params}

    def size(self) -> float:
        """Number of distinct points (inf when a float dimension is searched)."""
        total = 1.0
        for p in self.params:
            d = p.distribution
            if isinstance(d, IntDistribution):
                total *= d.high - d.low + 1
            elif isinstance(d, CategoricalDistribution):
                total *= len(d.choices)
            else:
                return math.inf
        return total

    # ------------------------------------------------------- box <-> params
    def vector_to_params(self, x: np.ndarray) -> dict[str, Any]:
        """Map a point of ``[0,1]^d`` (clipped) to parameter values."""
        return self._codec.params(x)

    def vectors_to_params(self, x: np.ndarray) -> list[dict[str, Any]]:
        """:meth:`vector_to_params` of every row of ``x`` (``(n, d)``)."""
        return self._codec.many(x)

    def params_to_vector(self, params: dict[str, Any]) -> np.ndarray:
        """Centre of each parameter's bin in ``[0,1]^d``; missing params are an error."""
        out = np.empty(self.dim)
        for i, p in enumerate(self.params):
            if p.name not in params:
                raise KeyError(p.name)
            out[i] = to_unit(p.distribution, params[p.name])
        return out

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return self.vector_to_params(rng.random(self.dim))

    # ------------------------------------------------------- params -> Design
    def decode(self, x: np.ndarray) -> Design:
        """The design of a point of the box (built without re-validation: its params are the space's own)."""
        return self._decoder.design(self.vector_to_params(x), trusted=True)

    def decode_params(self, params: dict[str, Any], *, name: str | None = None, trusted: bool = False) -> Design:
        """Build the (repaired, valid) Design that ``params`` describe; repair rules in :class:`DesignDecoder`.

        ``trusted=True`` when ``params`` hold values of this space's own
        parameters (from :meth:`vector_to_params`, or a study of this space):
        the design is then built without pydantic's per-field validation,
        which costs more than the rest of a decode. Anything else is validated.
        """
        return self._decoder.design(params, name=name, trusted=trusted)

    def design_key(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """Hashable identity of the design ``params`` decode to (equal keys = equal designs), without building it."""
        return self._decoder.key(params)

    # ------------------------------------------------------- Design -> params
    def design_to_params(self, design: Design, *, file: str | None = None) -> dict[str, Any]:
        """The parameters of the nearest point of this space to ``design``.

        Roles, models and topology kinds the space does not know are errors
        (naming the field); counts and ranges outside the bounds are clipped.
        """
        s = self.spec
        by_name = {r.name: r for r in s.roles}
        for i, role in enumerate(design.roles):
            if role.name not in by_name:
                raise SwarmdesignError(
                    f"role '{role.name}' is not in search space '{s.name}'; expected one of {list(by_name)}",
                    file=file,
                    field=f"roles[{i}].name",
                )
            if role.archetype != by_name[role.name].archetype:
                raise SwarmdesignError(
                    f"archetype '{role.archetype}' differs from the space's '{by_name[role.name].archetype}'",
                    file=file,
                    field=f"roles[{i}].archetype",
                )
        counts = {r.name: r.count for r in design.roles}
        models_of = {r.name: r.model for r in design.roles}
        params: dict[str, Any] = {}
        for p in self.params:
            d = p.distribution
            group, _, key = p.name.partition(".")
            value: Any
            if group == "use":
                value = int(counts.get(key, 0) > 0)
            elif group == "count":
                value = counts.get(key, 0) or by_name[key].count.min or 1
            elif group == "model":
                value = models_of.get(key, d.choices[0])  # type: ignore[union-attr]
                bare = str(value).split("/", 1)[-1]  # 'openai/gpt-4o' (framework spelling) -> 'gpt-4o'
                if value not in d.choices and bare in d.choices:  # type: ignore[union-attr]
                    value = bare
                if value not in d.choices:  # type: ignore[union-attr]
                    idx = [r.name for r in design.roles].index(key)
                    raise SwarmdesignError(
                        f"model '{value}' is not a choice of search space '{s.name}'; expected one of "
                        f"{list(d.choices)}",  # type: ignore[union-attr]
                        file=file,
                        field=f"roles[{idx}].model",
                    )
            elif p.name == "topology.kind":
                value = design.topology.kind
                if value not in d.choices:  # type: ignore[union-attr]
                    raise SwarmdesignError(
                        f"topology kind '{value}' is not allowed by search space '{s.name}'; expected one of "
                        f"{list(d.choices)}",  # type: ignore[union-attr]
                        file=file,
                        field="topology.kind",
                    )
            elif group == "topology":
                value = design.topology.params().get(key) or getattr(s.topology, key).min
            elif group == "coordination":
                value = getattr(design.coordination, key)
                if isinstance(d, CategoricalDistribution) and value not in d.choices:
                    value = d.choices[0]
            elif group == "edge":  # role names may hold '->' themselves: look the pair up, never split the name
                pair = next(e for e in s.edges.search if p.name == f"edge.{e[0]}->{e[1]}")
                value = int(tuple(pair) in set(design.edges))
            else:  # pragma: no cover - every compiled name has a group above
                raise AssertionError(p.name)
            params[p.name] = clip(d, value)
        return params

    def encode(self, design: Design) -> np.ndarray:
        return self.params_to_vector(self.design_to_params(design))


__all__ = [
    "AGGREGATIONS",
    "FORMAT_KEY",
    "ROUTINGS",
    "TOPOLOGY_KINDS",
    "CoordinationSpec",
    "EdgeSpec",
    "FloatRange",
    "IntRange",
    "Param",
    "RoleSpec",
    "SearchSpace",
    "SpaceConstraints",
    "SpaceSpec",
    "TopologySpec",
]
