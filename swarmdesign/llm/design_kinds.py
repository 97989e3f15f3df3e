"""The reference design kinds for measuring multi-agent effects on a real model.

One of each mechanism the simulator models and the ``llm`` evaluator runs:
one agent alone, self-consistency votes of 3 and 5, a reviewer, a judge over
three attempts, a planned chain of two solvers, a planner fanning out to a
vote of three (planning without the chain's hand-off: with two planned kinds,
leave-one-design-out can fit planning from one and predict the other), and a
producer checking its own work. All name one model (``model``), so differences between them are the
mechanisms', not the models'. Used by ``benchmarks/real_model.py`` and the
real-model calibration test.
"""

from __future__ import annotations

from typing import Any

from swarmdesign.design import Design


def _design(name: str, roles: list[dict[str, Any]], kind: str, **coordination: Any) -> Design:
    return Design.model_validate(
        {"name": name, "roles": roles, "topology": {"kind": kind}, "coordination": coordination}
    )


def design_kinds(model: str) -> dict[str, Design]:
    """Name -> design, every role on ``model``."""
    solver = {"name": "solver", "archetype": "solver", "count": 1, "model": model}
    return {
        "single": _design("single", [solver], "single"),
        "vote3": _design("vote3", [{**solver, "count": 3}], "independent", redundancy=3),
        "vote5": _design("vote5", [{**solver, "count": 5}], "independent", redundancy=5),
        "reviewed": _design(
            "reviewed",
            [solver, {"name": "reviewer", "archetype": "reviewer", "count": 1, "model": model}],
            "chain",
            review_rounds=1,
        ),
        "judged": _design(
            "judged",
            [{**solver, "count": 3}, {"name": "judge", "archetype": "judge", "count": 1, "model": model}],
            "independent",
            redundancy=3,
            aggregation="judge",
        ),
        "planned_chain": _design(
            "planned_chain",
            [
                {"name": "planner", "archetype": "planner", "count": 1, "model": model},
                {**solver, "name": "first"},
                {**solver, "name": "second"},
            ],
            "chain",
        ),
        "planned_vote3": _design(
            "planned_vote3",
            [{"name": "planner", "archetype": "planner", "count": 1, "model": model}, {**solver, "count": 3}],
            "star",
            redundancy=3,
        ),
        "self_check": _design("self_check", [solver], "independent", review_rounds=1),
    }
