"""The fast mode's speed devices must not change a single figure.

A large batch is scored in passes of ``CHUNK_DESIGNS`` designs, and first-valid
rows of several attempt caps share one expansion in a small batch; both must
give the same metrics as one pass with one expansion per cap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim_helpers import fast_inputs

from swarmdesign.fitness import Scenario
from swarmdesign.sim import evaluator, heap, queueing, voting
from swarmdesign.sim.params import validate_simulator_section
from swarmdesign.sim.testing import make_design, random_designs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup() -> tuple[Scenario, object, list]:
    scenario = Scenario.load(ROOT / "fitness" / "software_project.yaml")
    params = validate_simulator_section(scenario.simulator)
    designs = random_designs(np.random.default_rng(3), 300, max_roles=3, max_count=20)
    return scenario, params, designs


def test_passes_and_shared_expansion_change_nothing(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario, params, designs = setup
    monkeypatch.setattr(evaluator, "CHUNK_DESIGNS", 64)
    monkeypatch.setattr(voting, "_ONE_PASS_ROWS", 10**9)  # every batch shares one first-valid expansion
    fast = evaluator.simulate_fast(designs, scenario, params, seed=5, replicas=16)
    monkeypatch.setattr(evaluator, "CHUNK_DESIGNS", 10**9)
    monkeypatch.setattr(voting, "_ONE_PASS_ROWS", -1)  # one expansion per attempt cap
    reference = evaluator.simulate_fast(designs, scenario, params, seed=5, replicas=16)
    ks = np.array([d.coordination.redundancy for d in designs])
    assert len(np.unique(ks[ks > 1])) > 1  # the shared expansion really mixes caps
    for name, ref in reference.items():
        np.testing.assert_allclose(fast[name], ref, rtol=1e-12, atol=1e-9, equal_nan=True, err_msg=name)


def test_first_valid_mixed_caps_match_per_cap() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (40, 8))
    k = rng.integers(1, 7, 40)
    rho = rng.uniform(0.0, 0.6, 40)
    det, fr = rng.uniform(0.2, 0.9, (40, 8)), rng.uniform(0.0, 0.3, (40, 8))
    right, tries, _, _ = voting.first_valid_with_attempts(p, k, rho, det, fr)
    np.testing.assert_allclose(right, voting.first_valid(p, k, rho, det, fr), rtol=1e-12)
    np.testing.assert_allclose(tries, voting.first_valid_attempts(p, k, rho, det, fr), rtol=1e-12)
    assert np.all(tries[k == 1] == 1.0) and np.all(right[k == 1] == p[k == 1])


def test_keep_freed_memory_is_idempotent() -> None:
    first = heap.keep_freed_memory()
    assert isinstance(first, bool)
    assert heap.keep_freed_memory() is True


def test_closed_loop_grid_steps_match_bisection(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    args = (
        rng.uniform(1, 5000, 30),
        rng.uniform(0, 3, 30),
        rng.uniform(1, 60, 30),
        rng.uniform(0.1, 3, 30),
        rng.integers(1, 6, 30).astype(float),
    )
    monkeypatch.setattr(queueing, "_GRID_ROWS", 10**9)
    grid = queueing.closed_loop_wait(*args)
    monkeypatch.setattr(queueing, "_GRID_ROWS", -1)
    halving = queueing.closed_loop_wait(*args)
    for a, b in zip(grid, halving, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert np.any(grid[1] > 0.5)  # some hubs are busy, so the fixed point is not trivial


def test_first_valid_pays_one_check_per_attempt() -> None:
    """Each first-valid attempt is validated by a review-sized call, made in sequence with the attempts."""
    scenario = Scenario.load(ROOT / "fitness" / "math_qa.yaml")
    ev = evaluator.SimulatedEvaluator()
    one, several = (
        make_design([("solver", 1)], "single", aggregation="first_valid", redundancy=k, review_rounds=0) for k in (1, 4)
    )
    rows = ev.evaluate([one, several], scenario, seed=0)
    items = scenario.workload.tasks * scenario.workload.subtasks
    extra_calls = rows["llm_calls"][1] - rows["llm_calls"][0]
    # without the checks the extra calls are the extra attempts only, items * (attempts - 1) < items
    assert extra_calls >= items
    assert rows["latency"][1] > rows["latency"][0]


@pytest.mark.parametrize("n", [20, 300])
def test_fault_settings_stacked_in_one_pass_match_separate_chains(setup, n: int) -> None:
    """Robustness scores the scenario's faults and none in one stacked pass; each must equal its own chain."""
    from swarmdesign.sim import fast, fast_resources

    scenario, _, designs = setup
    params, views, prod, rho, load = fast_inputs(designs[:n], scenario, seed=1, replicas=16)
    f = 0.2  # well above every bundled rate, so the two settings differ on most rows

    hub = {r: fast_resources.hub_log_keep(views, load, params, r) for r in (f, 0.0)}
    both = fast.quality_chains(
        views, prod, scenario, params, fault_rates=(f, 0.0), rho=rho,
        hub_log_keep=(hub[f], hub[0.0]), collisions=load.collisions_resource,
    )  # fmt: skip
    alone = [
        fast.quality_chain(views, prod, scenario, params, fault_rate=r, rho=rho, hub_log_keep=hub[r],
                           collisions=load.collisions_resource)
        for r in (f, 0.0)
    ]  # fmt: skip
    assert not np.array_equal(alone[0].quality, alone[1].quality)
    for got, want in zip(both, alone, strict=True):
        assert got.quality.tobytes() == want.quality.tobytes()
        assert got.losses.keys() == want.losses.keys()
        for key in want.losses:
            assert np.asarray(got.losses[key]).tobytes() == np.asarray(want.losses[key]).tobytes(), key


