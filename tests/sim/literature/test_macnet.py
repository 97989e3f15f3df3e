"""Qian et al. 2024, MacNet, "Scaling Large-Language-Model-based Multi-Agent Collaboration".

Published: quality rises logistically with the number of collaborating
agents, the inflection around 2^3-2^5 agents, and dense or irregular graphs
(mesh) do at least as well as a star, which beats a chain. Stated tolerance:
the mesh curve never falls, rises by > 0.1, has its steepest step between
2^3 and 2^5 agents and flattens (last doubling < 0.02); from 32 agents on
mesh >= star - 0.01 and star > chain + 0.02. Mechanism: peer critique
(``propagation.peer_refinement`` per peer who reads a piece); without it the
mesh stays flat.
"""

from __future__ import annotations

import numpy as np

from swarmdesign.sim import fidelity


def test_quality_grows_logistically_with_collaborators() -> None:
    res = fidelity.macnet()
    mesh = np.array(res["curves"]["mesh"])
    assert np.all(np.diff(mesh) >= -1e-9)
    assert mesh[-1] - mesh[0] > 0.1
    assert 8.0 <= res["inflection_agents"] <= 32.0
    assert mesh[-1] - mesh[-2] < 0.02
    big = fidelity.MACNET_SIZES.index(32)
    for kind_star, kind_chain, kind_mesh in zip(
        res["curves"]["star"][big:], res["curves"]["chain"][big:], res["curves"]["mesh"][big:], strict=True
    ):
        assert kind_mesh >= kind_star - 0.01
        assert kind_star > kind_chain + 0.02


def test_without_peer_critique_a_bigger_mesh_is_no_better() -> None:
    mesh = np.array(fidelity.macnet({"propagation": {"peer_refinement": 0.0}})["curves"]["mesh"])
    assert mesh[-1] - mesh[0] < 0.02
