from __future__ import annotations

import pytest

from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError

BASE = """\
swarmdesign: 1
name: demo
roles:
- name: planner
  archetype: planner
  count: 1
  model: gpt-4o-mini
- name: coder
  archetype: coder
  count: 2500000
  model: gpt-4o
  prompt: |-
    Write the code.
    Keep it small: "really".
topology:
  kind: hierarchical
  branching: 16
edges:
- - planner
  - coder
coordination:
  redundancy: 3
  aggregation: judge
  review_rounds: 2
  heterogeneity: 0.25
  routing: routed
"""


def test_canonical_text_round_trips_exactly() -> None:
    d = Design.from_yaml(BASE)
    assert d.to_yaml() == BASE
    assert Design.from_yaml(d.to_yaml()) == d
    assert d.total_agents == 2_500_001


def test_defaults_are_filled_and_then_stable() -> None:
    d = Design.from_yaml(
        "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 1, model: m}]\ntopology: {kind: single}\n"
    )
    assert d.coordination.redundancy == 1
    again = Design.from_yaml(d.to_yaml())
    assert again == d and again.to_yaml() == d.to_yaml()


def test_stage_order_wiring_without_edges() -> None:
    d = Design.from_yaml(
        "swarmdesign: 1\nname: x\nroles:\n"
        "- {name: p, archetype: planner, count: 1, model: m}\n"
        "- {name: c, archetype: coder, count: 3, model: m}\n"
        "- {name: r, archetype: reviewer, count: 0, model: m}\n"
        "- {name: t, archetype: tester, count: 1, model: m}\n"
        "topology: {kind: star}\n"
    )
    assert d.role_graph() == [("p", "c"), ("c", "t")]


@pytest.mark.parametrize(
    ("patch", "field", "expect"),
    [
        ("topology: {kind: star}", "topology.kind", "coordinator"),
        ("topology: {kind: chain, branching: 4}", "topology", "does not apply"),
        ("topology: {kind: blob}", "topology.kind", "Input should be"),
        ("topology: {kind: single}", "topology.kind", "exactly one agent"),
    ],
)
def test_topology_errors_name_the_field(patch: str, field: str, expect: str) -> None:
    text = "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 2, model: m}]\n" + patch + "\n"
    with pytest.raises(SwarmdesignError) as err:
        Design.from_yaml(text, file="d.yaml")
    assert err.value.file == "d.yaml"
    assert err.value.field == field
    assert expect in str(err.value)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("swarmdesign: 2\nname: x", "swarmdesign"),
        ("name: x", "swarmdesign"),
        ("swarmdesign: 1\nname: x\nroles: []\ntopology: {kind: chain}", "roles"),
        (
            "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: -1, model: m}]\n"
            "topology: {kind: chain}",
            "roles[0].count",
        ),
        (
            "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 1, model: m, colour: red}]\n"
            "topology: {kind: chain}",
            "roles[0].colour",
        ),
        (
            "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 1, model: m}, "
            "{name: a, archetype: coder, count: 1, model: m}]\ntopology: {kind: chain}",
            "roles[1].name",
        ),
        (
            "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 1, model: m}]\nedges: [[a, ghost]]\n"
            "topology: {kind: chain}",
            "edges[0]",
        ),
        (
            "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 1000000000000, model: m}]\n"
            "topology: {kind: chain}",
            "roles[0].count",
        ),
        (
            "swarmdesign: 1\nname: x\nroles: [{name: a, archetype: coder, count: 1, model: m}]\n"
            "topology: {kind: chain}\ncoordination: {heterogeneity: .nan}",
            "coordination.heterogeneity",
        ),
    ],
)
def test_bad_designs_point_at_the_field(text: str, field: str) -> None:
    with pytest.raises(SwarmdesignError) as err:
        Design.from_yaml(text, file="bad.yaml")
    assert err.value.field == field, str(err.value)
    assert str(err.value).startswith(f"bad.yaml: {field}: ")
    assert "\n" not in str(err.value)