def test_cached_difficulty_draws_equal_fresh_ones_and_stay_unwritten(setup) -> None:
    scenario, params, designs = setup
    alpha, beta = scenario.workload.difficulty.beta_params()
    from swarmdesign.sim.skill import difficulty_draws

    cached = evaluator._difficulty(7, 32, alpha, beta)
    assert cached.tobytes() == difficulty_draws(np.random.default_rng(7), 32, alpha, beta).tobytes()
    assert not cached.flags.writeable
    first = evaluator.simulate_fast(designs[:20], scenario, params, seed=7, replicas=32)
    again = evaluator.simulate_fast(designs[:20], scenario, params, seed=7, replicas=32)
    assert all(first[k].tobytes() == again[k].tobytes() for k in first)
    assert cached.tobytes() == evaluator._difficulty(7, 32, alpha, beta).tobytes()


def _latent_moments(p: float, rho: float, det: float, fr: float, n: int) -> tuple[list[float], list[float]]:
    """``E[r^m]`` and ``E[p_i r^m]``, ``m < n``, by quadrature over ``p_i ~ Beta`` (mean ``p``, correlation ``rho``).

    QUADPACK's algebraic weight ``x^(a-1) (1-x)^(b-1)`` takes the density's end singularities exactly.
    """
    tries = [_beta_expect(p, rho, lambda x, m=m: (fr * x + det * (1 - x)) ** m) for m in range(n)]
    right = [_beta_expect(p, rho, lambda x, m=m: x * (fr * x + det * (1 - x)) ** m) for m in range(n)]
    return tries, right


def _beta_expect(p: float, rho: float, f) -> float:  # noqa: ANN001
    """``E[f(p_i)]`` for ``p_i ~ Beta`` of mean ``p`` and correlation ``rho``, by QUADPACK's algebraic weight."""
    from scipy import integrate, special

    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    return integrate.quad(f, 0.0, 1.0, weight="alg", wvar=(a - 1, b - 1), epsabs=1e-14)[0] / special.beta(a, b)


def test_first_valid_attempts_generating_function_matches_integration_over_the_latent() -> None:
    """``E[z^N]`` (times the row's weights) against the law of ``N`` integrated over ``p_i ~ Beta``."""
    rng = np.random.default_rng(12)
    d, q = 5, 2
    p = rng.uniform(0.2, 0.8, (d, q))
    rho = rng.uniform(0.05, 0.3, d)
    det, fr = rng.uniform(0.2, 0.95, (d, q)), rng.uniform(0.0, 0.3, (d, 1))
    counts = np.array([1, 2, 4, 7, 7])
    z, weights = rng.uniform(0.5, 0.99, d), rng.uniform(0.2, 1.0, (d, q))
    _, _, _, pgf = voting.first_valid_with_attempts(p, counts, rho, det, fr, weights=weights, z=z)
    for i in range(d):
        k = int(counts[i])
        for j in range(q):

            def gf(x: float, i: int = i, j: int = j, k: int = k) -> float:
                r = fr[i, 0] * x + det[i, j] * (1 - x)  # an attempt's rejection; the k-th is kept, whatever
                return sum(r ** (m - 1) * (1 - r) * z[i] ** m for m in range(1, k)) + r ** (k - 1) * z[i] ** k

            want = _beta_expect(p[i, j], rho[i], gf) * weights[i, j]
            np.testing.assert_allclose(pgf[i, j], want, rtol=1e-9)


@pytest.mark.parametrize("table", [True, False])
def test_first_valid_terms_match_integration_over_the_latent(table: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """E[p_i r^m], E[r^m] and their sums against integration over p_i ~ Beta, by the lag table and per lag."""
    monkeypatch.setattr(voting, "_LAG_TABLE_ENTRIES", 1 << 40 if table else 0)
    rng = np.random.default_rng(11)
    d, q = 6, 3
    p = rng.uniform(0.2, 0.8, (d, q))
    rho = rng.uniform(0.05, 0.3, (d, 1))
    det, fr = rng.uniform(0.2, 0.95, (d, q)), rng.uniform(0.0, 0.3, (d, 1))
    counts = np.array([1, 2, 3, 5, 8, 8])
    right_sum, last, attempts, survival = voting._first_valid_terms(p, rho, counts, det, fr)
    for i in range(d):
        for j in range(q):
            n = int(counts[i])
            tries_m, right_m = _latent_moments(p[i, j], rho[i, 0], det[i, j], fr[i, 0], n)
            np.testing.assert_allclose(survival[:n, i, j], tries_m, rtol=1e-9)
            assert np.all(survival[n:, i, j] == 0.0)
            np.testing.assert_allclose(attempts[i, j], sum(tries_m), rtol=1e-9)
            np.testing.assert_allclose(right_sum[i, j], sum(right_m), rtol=1e-9)
            np.testing.assert_allclose(last[i, j], right_m[-1], rtol=1e-9)
