"""Speed of the simulated evaluator.

Prints, and writes to ``benchmarks/results/sim_speed.json``:

* designs per second for one batch of 10,000 small designs (fast mode);
* seconds to score one 10^6-agent design and one 10-agent design, and their
  ratio (the fast mode's cost must not depend on agent counts);
* agent-steps per second of the agent-level mode (one agent-step = one
  attempt by one agent, in the sampled tasks or in the workload run).

Both wall-clock and CPU seconds are reported (CPU time is steadier on a
shared machine); each figure is the best of a few repeats. Run with
``python benchmarks/sim_speed.py [--designs N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from swarmdesign.fitness import Scenario
from swarmdesign.sim import SimulatedEvaluator
from swarmdesign.sim.testing import make_design, random_designs

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "fitness" / "software_project.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "sim_speed.json"


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best (wall, cpu) seconds of ``repeats`` calls."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scenario = Scenario.load(SCENARIO)
    fast = SimulatedEvaluator()

    designs = random_designs(np.random.default_rng(0), args.designs, max_roles=3, max_count=20)
    fast.evaluate(designs[:64], scenario, seed=0)  # warm-up (imports, caches of numpy/scipy)
    wall, cpu = best_of(lambda: fast.evaluate(designs, scenario, seed=0), args.repeats)
    batch = {
        "designs": len(designs),
        "wall_s": wall,
        "cpu_s": cpu,
        "per_s_wall": len(designs) / wall,
        "per_s_cpu": len(designs) / cpu,
    }

    big = make_design([("orchestrator", 1000), ("worker", 998_000), ("reviewer", 1000)], "hierarchical", branching=16)
    small = make_design([("orchestrator", 1), ("worker", 8), ("reviewer", 1)], "hierarchical", branching=16)
    reps = max(10, 5 * args.repeats)
    big_w, big_c = best_of(lambda: fast.evaluate([big], scenario, seed=0), reps)
    small_w, small_c = best_of(lambda: fast.evaluate([small], scenario, seed=0), reps)
    scale = {
        "agents_big": big.total_agents,
        "agents_small": small.total_agents,
        "big_wall_s": big_w,
        "small_wall_s": small_w,
        "big_cpu_s": big_c,
        "small_cpu_s": small_c,
        "ratio_wall": big_w / small_w,
        "ratio_cpu": big_c / small_c,
    }

    agent = SimulatedEvaluator(mode="agent")
    team = make_design(
        [("planner", 2), ("coder", 200), ("reviewer", 20), ("integrator", 1)], "hierarchical", branching=8, redundancy=3
    )
    wl = scenario.workload
    sampled = (
        max(16 * agent.replicas, 256) * wl.dependency_depth * team.coordination.redundancy * 2
    )  # with/without faults
    run = wl.tasks * wl.subtasks * team.coordination.redundancy
    a_wall, a_cpu = best_of(lambda: agent.evaluate([team], scenario, seed=0), args.repeats)
    steps = sampled + run
    agent_mode = {
        "agents": team.total_agents,
        "agent_steps": steps,
        "wall_s": a_wall,
        "cpu_s": a_cpu,
        "steps_per_s_wall": steps / a_wall,
        "steps_per_s_cpu": steps / a_cpu,
    }

    report = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "scenario": SCENARIO.name,
        "fast_batch": batch,
        "fast_scale": scale,
        "agent_mode": agent_mode,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"fast mode, batch of {batch['designs']} small designs: {batch['per_s_wall']:,.0f} designs/s wall "
        f"({batch['per_s_cpu']:,.0f}/s CPU)"
    )
    print(
        f"fast mode, one design of {big.total_agents:,} agents: {big_w * 1e3:.2f} ms; of {small.total_agents} "
        f"agents: {small_w * 1e3:.2f} ms; ratio {scale['ratio_wall']:.2f} wall ({scale['ratio_cpu']:.2f} CPU)"
    )
    print(
        f"agent mode, {team.total_agents} agents: {agent_mode['steps_per_s_wall']:,.0f} agent-steps/s wall "
        f"({agent_mode['steps_per_s_cpu']:,.0f}/s CPU)"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
