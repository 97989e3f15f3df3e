"""Fast mode against the agent mode on random designs nobody picked: how often, and how far, they agree.

The agent mode is the independent check of the fast mode (docs/simulator.md, "Agent mode and
agreement"). ``tests/sim/test_sim_agreement_random.py`` asserts floors on one draw; this script prints
the figures behind them on more draws and scenarios, and names the designs that disagree most, which is
where a review of the fast mode's formulas should start.

For every (space, scenario) case and every draw it scores ``--designs`` uniform designs of the space
(at most ``--max-agents`` agents, the agent mode's practical range) in both modes, with the same seed, and
prints: the share of designs whose latency agrees within 25 %, the median |log(fast / agent)| of
latency, the three worst latency ratios with their kind and size, the share whose quality agrees within
0.05, the events' median hub wait over the fast mode's (designs with a wait above 0.5 s in both
modes) and how many designs wait above 0.5 s in one mode only (the events count a voter's wait behind
its own batch-mates, which the fast mode counts as service). Writes ``benchmarks/results/sim_agreement.md``.

Run with ``python benchmarks/sim_agreement.py [--draws 0,1] [--designs 60]`` (about a minute).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from swarmdesign.commands._common import load_scenario, load_space
from swarmdesign.sim import SimulatedEvaluator

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sim_agreement.md"
CASES = [
    ("software_team", "software_project"),
    ("software_team", "ticket_rush"),
    ("qa_ensemble", "math_qa"),
    ("software_team", "parallel_batch"),
    ("software_team", "sequential_chain"),
]


def designs_of(space_name: str, draw: int, n: int, max_agents: int) -> list:
    space = load_space(space_name)
    rng = np.random.default_rng(draw)
    out = []
    while len(out) < n:
        design = space.decode(rng.random(space.dim))
        if design.total_agents <= max_agents:
            out.append(design)
    return out


def compare(space_name: str, fitness: str, draw: int, n: int, max_agents: int) -> dict:
    designs = designs_of(space_name, draw, n, max_agents)
    scenario, _ = load_scenario(fitness)
    fast = SimulatedEvaluator().evaluate(designs, scenario, seed=3)
    agent = SimulatedEvaluator(mode="agent").evaluate(designs, scenario, seed=3)
    ratio = (fast["latency"] / agent["latency"]).to_numpy()
    gap = np.abs(np.log(ratio))
    worst = np.argsort(-gap)[:3]
    fw, aw = fast["hub_wait_s"].to_numpy(), agent["hub_wait_s"].to_numpy()
    both = (fw > 0.5) & (aw > 0.5)
    wait_ratio = np.median(aw[both] / fw[both]) if both.any() else np.nan
    one_only = int(np.sum((fw > 0.5) != (aw > 0.5)))
    return {
        "latency_within": float(np.mean(np.abs(ratio - 1.0) <= 0.25)),
        "median_gap": float(np.median(gap)),
        "worst": [(designs[i].topology.kind, designs[i].total_agents, float(ratio[i])) for i in worst],
        "quality_within": float(np.mean(np.abs(fast["quality"] - agent["quality"]).to_numpy() <= 0.05)),
        "wait_ratio": float(wait_ratio),
        "wait_one_only": one_only,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", default="0,1", help="comma-separated seeds of the design draws")
    ap.add_argument("--designs", type=int, default=60)
    ap.add_argument("--max-agents", type=int, default=5000)
    args = ap.parse_args()
    draws = [int(d) for d in args.draws.split(",")]
    lines = [
        "# Fast mode against the agent mode on random designs",
        "",
        f"`python benchmarks/sim_agreement.py --draws {args.draws} --designs {args.designs}`: uniform designs "
        f"of each space (at most {args.max_agents} agents), both modes with seed 3.",
        "",
        "| space | scenario | draw | latency within 25 % | median \\|log ratio\\| | worst latency ratios "
        "| quality within 0.05 | hub wait, events / fast (median) | waits in one mode only |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for space_name, fitness in CASES:
        for draw in draws:
            t0 = time.perf_counter()
            r = compare(space_name, fitness, draw, args.designs, args.max_agents)
            worst = ", ".join(f"{k} {n}: {x:.2f}" for k, n, x in r["worst"])
            print(
                f"{fitness:17s} draw {draw}: latency within 25 % {r['latency_within']:.2f}, median |log ratio| "
                f"{r['median_gap']:.3f}, worst {worst}; quality within 0.05 {r['quality_within']:.2f}; "
                f"hub wait events/fast {r['wait_ratio']:.2f}, in one mode only {r['wait_one_only']} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            lines.append(
                f"| {space_name} | {fitness} | {draw} | {r['latency_within']:.2f} | {r['median_gap']:.3f} | {worst} "
                f"| {r['quality_within']:.2f} | {r['wait_ratio']:.2f} | {r['wait_one_only']} |"
            )
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
