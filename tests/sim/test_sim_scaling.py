"""Decomposition and parallel speed-up: Amdahl, USL, Brooks; hand-offs and depth."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import evaluate, make_scenario

from swarmdesign.sim import scaling
from swarmdesign.sim.testing import make_design

WORKERS = [1, 4, 16, 32, 64, 128, 256, 1024]


def test_usl_throughput_peaks_under_coherency() -> None:
    n = np.array(WORKERS, dtype=float)
    x = scaling.usl_throughput(n, 0.03, 2e-4)
    peak = int(np.argmax(x))
    assert 0 < peak < len(n) - 1
    assert scaling.usl_peak(0.03, 2e-4) == pytest.approx(np.sqrt(0.97 / 2e-4))
    # without coherency, throughput only saturates (Amdahl), never falls
    assert np.all(np.diff(scaling.usl_throughput(n, 0.03, 0.0)) > 0)


def _mesh_throughput(simulator: dict) -> np.ndarray:
    scenario = make_scenario(workload={"tasks": 4000}, simulator=simulator)
    designs = [make_design([("worker", n, "m0")], "mesh", routing="routed", name=f"w{n}") for n in WORKERS]
    df = evaluate(designs, scenario)
    return 4000 / df["latency"].to_numpy()


def test_adding_workers_to_a_mesh_helps_peaks_then_hurts() -> None:
    throughput = _mesh_throughput({})
    peak = int(np.argmax(throughput))
    assert 0 < peak < len(WORKERS) - 1
    assert throughput[-1] < 0.5 * throughput[peak]  # Brooks: far past the peak, more workers, later work
    flat = _mesh_throughput({"decomposition": {"coherency": 0.0}})
    assert np.all(np.diff(flat) > 0)


def test_amdahl_serial_share_caps_the_speedup() -> None:
    designs = [make_design([("orchestrator", 8), ("worker", n)], "hierarchical", routing="routed") for n in (1, 512)]
    speedups = []
    for p in (0.5, 0.99):
        # one orchestration round: the coordinators' re-plans would be a stage bound of their own, not Amdahl's
        one_round = {"decomposition": {"orchestration_rounds": 1}}
        df = evaluate(designs, make_scenario(workload={"tasks": 2000, "parallel_fraction": p}, simulator=one_round))
        speedups.append(df["latency"][0] / df["latency"][1])
    assert speedups[0] < 2.0 < 8.0 < speedups[1]


def _error_by_depth(depths: list[int], design_kwargs: dict) -> np.ndarray:
    out = []
    for depth in depths:
        scenario = make_scenario(
            workload={"dependency_depth": depth, "subtasks": depth, "difficulty": {"mean": 0.45, "spread": 0.05}},
            simulator={"skill": {"task_mix": {"coder": 1.0}}},
        )
        out.append(1.0 - evaluate([make_design(**design_kwargs)], scenario)["quality"][0])
    return np.array(out)


def test_errors_compound_with_depth_unless_reviewed() -> None:
    depths = [1, 2, 4, 8, 16]
    unchecked = _error_by_depth(depths, {"roles": [("coder", 1, "m0")], "kind": "single"})
    reviewed = _error_by_depth(
        depths, {"roles": [("coder", 1, "m0"), ("tester", 2, "strong")], "kind": "chain", "review_rounds": 3}
    )
    assert np.all(np.diff(unchecked) > 0)
    assert unchecked[-1] - unchecked[0] > 0.3
    assert reviewed[-1] - reviewed[0] < 0.3 * (unchecked[-1] - unchecked[0])
    assert reviewed[-1] < 0.5 * unchecked[-1]


def test_independent_agents_amplify_errors_more_than_a_checking_hub() -> None:
    """Kim et al. 2025: unchecked merges amplify errors (~17x), a central coordinator contains them (~4x)."""
    scenario = make_scenario(
        workload={"subtasks": 8, "dependency_depth": 3, "parallel_fraction": 0.9, "difficulty": {"mean": 0.3}},
        simulator={"skill": {"task_mix": {"worker": 1.0}}},
    )
    single = make_design([("worker", 1, "strong")], "single")
    independent = make_design([("worker", 8, "strong")], "independent", routing="routed")
    central = make_design([("orchestrator", 1, "strong"), ("worker", 8, "strong")], "star")
    err = 1.0 - evaluate([single, independent, central], scenario)["quality"].to_numpy()
    assert err[1] / err[0] > 1.5 * (err[2] / err[0])
