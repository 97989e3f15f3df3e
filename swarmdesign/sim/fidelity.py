"""Published multi-agent outcome shapes, measured on the fast simulator.

Each function builds the workload and the designs a study compared, scores
them with :class:`~swarmdesign.sim.SimulatedEvaluator` and returns the
figures the study reports (orderings, ratios, exponents). The literature
tests (``tests/sim/literature/``) assert on them and
``benchmarks/fidelity.py`` prints them as a scorecard, so both read the same
measurement. ``simulator`` overrides knobs of the scenario's ``simulator:``
section, which is how a test switches a mechanism off to show that the shape
depends on it.

Architectures of Kim et al. 2025 map to topology kinds as follows
(:data:`ARCHITECTURES`): Single = ``single``; Independent = ``independent``
(no channels, results merged unchecked); Centralized = ``star`` with an
orchestrator; Decentralized = ``mesh`` (every peer hears every other);
Hybrid = ``hybrid`` (an orchestrator that plans, verifies and merges as in
a star, plus direct peer exchange among its members). ``hierarchical``
counts as Centralized, ``ring`` and ``pubsub`` as Decentralized, and
``federated`` (local orchestrators linked to each other) as Hybrid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.sim.evaluator import SimulatedEvaluator
from swarmdesign.sim.testing import make_design

#: Kim et al. 2025 architecture -> this product's topology kinds
ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "single": ("single",),
    "independent": ("independent",),
    "centralized": ("star", "hierarchical"),
    "decentralized": ("mesh", "ring", "pubsub"),
    "hybrid": ("hybrid", "federated"),
}

#: model ladder (logit skill) used by every shape; prices and speeds of a mid-size hosted model
_MODEL = {"input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60, "seconds_per_call": 5.0}
SEED = 11
#: logits per unit of difficulty (``simulator.skill.slope`` default): a variant that makes items harder by
#: ``h`` and the model stronger by ``SLOPE * h`` keeps the single agent's accuracy
SLOPE = 6.0


def scenario(
    *,
    skill: float = 0.0,
    parallel_fraction: float = 0.9,
    subtasks: int = 4,
    depth: int = 2,
    difficulty: float = 0.5,
    spread: float = 0.15,
    producer: str = "worker",
    simulator: dict[str, Any] | None = None,
    message_tokens: int = 300,
    input_tokens: int = 2000,
    extra_models: dict[str, float] | None = None,
) -> Scenario:
    """A scenario with one model ``m`` of logit ``skill`` (plus ``extra_models``: name -> skill)."""
    models = {"m": {"skill": skill, **_MODEL}}
    for name, s in (extra_models or {}).items():
        models[name] = {"skill": s, **_MODEL}
    sim: dict[str, Any] = {"skill": {"task_mix": {producer: 1.0}}}
    for section, values in (simulator or {}).items():
        sim[section] = {**sim.get(section, {}), **values}
    return Scenario.from_dict(
        {
            "swarmdesign_scenario": 1,
            "name": "fidelity",
            "workload": {
                "tasks": 200,
                "difficulty": {"mean": difficulty, "spread": spread},
                "parallel_fraction": parallel_fraction,
                "subtasks": subtasks,
                "dependency_depth": depth,
                "input_tokens_per_step": input_tokens,
                "output_tokens_per_step": 500,
            },
            "environment": {"fault_rate": 0.0, "message_tokens": message_tokens, "models": models},
            "simulator": sim,
        }
    )


def evaluate(designs: list[Design], scn: Scenario, replicas: int = 128) -> pd.DataFrame:
    return SimulatedEvaluator(replicas=replicas).evaluate(designs, scn, seed=SEED)


def kim_team(architecture: str, n: int = 4, producer: str = "worker", model: str = "m", **coordination: Any) -> Design:
    """The design of one Kim et al. architecture with ``n`` producing agents."""
    if architecture == "single":
        return make_design([(producer, 1, model)], "single", **coordination)
    if architecture == "independent":
        return make_design([(producer, n, model)], "independent", routing="routed", **coordination)
    if architecture == "centralized":
        return make_design([("orchestrator", 1, model), (producer, n, model)], "star", routing="routed", **coordination)
    if architecture == "decentralized":
        return make_design([(producer, n, model)], "mesh", routing="routed", **coordination)
    if architecture == "hybrid":
        return make_design(
            [("orchestrator", 1, model), (producer, n, model)], "hybrid", routing="routed", **coordination
        )
    raise ValueError(f"unknown architecture {architecture!r}")


KIM_MAS = ("independent", "centralized", "decentralized", "hybrid")


def kim_relative_gain(scn: Scenario, n: int = 4) -> dict[str, float]:
    """Relative quality change of each architecture (``n`` producers) against the single agent, plus its accuracy."""
    names = ("single", *KIM_MAS)
    q = evaluate([kim_team(a, n=n) for a in names], scn)["quality"].to_numpy()
    out = {a: float(q[i] / q[0] - 1.0) for i, a in enumerate(names) if a != "single"}
    out["single_accuracy"] = float(q[0])
    return out


def kim_parallel(
    simulator: dict[str, Any] | None = None, *, n: int = 4, subtasks: int = 4, harder: float = 0.0
) -> dict[str, float]:
    """Finance-Agent-like: parallel sub-questions, single agent near 0.35 (Kim et al. 2025: centralized +80.9 %).

    ``harder`` raises the items' difficulty and the model's skill together
    (by the skill slope), so the single agent stays near the study's 0.35
    while planning, review and merging face harder items.
    """
    return kim_relative_gain(
        scenario(
            skill=-0.55 + SLOPE * harder,
            parallel_fraction=0.95,
            subtasks=subtasks,
            depth=2,
            difficulty=0.55 + harder,
            simulator=simulator,
        ),
        n=n,
    )


def kim_sequential(
    simulator: dict[str, Any] | None = None, *, n: int = 4, depth: int = 8, harder: float = 0.0
) -> dict[str, float]:
    """PlanCraft-like: strictly sequential steps (Kim et al. 2025: every architecture -39 ... -70 %).

    ``harder`` as in :func:`kim_parallel`; ``depth`` sequential steps, one sub-task each.
    """
    return kim_relative_gain(
        scenario(
            skill=0.5 + SLOPE * harder,
            parallel_fraction=0.0,
            subtasks=depth,
            depth=depth,
            difficulty=0.35 + harder,
            spread=0.12,
            simulator=simulator,
            input_tokens=4000,  # a planning state (inventory, recipes, goal) far longer than a hand-off message
        ),
        n=n,
    )


def kim_saturation(
    simulator: dict[str, Any] | None = None, *, n: int = 4, difficulty: float = 0.5, subtasks_per_level: int = 2
) -> dict[str, float]:
    """Multi-agent advantage against single-agent accuracy over model skills, within task kinds; slope and its zero.

    Kim et al. 2025 model task success (an absolute rate) with the single
    agent's accuracy as a predictor and the task as a control, and find the
    advantage of coordination shrinks as that accuracy rises, changing sign
    near 0.45. Here the mean advantage of the four architectures is measured
    for seven model skills on parallel, mixed and sequential work (single
    agents from a few per cent to about 0.9, so that hard items still reach
    the crossing). ``slope`` is the within-task slope (task fixed effects) of the relative gain;
    ``zero_at`` is the single-agent accuracy (averaged over the task kinds at
    each skill) at which the task-averaged advantage in success points (the
    study's outcome scale) changes from positive to negative, interpolated
    linearly between skills (NaN if it never does); ``zero_at_relative`` is the
    same crossing of relative gains, which weigh the large relative losses of
    weak single agents on sequential work (a few points of success) as much as
    the gains on parallel work. ``n`` producers per team, items of mean
    ``difficulty``, ``subtasks_per_level`` sub-tasks per dependency level
    (parallel work has at least four sub-tasks) vary the set-up.
    """
    kinds, skills = ((0.95, 2), (0.5, 4), (0.0, 8)), (-2.25, -1.5, -0.75, 0.0, 0.75, 1.5, 2.25)
    acc = np.zeros((len(kinds), len(skills)))
    rel = np.zeros_like(acc)
    for i, (pf, depth) in enumerate(kinds):
        for j, s in enumerate(skills):
            g = kim_relative_gain(
                scenario(
                    skill=s,
                    parallel_fraction=pf,
                    subtasks=max(depth * subtasks_per_level, 4),
                    depth=depth,
                    difficulty=difficulty,
                    simulator=simulator,
                ),
                n=n,
            )
            acc[i, j] = g["single_accuracy"]
            rel[i, j] = float(np.mean([g[a] for a in KIM_MAS]))
    xd = acc - acc.mean(axis=1, keepdims=True)
    yd = rel - rel.mean(axis=1, keepdims=True)
    x = acc.mean(axis=0)
    return {
        "slope": float((xd * yd).sum() / (xd * xd).sum()),
        "zero_at": _sign_change(x, (rel * acc).mean(axis=0)),
        "zero_at_relative": _sign_change(x, rel.mean(axis=0)),
    }


def _sign_change(x: np.ndarray, y: np.ndarray) -> float:
    """First ``x`` where ``y`` goes from > 0 to <= 0, linearly interpolated; NaN if it never does."""
    down = np.flatnonzero((y[:-1] > 0) & (y[1:] <= 0))
    if down.size == 0:
        return float("nan")
    i = int(down[0])
    return float(x[i] + (x[i + 1] - x[i]) * y[i] / (y[i] - y[i + 1]))


def kim_error_amplification(
    simulator: dict[str, Any] | None = None, *, n: int = 8, subtasks: int = 8, harder: float = 0.0
) -> dict[str, float]:
    """Error of each architecture / error of the single agent on parallel work with a strong model.

    Kim et al. 2025: Independent 17.2x, Decentralized 7.8x, Hybrid 5.1x, Centralized 4.4x.
    ``harder`` as in :func:`kim_parallel`.
    """
    scn = scenario(
        skill=2.5 + SLOPE * harder,
        parallel_fraction=0.95,
        subtasks=subtasks,
        depth=3,
        difficulty=0.35 + harder,
        simulator=simulator,
    )
    names = ("single", *KIM_MAS)
    err = 1.0 - evaluate([kim_team(a, n=n) for a in names], scn)["quality"].to_numpy()
    return {a: float(err[i] / err[0]) for i, a in enumerate(names) if a != "single"}


def kim_turns_exponent(
    simulator: dict[str, Any] | None = None, *, parallel_fraction: float = 0.9, subtasks_per_agent: int = 1
) -> dict[str, float]:
    """Exponent of coordination messages per task against team size, over the four architectures together.

    Kim et al. 2025: coordination turns grow as n^1.724.
    """
    ns = np.array([2, 4, 8, 16])
    total = np.zeros(ns.size)
    per: dict[str, float] = {}
    for a in KIM_MAS:
        # as in the study, a team of n splits each task into n sub-tasks, one per agent
        scns = [
            scenario(parallel_fraction=parallel_fraction, subtasks=int(n) * subtasks_per_agent, simulator=simulator)
            for n in ns
        ]
        pairs = zip(ns, scns, strict=True)
        m = np.array([evaluate([kim_team(a, n=int(n))], sc)["messages_per_task"][0] for n, sc in pairs])
        total += m
        if np.all(m > 0):
            per[a] = float(np.polyfit(np.log(ns), np.log(m), 1)[0])
    per["all"] = float(np.polyfit(np.log(ns), np.log(total), 1)[0])
    return per


def kim_overhead(simulator: dict[str, Any] | None = None, n: int = 4, subtasks: int = 4) -> dict[str, float]:
    """Token overhead of each architecture over the single agent, in % (Kim et al. 2025 Table: 58/263/285/515 %)."""
    scn = scenario(parallel_fraction=0.9, subtasks=subtasks, depth=2, simulator=simulator)
    names = ("single", *KIM_MAS)
    tok = evaluate([kim_team(a, n=n) for a in names], scn)["tokens"].to_numpy()
    return {a: float(100.0 * (tok[i] / tok[0] - 1.0)) for i, a in enumerate(names) if a != "single"}


LI_SKILLS = {"weak": -1.0, "mid": 0.0, "strong": 1.0}
LI_VOTERS = (1, 5, 10, 15, 20, 30, 40)


def li_voting(
    simulator: dict[str, Any] | None = None, *, skill_shift: float = 0.0, spread: float = 0.22
) -> dict[str, Any]:
    """Sampling-and-voting on math-like questions (Li et al. 2024), one model per row of :data:`LI_SKILLS`.

    Returns per model the quality at each voter count in :data:`LI_VOTERS`,
    the gain at 40 voters (points), the share of that gain reached by 15
    voters, and the quality of 15 voters of the weak and mid models.
    ``skill_shift`` moves the whole model ladder, ``spread`` is the items'
    difficulty spread.
    """
    # free-form numeric answers: wrong answers scatter, a fifth fall on the most common wrong value
    sim: dict[str, Any] = {"voting": {"wrong_answer_concentration": 0.2}}
    for section, values in (simulator or {}).items():
        sim[section] = {**sim.get(section, {}), **values}
    out: dict[str, Any] = {}
    for name, s in LI_SKILLS.items():
        scn = scenario(
            skill=s + skill_shift,
            parallel_fraction=1.0,
            subtasks=1,
            depth=1,
            difficulty=0.5,
            spread=spread,
            producer="solver",
            simulator=sim,
        )
        designs = [
            make_design([("solver", k, "m")], "independent", redundancy=k, routing="routed", name=f"k{k}")
            for k in LI_VOTERS
        ]
        q = evaluate(designs, scn)["quality"].to_numpy()
        out[name] = {
            "quality": [float(v) for v in q],
            "gain_points": float(100.0 * (q[-1] - q[0])),
            "share_at_15": float((q[LI_VOTERS.index(15)] - q[0]) / max(q[-1] - q[0], 1e-12)),
        }
    return out


MACNET_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


def macnet(simulator: dict[str, Any] | None = None, *, skill: float = 0.0, difficulty: float = 0.5) -> dict[str, Any]:
    """Quality against the number of collaborating agents on one artefact per topology (Qian et al. 2024).

    Mesh (dense), star and chain teams of ``n`` agents refine one artefact (a
    task that is not split, so a plan eases nothing: ``parallel_fraction`` 0).
    The star's centre still instructs the producer and checks its piece; a
    failed plan misleads it (``bad_plan_harm``), as plans measurably do on
    whole tasks in real-model traces (:mod:`swarmdesign.llm.plan_fit`);
    returns the quality curves and, for the mesh, the agent count at the
    steepest rise (the inflection, on a log2 axis).
    """
    scn = scenario(skill=skill, parallel_fraction=0.0, subtasks=1, depth=1, difficulty=difficulty, simulator=simulator)
    curves: dict[str, list[float]] = {}
    for kind in ("mesh", "star", "chain"):
        designs = []
        for n in MACNET_SIZES:
            if n == 1:
                designs.append(make_design([("worker", 1, "m")], "single"))
            elif kind == "star":  # the centre coordinates and reads every leaf
                roles = [("orchestrator", 1, "m"), ("worker", n - 1, "m")]
                designs.append(make_design(roles, "star", routing="routed"))
            else:
                designs.append(make_design([("worker", n, "m")], kind, routing="routed"))
        curves[kind] = [float(v) for v in evaluate(designs, scn)["quality"].to_numpy()]
    q = np.array(curves["mesh"])
    rise = np.diff(q)
    steepest = int(np.argmax(rise))
    inflection = float(np.sqrt(MACNET_SIZES[steepest] * MACNET_SIZES[steepest + 1]))
    return {"curves": curves, "inflection_agents": inflection}


def token_multiples(simulator: dict[str, Any] | None = None, *, n: int = 4, subtasks: int = 4) -> dict[str, float]:
    """Tokens of a multi-agent research team over one agent (Anthropic 2025: ~15x a chat), and dense/sparse at 5.

    The team is an orchestrator with four sub-agents (star), the sparse and
    dense teams five peers in a chain and in a mesh (AgentPrune / G-Designer:
    dense communication costs 1.4-3.7x a sparse graph).
    """
    scn = scenario(parallel_fraction=0.9, subtasks=subtasks, depth=2, simulator=simulator)
    designs = [
        kim_team("single"),
        kim_team("centralized", n=n),
        make_design([("worker", 5, "m")], "chain", routing="routed"),
        make_design([("worker", 5, "m")], "mesh", routing="routed"),
    ]
    tok = evaluate(designs, scn)["tokens"].to_numpy()
    return {"team_over_single": float(tok[1] / tok[0]), "dense_over_sparse": float(tok[3] / tok[2])}
