"""Builders shared by the llm tests (imported by module name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

from swarmdesign.design import Design
from swarmdesign.fitness import Scenario


def scenario(**llm: Any) -> Scenario:
    base = {"n_tasks": 8, "retries": 1, "backoff_s": 0.0}
    return Scenario.model_validate({"name": "test", "objectives": [{"name": "quality"}], "llm": {**base, **llm}})


def design(name: str, roles: list[dict[str, Any]], kind: str = "single", edges=(), **coordination: Any) -> Design:
    for r in roles:
        r.setdefault("count", 1)
        r.setdefault("model", "fake/gpt-4o-mini")
    return Design.model_validate(
        {"name": name, "roles": roles, "topology": {"kind": kind}, "edges": list(edges), "coordination": coordination}
    )


def solo(model: str = "fake/gpt-4o-mini") -> Design:
    return design("single", [{"name": "solver", "archetype": "solver", "model": model}])


def voters(n: int, model: str = "fake/gpt-4o-mini") -> Design:
    roles = [{"name": "solver", "archetype": "solver", "count": n, "model": model}]
    return design(f"vote{n}", roles, "independent", redundancy=n)
