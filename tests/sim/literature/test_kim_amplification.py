"""Kim et al. 2025 (arXiv 2512.08296): error amplification by architecture.

Published, error relative to one agent: Independent 17.2x > Decentralized
7.8x > Hybrid 5.1x > Centralized 4.4x (independent / centralised = 3.9).
Stated tolerance: the ordering exactly; independent / centralised in 2..8;
every team amplifies (> 1.5x). Mechanism: unchecked merges and hand-offs,
caught by a central hub (``hub_catch``), peers (``peer_catch``, peer
critique) or across a federation's clusters at the peer rate. Without the
hub's catch the centralised team amplifies like the others.
"""

from __future__ import annotations

from swarmdesign.sim import fidelity


def test_amplification_orders_as_published() -> None:
    amp = fidelity.kim_error_amplification()
    assert amp["independent"] > amp["decentralized"] > amp["hybrid"] > amp["centralized"] > 1.5
    assert 2.0 < amp["independent"] / amp["centralized"] < 8.0


def test_without_the_hubs_catch_centralised_no_longer_contains_errors() -> None:
    amp = fidelity.kim_error_amplification({"propagation": {"hub_catch": 0.0}})
    assert amp["centralized"] > amp["decentralized"]
