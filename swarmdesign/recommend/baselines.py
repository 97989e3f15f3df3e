"""The designs a user would try without any search: one agent, or one agent asked k times.

Studies of automatically designed multi-agent systems ("The Illusion of
Multi-Agent Advantage"; BenchAgent) find many of them lose to a single strong
model, or to the same model sampled k times with a majority vote
(self-consistency) at the same cost. So every recommendation is measured
against both, scored under the same scenario and seeds as the winner:

* **single agent**: one agent, ``single`` topology, for every model the space
  allows;
* **self-consistency**: for every model, one agent sampled ``k`` times with a
  majority vote, at no more than the winner's cost. Every model, not only
  the best single one: the strongest model is often too dear to sample more
  than once at a team's cost, while a cheaper one sampled 15 or 40 times can
  match it (Li et al. 2024, "More Agents Is All You Need"); a verdict that
  skipped those would overstate the team. The vote counts a model can afford
  follow from its single agent's measured cost (``k`` votes are ``k`` calls:
  the simulator's vote costs 0.99 ``k`` to 1.00 ``k`` times one call), and
  among them the one a user would pick is the best-scoring, not the largest
  (more votes also take longer, which a scenario's latency bound may
  penalise): one probe batch scores every affordable count of every model on
  one seed, and each model's best count is then scored like every other
  baseline. Every baseline's actual cost is reported next to its score.

The agent takes the archetype and prompt of the space's first *producing*
role (a coder in a software team, a solver in a QA ensemble), so it does the
work the scenario asks for.
"""

from __future__ import annotations

import math
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


def affordable_votes(single_cost: float, budget: float) -> list[int]:
    """Vote counts of :data:`VOTE_COUNTS` (3 or more: a majority needs them) whose cost ``k * single_cost`` fits.

    A free agent (cost 0) affords every count; an unknown cost or budget
    (NaN, infinite, negative) affords none.
    """
    if not (math.isfinite(single_cost) and math.isfinite(budget)) or single_cost < 0 or budget < 0:
        return []
    return [k for k in VOTE_COUNTS if k >= 3 and k * single_cost <= budget * (1 + 1e-9)]


def best_votes(
    evaluator: Evaluator, space: SearchSpace, scenario: Any, seed: int, counts: dict[str, list[int]]
) -> tuple[dict[str, int], int]:
    """Each model's best-scoring vote count among ``counts`` (model -> affordable counts), from one probe batch.

    Returns the choice and the number of designs probed. Ties go to fewer
    votes; a model whose every count failed is left out.
    """
    pairs = [(m, k) for m, ks in counts.items() for k in ks]
    if not pairs:
        return {}, 0
    # columns, not a frame: the default run then never imports pandas (a tenth of its time)
    columns = scenario.finish_columns(
        evaluator.evaluate_columns([single_agent(space, m, k) for m, k in pairs], scenario, seed=seed)
    )
    scores = np.asarray(columns["score"], dtype=float)
    best: dict[str, tuple[float, int]] = {}
    for (m, k), score in zip(pairs, scores, strict=True):
        if math.isfinite(score) and (m not in best or score > best[m][0]):
            best[m] = (float(score), k)
    return {m: k for m, (_, k) in best.items()}, len(pairs)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)[:200]


__all__ = ["VOTE_COUNTS", "affordable_votes", "best_votes", "single_agent", "space_models"]
