from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution

from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError
from swarmdesign.resources import bundled_names, resolve
from swarmdesign.space import SearchSpace

BUNDLED = ["software_team", "qa_ensemble", "million_agents"]


@pytest.mark.parametrize("name", BUNDLED)
def test_every_box_vector_decodes_to_a_valid_design_within_constraints(name: str) -> None:
    space = SearchSpace.load(resolve(name, "search_spaces", option="SPACE"))
    rng = np.random.default_rng(1)
    cap = space.spec.constraints.max_total_agents
    corners = rng.integers(0, 2, size=(100, space.dim)).astype(float)
    for x in np.vstack([rng.random((300, space.dim)), corners, np.zeros((1, space.dim)), np.ones((1, space.dim))]):
        d = space.decode(x)
        assert 1 <= d.total_agents <= cap
        assert Design.from_yaml(d.to_yaml()) == d  # valid by the Design's own validators
        assert space.decode(space.encode(d)) == d  # encode-decode is stable


def test_bundled_names_are_listed() -> None:
    assert set(BUNDLED) <= set(bundled_names("search_spaces"))


def test_log_counts_and_optional_roles_compile_to_optuna_distributions() -> None:
    space = SearchSpace.load(resolve("software_team", "search_spaces", option="SPACE"))
    dists = space.distributions()
    assert dists["count.coder"] == IntDistribution(1, 5000, log=True)
    assert dists["use.reviewer"] == IntDistribution(0, 1)
    assert "use.coder" not in dists  # coder is required (min 1)
    assert isinstance(dists["topology.kind"], CategoricalDistribution)


def test_int_bins_cover_every_value_equally_for_linear_ranges() -> None:
    space = SearchSpace.from_dict(
        {
            "swarmdesign_space": 1,
            "name": "s",
            "roles": [{"name": "w", "archetype": "worker", "count": {"min": 1, "max": 4}}],
        }
    )
    xs = np.linspace(0, 1, 4001)[:, None]
    values = [space.vector_to_params(x)["count.w"] for x in xs]
    counts = np.bincount(values)[1:]
    assert counts.min() > 0.95 * counts.max()


def test_total_agent_cap_is_repaired_not_rejected() -> None:
    spec = {
        "swarmdesign_space": 1,
        "name": "capped",
        "roles": [
            {"name": "p", "archetype": "planner", "count": {"min": 0, "max": 10}},
            {"name": "c", "archetype": "coder", "count": {"min": 1, "max": 1000}},
            {"name": "r", "archetype": "reviewer", "count": {"min": 0, "max": 1000}},
        ],
        "topology": {"kinds": ["star", "mesh"]},
        "constraints": {"max_total_agents": 50},
    }
    space = SearchSpace.from_dict(spec)
    d = space.decode(np.ones(space.dim))
    assert d.total_agents <= 50
    star = space.decode_params({**space.vector_to_params(np.zeros(space.dim)), "topology.kind": "star"})
    assert any(r.archetype == "planner" and r.count >= 1 for r in star.roles)  # a hub was added


@pytest.mark.parametrize(
    ("patch", "field", "expect"),
    [
        (
            {"roles": [{"name": "c", "archetype": "coder", "count": {"min": 5, "max": 2}}]},
            "roles[0].count",
            "min 5 > max 2",
        ),
        ({"roles": [{"name": "c", "archetype": "wizard"}]}, "roles[0].archetype", "Input should be"),
        (
            {"roles": [{"name": "c", "archetype": "coder"}], "topology": {"kinds": ["star"]}},
            "topology.kinds[0]",
            "coordinator",
        ),
        (
            {
                "roles": [{"name": "c", "archetype": "coder", "count": {"min": 20, "max": 30}}],
                "constraints": {"max_total_agents": 10},
            },
            "constraints.max_total_agents",
            "below",
        ),
        (
            {"roles": [{"name": "c", "archetype": "coder"}], "edges": {"search": [["c", "ghost"]]}},
            "edges.search[0]",
            "unknown role",
        ),
        (
            {"roles": [{"name": "c", "archetype": "coder"}], "coordination": {"redundancy": {"min": 0, "max": 3}}},
            "coordination.redundancy",
            "expected 1 <= min <= max",
        ),
        ({"roles": [{"name": "c", "archetype": "coder"}], "bogus": 1}, "bogus", "unknown field"),
    ],
)
def test_bad_spaces_name_the_field(patch: dict, field: str, expect: str) -> None:
    with pytest.raises(SwarmdesignError) as err:
        SearchSpace.from_dict({"swarmdesign_space": 1, "name": "s", **patch}, file="space.yaml")
    assert err.value.field == field, str(err.value)
    assert expect in str(err.value)


def test_encode_refuses_roles_outside_the_space(tmp_path: Path) -> None:
    space = SearchSpace.load(resolve("qa_ensemble", "search_spaces", option="SPACE"))
    d = Design.from_yaml(
        "swarmdesign: 1\nname: x\nroles: [{name: hacker, archetype: coder, count: 1, model: gpt-4o}]\n"
        "topology: {kind: single}\n"
    )
    with pytest.raises(SwarmdesignError, match="not in search space"):
        space.design_to_params(d, file="mine.yaml")


def test_fast_decoding_matches_the_validated_path_and_design_keys_identify_designs() -> None:
    """The box codec gives each parameter's own ``from_unit`` value; trusted designs equal validated ones; keys
    are equal exactly when the decoded designs are (the optimizers' duplicate detection relies on it)."""
    import json

    from swarmdesign.space_codec import from_unit

    for name in ("bench_small", "qa_ensemble", "software_team", "million_agents"):
        space = SearchSpace.load(resolve(name, "search_spaces", option="SPACE"))
        rng = np.random.default_rng(3)
        points = rng.random((150, space.dim))
        points[:30] = np.round(points[:30] * 3) / 3  # bin edges and box ends too
        keys: dict[object, str] = {}
        for x in points:
            params = space.vector_to_params(x)
            assert params == {p.name: from_unit(p.distribution, float(u)) for p, u in zip(space.params, x, strict=True)}
            fast, checked = space.decode_params(params, trusted=True), space.decode_params(params)
            assert fast == checked
            assert Design.model_validate(fast.to_dict()) == fast
            text = json.dumps(fast.to_dict(), sort_keys=True)
            assert keys.setdefault(space.design_key(params), text) == text
        assert len(set(keys.values())) == len(keys)
