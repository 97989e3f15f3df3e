"""What a run's study optimises: the scenario's declared score, or its objectives.

"Best" is the score everywhere (``best.yaml``, the recommendation's re-scores,
the baselines it is compared with), so by default a search aims at the score.
A search aimed at anything else spends its budget on designs the
recommendation does not pick: a Pareto search of a scenario's quality and cost
spreads its trials along the front, and on the bundled ``software_team`` space
it found designs worth less score at every budget than the same optimizer
aimed at the score (``docs/optimizers.md``, "What a run searches"). Every
metric is recorded either way, and a run of the score still reports the front
of the scenario's objectives over those metrics
(:func:`swarmdesign.records.front_objectives`); ``pareto`` asks the search
itself for that front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario
    from swarmdesign.optimizers import Optimizer

SCORE_OBJECTIVE = {"name": "score", "direction": "maximize"}


def search_objectives(scenario: Scenario, optimizer: Optimizer, *, pareto: bool) -> list[dict[str, str]]:
    """The study's objectives as ``[{"name", "direction"}]``: the score, or with ``pareto`` the scenario's own."""
    if not pareto:
        return [dict(SCORE_OBJECTIVE)]
    declared = [{"name": o.name, "direction": o.direction} for o in scenario.objectives]
    if len(declared) > 1 and not optimizer.multi_objective:
        from swarmdesign.optimizers import multi_objective_names

        raise SwarmdesignError(
            f"optimizer '{optimizer.name}' searches one objective, and the scenario declares "
            f"{len(declared)} ({', '.join(o['name'] for o in declared)}); drop --pareto, or pick one of "
            f"{multi_objective_names()}",
            field="--pareto",
        )
    return declared
