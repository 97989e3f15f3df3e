"""Draw one figure per simulator mechanism into ``docs/img/`` (for ``docs/simulator.md``).

Every figure is computed by the simulator itself (the fast mode, or the
mechanism's own function), so the documentation shows what the code does.
Run with ``python benchmarks/sim_plots.py``; needs matplotlib (the
``report`` extra). Writes ``docs/img/sim_*.png`` and
``benchmarks/results/sim_plots.json`` (the numbers behind the figures).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="mpl-"))
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.fitness import Scenario
from swarmdesign.sim import SimulatedEvaluator, scaling, voting
from swarmdesign.sim.metrics import LATENCY_LOSSES, QUALITY_LOSSES
from swarmdesign.sim.skill import success_probability
from swarmdesign.sim.testing import make_design

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
RESULTS = ROOT / "benchmarks" / "results" / "sim_plots.json"
FITNESS = ROOT / "fitness"
MODELS = ("gpt-4o", "claude-3-5-haiku", "gpt-4o-mini", "llama-3.1-8b")
EV = SimulatedEvaluator()


def scenario(name: str, **changes: dict[str, Any]) -> Scenario:
    """A bundled scenario with sections updated (``workload={...}``, ``simulator={...}``)."""
    data = Scenario.load(FITNESS / f"{name}.yaml").to_dict()
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    return Scenario.from_dict(data)


def run(designs: list, sc: Scenario, **params: Any) -> Any:
    return SimulatedEvaluator(**params).evaluate(designs, sc, seed=0) if params else EV.evaluate(designs, sc, seed=0)


def figure(name: str, title: str, draw: Callable[[plt.Axes], dict[str, Any]], numbers: dict[str, Any]) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    numbers[name] = draw(ax)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(IMG / f"sim_{name}.png")
    plt.close(fig)


def draw_skill(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario("software_project")
    d = np.linspace(0, 1, 101)
    out = {}
    for m in MODELS:
        p = success_probability(sc.model(m).skill + 0.5, d, 6.0, 0.5)
        ax.plot(d, p, label=f"{m} (skill {sc.model(m).skill:+.1f})")
        out[m] = float(success_probability(sc.model(m).skill + 0.5, np.array(0.3), 6.0, 0.5))
    ax.set_xlabel("task difficulty")
    ax.set_ylabel("P(one attempt right)")
    ax.legend(fontsize=8)
    return {"p_at_difficulty_0.3": out}


def draw_voting(ax: plt.Axes) -> dict[str, Any]:
    k = np.arange(1, 65)
    out = {}
    for p, style in ((0.8, "-"), (0.6, "-"), (0.4, "--"), (0.2, "--")):
        for rho, color in ((0.4, "C0"), (0.16, "C1"), (0.0, "C2")):
            # exact beta-binomial majority of k correlated voters (one row per voter count)
            q = voting.majority_vote(np.full((k.size, 1), p), k, np.full(k.size, rho))[:, 0]
            label = f"rho={rho}" if p == 0.8 else None
            ax.plot(k, q, style, color=color, label=label)
            out[f"p{p}_rho{rho}_k64"] = float(q[-1])
        ax.annotate(f"p={p}", (64, q[-1]), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("voters N (majority vote)")
    ax.set_ylabel("P(majority right)")
    ax.legend(fontsize=8, title="error correlation", title_fontsize=8)
    return out


def draw_review(ax: plt.Axes) -> dict[str, Any]:
    depths = [1, 2, 3, 4, 6, 8, 12, 16]
    out: dict[str, list[float]] = {}
    designs = {
        "one agent, no review": make_design([("coder", 1, "gpt-4o-mini")], "single"),
        "with a tester, 1 round": make_design([("coder", 1, "gpt-4o-mini"), ("tester", 1, "gpt-4o")], "chain"),
        "with a tester, 3 rounds": make_design(
            [("coder", 1, "gpt-4o-mini"), ("tester", 1, "gpt-4o")], "chain", review_rounds=3
        ),
    }
    for label, design in designs.items():
        errors = []
        for depth in depths:
            sc = scenario(
                "software_project", workload={"dependency_depth": depth, "subtasks": depth, "parallel_fraction": 1.0}
            )
            errors.append(1.0 - float(run([design], sc)["quality"][0]))
        out[label] = errors
        ax.plot(depths, errors, marker="o", label=label)
    ax.set_xlabel("dependency depth (dependent steps per task)")
    ax.set_ylabel("error rate (1 - quality)")
    ax.legend(fontsize=8)
    return {"depths": depths, **out}


def draw_amplification(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario(
        "software_project",
        workload={
            "subtasks": 8,
            "dependency_depth": 4,
            "parallel_fraction": 0.9,
            "difficulty": {"mean": 0.3, "spread": 0.1},
        },
    )
    m = "gpt-4o"
    designs = {
        "single": make_design([("coder", 1, m)], "single"),
        "independent": make_design([("coder", 8, m)], "independent", routing="routed"),
        "decentralised (mesh)": make_design([("coder", 8, m)], "mesh", routing="routed"),
        "centralised (star)": make_design([("orchestrator", 1, m), ("coder", 8, m)], "star"),
        "centralised + tester": make_design([("orchestrator", 1, m), ("coder", 8, m), ("tester", 2, m)], "star"),
    }
    err = 1.0 - run(list(designs.values()), sc)["quality"].to_numpy()
    amp = err / err[0]
    ax.bar(range(len(designs)), amp, color=["C7", "C3", "C1", "C0", "C2"])
    ax.set_xticks(range(len(designs)), list(designs), rotation=15, fontsize=8)
    ax.set_ylabel("error rate / single agent's")
    for i, a in enumerate(amp):
        ax.annotate(f"{a:.1f}x", (i, a), ha="center", va="bottom", fontsize=8)
    return dict(zip(designs, map(float, amp), strict=True))


def draw_usl(ax: plt.Axes) -> dict[str, Any]:
    n = np.unique(np.logspace(0, 3.5, 40).astype(int)).astype(float)
    out = {}
    for label, kappa, heard in (
        ("mesh (h = N-1)", 2e-4, None),
        ("tree / star (h = 1)", 2e-4, 1.0),
        ("no coherency", 0.0, None),
    ):
        x = scaling.usl_throughput(n, 0.005, kappa, heard)
        ax.plot(n, x, label=label)
        out[label] = {"peak_n": float(n[np.argmax(x)]), "peak_x": float(x.max())}
    for p in (0.9, 0.99):
        ax.plot(n, 1 / scaling.amdahl_time_fraction(p, n), ":", label=f"Amdahl p={p}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("workers N")
    ax.set_ylabel("throughput X(N) / X(1)")
    ax.legend(fontsize=8)
    return out


def draw_hub(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario("parallel_batch", workload={"tasks": 500, "subtasks": 8})
    workers = [2, 4, 8, 16, 32, 64, 128, 256, 512]
    out = {}
    cases = {
        "star, 1 hub": lambda w: make_design([("orchestrator", 1), ("worker", w)], "star"),
        "star, hubs = workers/8": lambda w: make_design([("orchestrator", max(1, w // 8)), ("worker", w)], "star"),
        "hierarchy, branching 8": lambda w: make_design(
            [("orchestrator", 1), ("worker", w)], "hierarchical", branching=8
        ),
    }
    for label, make in cases.items():
        df = run([make(w) for w in workers], sc)
        ax.plot(workers, df["latency"] / 3600, marker="o", label=label)
        out[label] = {
            "latency_h": (df["latency"] / 3600).round(3).tolist(),
            "utilisation": df["hub_utilisation"].round(2).tolist(),
        }
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("workers")
    ax.set_ylabel("workload latency (hours)")
    ax.legend(fontsize=8)
    return {"workers": workers, **out}


def draw_messages(ax: plt.Axes) -> dict[str, Any]:
    sizes = [8, 16, 32, 64, 128, 256, 512]
    out = {}
    for kind in ("mesh", "ring", "chain", "star", "hierarchical", "pubsub", "federated", "hybrid"):
        msgs = []
        for n in sizes:
            roles = [("orchestrator", 1), ("worker", n - 1)] if kind in HUB_KINDS else [("worker", n)]
            sc = scenario("parallel_batch", workload={"tasks": n})
            msgs.append(float(run([make_design(roles, kind, routing="routed")], sc)["messages"][0]))
        ax.plot(sizes, msgs, marker=".", label=kind)
        out[kind] = float(np.polyfit(np.log(sizes), np.log(msgs), 1)[0])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("agents n (one task per agent)")
    ax.set_ylabel("messages for the workload")
    ax.legend(fontsize=8, ncol=2)
    return {"growth_exponent": out}


def draw_faults(ax: plt.Axes) -> dict[str, Any]:
    rates = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
    designs = {
        "star, 1 hub": make_design([("orchestrator", 1), ("coder", 20)], "star"),
        "star, 3 hubs": make_design([("orchestrator", 3), ("coder", 20)], "star"),
        "hierarchy, 1 top": make_design([("orchestrator", 1), ("coder", 20)], "hierarchical", branching=4),
        "mesh": make_design([("coder", 21)], "mesh", routing="routed"),
    }
    out: dict[str, list[float]] = {k: [] for k in designs}
    for f in rates:
        df = run(list(designs.values()), scenario("software_project", environment={"fault_rate": f}))
        for label, r in zip(designs, df["robustness"], strict=True):
            out[label].append(float(r))
    for label, values in out.items():
        ax.plot(rates, values, marker="o", label=label)
    ax.set_xlabel("fault rate per call")
    ax.set_ylabel("robustness (quality with / without faults)")
    ax.legend(fontsize=8)
    return {"rates": rates, **out}


def draw_stampede(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario("ticket_rush")
    het = np.linspace(0, 1, 11)
    out = {}
    for label, roles in (
        ("one model", [("worker", 400, "gpt-4o-mini")]),
        ("four models", [("worker", 100, m) for m in MODELS]),
    ):
        df = run([make_design(roles, "mesh", heterogeneity=float(h), routing="routed") for h in het], sc)
        ax.plot(het, df["collision_share"], marker="o", label=f"{label}, mesh")
        out[label] = df["collision_share"].round(3).tolist()
    df = run(
        [
            make_design(
                [("orchestrator", 4, "gpt-4o-mini"), ("worker", 400, "gpt-4o-mini")], "star", heterogeneity=float(h)
            )
            for h in het
        ],
        sc,
    )
    ax.plot(het, df["collision_share"], marker="s", label="one model, hub allocates")
    out["hub"] = df["collision_share"].round(3).tolist()
    ax.set_xlabel("coordination.heterogeneity")
    ax.set_ylabel("share of picks that collide")
    ax.legend(fontsize=8)
    return out


def draw_routing(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario("software_project", simulator={"skill": {"task_mix": {"coder": 0.7, "researcher": 0.3}}})
    sizes = [10, 100, 1000, 10_000, 100_000, 1_000_000]
    out = {}
    ax2 = ax.twinx()
    for routing, color in (("broadcast", "C3"), ("routed", "C0")):
        designs = [
            make_design([("coder", n - n // 50), ("researcher", max(1, n // 50))], "independent", routing=routing)
            for n in sizes
        ]
        df = run(designs, sc)
        ax.plot(sizes, df["messages_per_task"], marker="o", color=color, label=f"{routing}: messages/task")
        ax2.plot(sizes, df["routing_accuracy"], "--", color=color, label=f"{routing}: right archetype")
        out[routing] = {
            "messages_per_task": df["messages_per_task"].tolist(),
            "routing_accuracy": df["routing_accuracy"].round(3).tolist(),
        }
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("agents")
    ax.set_ylabel("routing messages per task")
    ax2.set_ylabel("share of tasks on the right archetype")
    ax2.set_ylim(0, 1.05)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="center left")
    return {"agents": sizes, **out}


def draw_sequential_parallel(ax: plt.Axes) -> dict[str, Any]:
    out = {}
    for i, name in enumerate(("sequential_chain", "parallel_batch")):
        sc = scenario(name)
        single = [make_design([("generalist", 1, m)], "single", redundancy=k) for m in MODELS for k in (1, 3)]
        teams = [
            make_design([("orchestrator", max(1, n // 8), m), ("generalist", n, m)], kind)
            for m in MODELS
            for n in (2, 8, 32, 128)
            for kind in ("star", "hierarchical")
        ]
        teams += [
            make_design([("generalist", 1, m), ("tester", 1, m)], "chain", review_rounds=r)
            for m in MODELS
            for r in (1, 2)
        ]
        best = {}
        for label, designs in (("best single agent", single), ("best team", teams)):
            df = sc.finish_metrics(run(designs, sc))
            best[label] = float(df["score"].max())
        out[name] = best
        ax.bar(
            [i - 0.2, i + 0.2], list(best.values()), width=0.4, color=["C7", "C0"], label=list(best) if i == 0 else None
        )
    ax.set_xticks([0, 1], ["sequential_chain", "parallel_batch"])
    ax.set_ylabel("scenario score")
    ax.legend(fontsize=8)
    return out


def draw_breakdown(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario("software_project")
    designs = {
        "single gpt-4o": make_design([("coder", 1, "gpt-4o")], "single"),
        "star 1 hub x 200": make_design([("planner", 1), ("coder", 200), ("reviewer", 20)], "star"),
        "tree x 200": make_design(
            [("planner", 4), ("coder", 200), ("reviewer", 20)], "hierarchical", branching=8, review_rounds=2
        ),
        "mesh x 200": make_design([("coder", 200), ("reviewer", 20)], "mesh", routing="routed"),
    }
    df = run(list(designs.values()), sc)
    share = df[[f"loss_latency_{m}" for m in LATENCY_LOSSES]].div(df["latency"], axis=0)
    bottom = df["ideal_latency"] / df["latency"]
    ax.bar(range(len(designs)), bottom, color="lightgrey", label="ideal")
    for j, m in enumerate(LATENCY_LOSSES):
        values = share[f"loss_latency_{m}"].clip(lower=0)
        if values.max() < 0.02:
            continue
        ax.bar(range(len(designs)), values, bottom=bottom, label=m, color=f"C{j % 10}")
        bottom = bottom + values
    ax.set_xticks(range(len(designs)), list(designs), fontsize=8)
    ax.set_ylabel("share of the workload latency")
    ax.legend(fontsize=7, ncol=2)
    q = df[[f"loss_quality_{m}" for m in QUALITY_LOSSES]]
    return {
        "latency_s": dict(zip(designs, df["latency"].round(0), strict=True)),
        "quality_losses": {d: q.iloc[i].round(4).to_dict() for i, d in enumerate(designs)},
    }


def draw_agreement(ax: plt.Axes) -> dict[str, Any]:
    sc = scenario("software_project")
    m = "gpt-4o-mini"
    designs = [
        make_design([("coder", 1, "gpt-4o")], "single"),
        make_design([("coder", 10, m)], "independent", redundancy=5),
        make_design([("coder", 6, m)], "chain", review_rounds=1),
        make_design([("worker", 20, m), ("coder", 10, m)], "ring", routing="routed"),
        make_design([("planner", 1, m), ("coder", 8, m), ("reviewer", 2, m)], "star"),
        make_design([("orchestrator", 1, m), ("coder", 60, m)], "star"),
        make_design([("planner", 2, m), ("coder", 30, m), ("tester", 4, m)], "hierarchical", branching=8),
        make_design([("coder", 12, m), ("reviewer", 3, m)], "mesh", redundancy=3, aggregation="judge"),
        make_design([("coder", 40, m), ("reviewer", 5, m)], "pubsub", aggregation="first_valid", redundancy=3),
        make_design([("orchestrator", 4, m), ("coder", 40, m)], "federated", clusters=4),
    ]
    fast, agent = run(designs, sc), run(designs, sc, mode="agent")
    out = {}
    for metric, marker in (("quality", "o"), ("cost", "s"), ("latency", "^")):
        ratio = agent[metric] / fast[metric]
        ax.scatter(range(len(designs)), ratio, marker=marker, label=metric)
        out[metric] = ratio.round(3).tolist()
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(designs)), [d.topology.kind for d in designs], rotation=30, fontsize=8)
    ax.set_ylabel("agent mode / fast mode")
    ax.legend(fontsize=8)
    return out


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    numbers: dict[str, Any] = {}
    figures = [
        ("skill", "Skill against difficulty (logistic)", draw_skill),
        ("voting", "Majority vote: per-item correctness and voter correlation", draw_voting),
        ("review", "Errors compound with depth; review contains them", draw_review),
        ("amplification", "Error amplification by architecture", draw_amplification),
        ("usl", "Universal Scalability Law and Amdahl", draw_usl),
        ("hub", "Hub queueing: one hub saturates, replicas and trees relieve it", draw_hub),
        ("messages", "Messages by topology (weak scaling)", draw_messages),
        ("faults", "Faults: single points of failure", draw_faults),
        ("stampede", "Stampede on 40 seats (ticket_rush)", draw_stampede),
        ("routing", "Broadcast vs routed task routing", draw_routing),
        ("sequential_parallel", "One strong agent vs a team", draw_sequential_parallel),
        ("breakdown", "Where the time goes (software_project)", draw_breakdown),
        ("agreement", "Agent mode vs fast mode", draw_agreement),
    ]
    for name, title, draw in figures:
        figure(name, title, draw, numbers)
        print(f"docs/img/sim_{name}.png")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(numbers, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"numbers in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
