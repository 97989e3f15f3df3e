"""The designs a user would try without any search: one agent, or one agent asked k times.

Studies of automatically designed multi-agent systems ("The Illusion of
Multi-Agent Advantage"; BenchAgent) find many of them lose to a single strong
model, or to the same model sampled k times with a majority vote
(self-consistency) at the same cost. So every recommendation is measured
against both, scored under the same scenario and seeds as the winner:

* **single agent**: one agent, ``single`` topology, for every model the space
  allows;
* **self-consistency**: the best single agent's model with ``redundancy = k``
  and a majority vote, ``k`` chosen so its cost matches the winner's (the
  largest k whose cost does not exceed it; cost grows with k, so the choice
  is made on one probe evaluation of every k at once).

The agent takes the archetype and prompt of the space's first *producing*
role (a coder in a software team, a solver in a QA ensemble), so it does the
work the scenario asks for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.archetypes import STAGE_OF

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.space import SearchSpace

#: Votes tried for self-consistency: odd counts (no ties in a majority vote) up to the design limit.
VOTE_COUNTS = (1, 3, 5, 7, 9, 11, 15, 21, 31, 41, 63)


def space_models(space: SearchSpace) -> list[str]:
    """Every model the space allows, in the order it names them."""
    seen: dict[str, None] = dict.fromkeys(space.spec.models)
    for r in space.spec.roles:
        for m in r.models or []:
            seen.setdefault(m, None)
    return list(seen)


def _producer(space: SearchSpace) -> tuple[str, str | None]:
    for r in space.spec.roles:
        if STAGE_OF.get(r.archetype) == "produce":
            return r.archetype, r.prompt
    return "generalist", None


def single_agent(space: SearchSpace, model: str, votes: int = 1) -> Design:
    """One agent of ``model`` doing the space's producing work; ``votes > 1`` = self-consistency."""
    from swarmdesign.design import Coordination, Design, Role, Topology

    archetype, prompt = _producer(space)
    name = f"baseline-single-{model}" if votes == 1 else f"baseline-self-consistency-{model}-k{votes}"
    return Design(
        name=_safe(name),
        description="single agent" if votes == 1 else f"one {model} agent, {votes} samples, majority vote",
        roles=[Role(name="agent", archetype=archetype, count=1, model=model, prompt=prompt)],  # type: ignore[arg-type]
        topology=Topology(kind="single"),
        coordination=Coordination(redundancy=votes, aggregation="majority_vote"),
    )


def matched_votes(evaluator: Evaluator, space: SearchSpace, model: str, scenario: Any, seed: int, cost: float) -> int:
    """The largest vote count whose cost does not exceed ``cost`` (at least 1), from one probe batch."""
    designs = [single_agent(space, model, k) for k in VOTE_COUNTS]
    frame = scenario.finish_metrics(evaluator.evaluate(designs, scenario, seed=seed))
    costs = frame["cost"].to_numpy(dtype=float)
    fits = [k for k, c in zip(VOTE_COUNTS, costs, strict=True) if np.isfinite(c) and c <= cost * (1 + 1e-9)]
    return max(fits) if fits else 1


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)[:200]


__all__ = ["VOTE_COUNTS", "matched_votes", "single_agent", "space_models"]
