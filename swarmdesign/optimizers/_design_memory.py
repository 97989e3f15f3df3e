"""Duplicate detection shared by the genetic optimizers (``ga`` and ``psoga``).

Both know an evaluated design by the digest of its design key
(:meth:`SearchSpace.design_key`: the decoder's repairs without building the design),
computed from params, so designs read back from the study are known by their recorded
params and a resume decodes nothing; a new proposal is decoded once and its design
handed to the runner, so the runner does not decode it again. One copy of that rule
serves both optimizers.

The mixin expects the attributes its optimizers set: ``space``, ``dedupe``,
``_layout``, ``_keys``, ``_seen``, ``_keys_recorded``, ``positions``, ``generation``
and ``name``; it sits before :class:`PopulationOptimizer` in the bases so that its
``super()`` calls reach the population machinery.
"""

from __future__ import annotations

from typing import Any

from swarmdesign.optimizers._genes import DesignKeys, GeneLayout
from swarmdesign.optimizers.base import Proposal, _Done


class DesignMemory:
    """Design keys for duplicate detection, kept in step with the study without decoding."""

    space: Any
    dedupe: bool
    positions: Any
    generation: int
    name: str
    _layout: GeneLayout | None
    _keys: DesignKeys | None
    _seen: set[bytes]
    _keys_recorded: bool

    def _ensure_keys(self) -> DesignKeys:
        assert self.space is not None
        if self._layout is None or self._keys is None or self._keys.space is not self.space:
            self._layout = GeneLayout.of(self.space)
            self._keys = DesignKeys(self.space, self._layout)
        return self._keys

    def _advance_done(self, trials: dict[int, _Done], *, verify: bool = True) -> None:
        """Mark the generation's designs as evaluated from their recorded params (no decoding), then advance."""
        if self.dedupe:
            keys = self._ensure_keys()
            self._seen.update(keys.of_params(d.params) for d in trials.values())
            self._keys_recorded = True
        super()._advance_done(trials, verify=verify)  # type: ignore[misc]

    def _proposal(self, i: int) -> Proposal:
        """The particle's proposal with its design, decoded once for duplicate detection, attached."""
        if not self.dedupe:
            return super()._proposal(i)  # type: ignore[misc]
        assert self.positions is not None
        keys = self._ensure_keys()
        params = keys.params_of(self.positions[i])
        design, text = keys.decoded(params)
        attrs = {"generation": self.generation, "particle": i, "optimizer": self.name}
        return Proposal(params=params, attrs=attrs, design=design, design_json=text)
