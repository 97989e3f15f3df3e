"""What traces of planned designs say about planning, and the simulator's planning fitted to it.

A planned design mixes several mechanisms (the plan, then maybe a chain's
hand-off, a vote, a review), so its whole-task accuracy cannot say what the
plan alone did. The traces can: an *attempt that read a plan and nothing else*
(``Plan:`` in its prompt, no earlier answer) against the same model's plain
attempts **on the same tasks** (paired, so item difficulty cancels) is the
plan's effect on one step. That ratio is what the simulator's decomposition is
fitted to, through its own output: a probe design (a planner and one solver,
:func:`swarmdesign.llm.sim_probe.planned_attempt`) must score the ratio times
the simulated single agent.

The simulator's planned step is ``plan_ok * p_eased + (1 - plan_ok) * p * (1 -
bad_plan_harm)`` (``plan_ok`` the planner's success at planning, ``p_eased``
the success on an item ``plan_relief`` easier). Plan soundness is not
observable on its own in these traces (a plan is free text with no checkable
verdict), so one effective parameter is fitted, in the direction the traces
show: a plan that helps sets ``plan_relief`` (no harm), one that hurts sets
``bad_plan_harm`` (no relief). ``planner_bonus`` and ``plan_difficulty`` stay
as the scenario says.

Also measured, for the report: the **relay** of a chain - a producer given the
previous producer's answer - against the answer it received. The simulator
has no hand-off on a task answered whole (``workload.dependency_depth`` 1), so
this loss is reported, not fitted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.llm.sim_probe import bisect, planned_attempt, quality, single_agent, with_simulator
from swarmdesign.llm.trace_stats import MIN_OBSERVATIONS, is_attempt, is_plain

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario
    from swarmdesign.llm.trace_stats import Observations

PLAN_MARK = "Plan:"
RELAY_MARK = "Previous team member's answer:"
EFFECT_BOUNDS = (-1.0, 1.0)


def _user(step: dict[str, Any]) -> str:
    return step["messages"][-1]["content"] if step.get("messages") else ""


def planning_statistics(obs: Observations, keep: set[str]) -> dict[str, Any]:
    """Planned against plain attempts per model (paired by task), and the chain relay, on the task ids ``keep``.

    ``planned[model]``: ``{"planned": acc, "plain": acc, "tasks": n, "attempts": n}``
    over tasks with both kinds of attempt; ``relay``: ``{"received": acc,
    "relayed": acc, "kept": P(right | received right), "fixed": P(right |
    received wrong), "n": n}`` or None.
    """
    planned: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    plain: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    relay: list[tuple[bool, bool]] = []
    for did, recs in obs.tasks.items():
        design = obs.designs[did]
        for rec in recs:
            if rec["task_id"] not in keep:
                continue
            first_of_role: dict[str, bool] = {}
            for s in rec["steps"]:
                if s.get("error") or not is_attempt(s):
                    continue
                model = str(s.get("model") or design.role(s["role"]).model)
                right = bool(s["correct"])
                user = _user(s)
                if RELAY_MARK in user and first_of_role:
                    relay.append((list(first_of_role.values())[-1], right))
                elif PLAN_MARK in user:
                    planned[model][rec["task_id"]].append(right)
                elif is_plain(s):
                    plain[model][rec["task_id"]].append(right)
                first_of_role.setdefault(s["role"], right)
    out: dict[str, Any] = {"planned": {}, "relay": None}
    for model, by_task in planned.items():
        both = sorted(set(by_task) & set(plain.get(model, {})))
        if not both:
            continue
        out["planned"][model] = {
            "planned": float(np.mean([np.mean(by_task[t]) for t in both])),
            "plain": float(np.mean([np.mean(plain[model][t]) for t in both])),
            "tasks": len(both),
            "attempts": sum(len(by_task[t]) for t in both),
        }
    if relay:
        got = np.array(relay, dtype=float)
        right_in, wrong_in = got[got[:, 0] == 1, 1], got[got[:, 0] == 0, 1]
        out["relay"] = {
            "received": float(got[:, 0].mean()),
            "relayed": float(got[:, 1].mean()),
            "kept": float(right_in.mean()) if right_in.size else None,
            "fixed": float(wrong_in.mean()) if wrong_in.size else None,
            "n": len(relay),
        }
    return out


def _with_effect(scenario: Scenario, effect: float) -> Scenario:
    """Planning that eases a step (``effect`` > 0, as ``plan_relief``) or harms it (< 0, as ``bad_plan_harm``)."""
    return with_simulator(scenario, "decomposition", plan_relief=max(effect, 0.0), bad_plan_harm=max(-effect, 0.0))


def fit_planning(scenario: Scenario, pstats: dict[str, Any], changes: list[str], *, seed: int = 0) -> Scenario:
    """``scenario`` with its decomposition fitted to the planned-attempt ratio (module docstring); one line per change.

    Nothing is fitted without at least ``MIN_OBSERVATIONS`` tasks carrying
    both planned and plain attempts of one model (no traced planned design):
    the scenario's planning is then kept, and said so.
    """
    figures = {m: f for m, f in pstats["planned"].items() if f["tasks"] >= MIN_OBSERVATIONS and f["plain"] > 0}
    relay = pstats.get("relay")
    if relay and relay["n"] >= MIN_OBSERVATIONS:
        changes.append(
            f"chain relay (not in the simulator for tasks answered whole): a producer given the previous answer was "
            f"right {relay['relayed']:.3f} where the answer it received was right {relay['received']:.3f} "
            f"({relay['n']} hand-offs)"
        )
    if not figures:
        changes.append("simulator.decomposition: no traced planned attempts; planning left as it was")
        return scenario
    model = max(figures, key=lambda m: figures[m]["tasks"])
    f = figures[model]
    ratio = f["planned"] / f["plain"]
    target = ratio * quality(scenario, single_agent(model), seed)
    probe = planned_attempt(model)
    effect = bisect(lambda e: quality(_with_effect(scenario, e), probe, seed), target, *EFFECT_BOUNDS)
    effect = round(effect, 3)
    fitted = _with_effect(scenario, effect)
    key = "plan_relief" if effect >= 0 else "bad_plan_harm"
    changes.append(
        f"simulator.decomposition.{key}: {abs(effect)} ({'bad_plan_harm' if effect >= 0 else 'plan_relief'} 0; "
        f"attempts that read a plan were right {f['planned']:.3f} where plain attempts on the same "
        f"{f['tasks']} tasks were right {f['plain']:.3f}, {f['attempts']} planned attempts of {model})"
    )
    return fitted
