"""Kim et al. 2025 (arXiv 2512.08296): coordination turns and token overhead by architecture.

Published: reasoning turns grow as a power of team size, T = 2.72 (n + 0.5)^1.724
(fit over the architectures together); token overhead over a single agent
Independent 58 % < Decentralized 263 % ≈ Centralized 285 % < Hybrid 515 %.
Stated tolerance: the pooled exponent of coordination messages per task
against team size (2 … 16 agents, one sub-task each) within 1.724 ± 0.3;
Independent lowest (within half to twice its 58 %: a synthesis call reads
every piece) and Hybrid highest overhead, for teams of 3-4 workers on
4-8 sub-tasks (at 8 agents the mesh, whose cost grows as n^2 per piece,
overtakes the hybrid). Mechanisms: a coordinator
runs several orchestration rounds per task and each round re-reads the
task's growing transcript (``decomposition.orchestration_rounds``); peers
who exchange every step with each other (mesh, and a hybrid's members) send
``n - 1`` messages per step and critique each other's pieces. With one
round the centralised team's messages grow only linearly and the pooled
exponent falls; the hybrid (an orchestrator plus peer exchange) pays for
both mechanisms, so its overhead stays near the centralised and decentralised
ones added when either is switched off.
"""

from __future__ import annotations

import pytest

from swarmdesign.sim import fidelity

ONE_ROUND = {"decomposition": {"orchestration_rounds": 1}}


def test_coordination_turns_grow_as_a_power_near_one_point_seven() -> None:
    turns = fidelity.kim_turns_exponent()
    assert abs(turns["all"] - 1.724) <= 0.3
    assert turns["centralized"] > 1.3 and turns["decentralized"] > 1.3  # each super-linear on its own
    assert turns["independent"] < 1.0


def test_without_orchestration_rounds_centralised_turns_grow_linearly() -> None:
    turns = fidelity.kim_turns_exponent(ONE_ROUND)
    assert turns["centralized"] < 1.0
    # the peer exchange of the mesh and the hybrid still grows as n^2; the pooled exponent loses the rounds' part
    assert turns["all"] < fidelity.kim_turns_exponent()["all"] - 0.1


@pytest.mark.parametrize(("n", "subtasks"), [(3, 4), (4, 4), (4, 8)])
def test_token_overhead_independent_lowest_hybrid_highest(n: int, subtasks: int) -> None:
    ovh = fidelity.kim_overhead(n=n, subtasks=subtasks)
    assert ovh["independent"] < min(ovh["decentralized"], ovh["centralized"], ovh["hybrid"])
    assert ovh["hybrid"] > max(ovh["decentralized"], ovh["centralized"])
    # Decentralized ≈ Centralized (263 % vs 285 %): within a factor 1.5 of each other
    assert 1 / 1.5 < ovh["centralized"] / ovh["decentralized"] < 1.5
    # Independent 58 %: its agents' outputs are combined by a synthesis call reading every piece (half to twice)
    assert 29.0 <= ovh["independent"] <= 116.0


NO_CRITIQUE = {"propagation": {"peer_refinement": 0.0}}


@pytest.mark.parametrize("simulator", [None, ONE_ROUND, NO_CRITIQUE], ids=["default", "one round", "no critique"])
def test_the_hybrid_pays_for_the_orchestrator_and_the_peers(simulator: dict | None) -> None:
    """Kim et al.'s Hybrid overhead (515 %) is close to Centralized (285 %) and Decentralized (263 %) added:
    the orchestrator's rounds plus the peers' exchange and critique. Each knock-out moves the hybrid with the
    architecture that has that mechanism, so the sum keeps holding; the hybrid is cheaper without either."""
    ovh = fidelity.kim_overhead(simulator)
    assert 0.8 <= ovh["hybrid"] / (ovh["centralized"] + ovh["decentralized"]) <= 1.25
    if simulator is not None:
        assert ovh["hybrid"] < fidelity.kim_overhead()["hybrid"] - 50
