"""Properties that must hold for every input, not just the examples: spaces, YAML, the simulator.

Example counts are bounded so that the whole of ``tests/hardening`` stays
near a minute and a half; ``SWARMDESIGN_HYPOTHESIS_SCALE=10`` multiplies them
for a longer search.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hardening_strategies import designs, examples, space_specs, unit_vectors
from hypothesis import given
from hypothesis import strategies as st

from swarmdesign import yamlio
from swarmdesign.archetypes import COORDINATORS, HUB_KINDS, STAGE_OF
from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.resources import bundled_dir, bundled_names
from swarmdesign.sim import METRICS, SimulatedEvaluator
from swarmdesign.space import SearchSpace

SPACES = {
    name: SearchSpace.load(bundled_dir("search_spaces") / f"{name}.yaml") for name in bundled_names("search_spaces")
}
SCENARIOS = [Scenario.load(p) for p in sorted(bundled_dir("fitness").glob("*.yaml"))]


def check_decoded(space: SearchSpace, design: Design) -> None:
    """Everything ``decode`` promises: a valid design, inside the space, meeting its constraints."""
    s = space.spec
    assert Design.from_dict(design.to_dict()) == design  # the Design's own validators accept it
    assert 1 <= design.total_agents <= s.constraints.max_total_agents
    by_name = {r.name: r for r in s.roles}
    for role in design.roles:
        spec = by_name[role.name]
        assert role.archetype == spec.archetype
        assert 1 <= role.count <= spec.count.max
        if design.topology.kind != "single":  # 'single' keeps one agent whatever the minimums (decode rule 1)
            assert role.count >= spec.count.min, f"{role.name}: {role.count} below the space's minimum"
        assert role.model in (spec.models or s.models)
        assert role.prompt == spec.prompt
    for spec in s.roles:
        if spec.count.min > 0 and design.topology.kind != "single":
            assert spec.name in {r.name for r in design.roles}, f"required role {spec.name} is missing"
    kind = design.topology.kind
    assert kind in s.topology.kinds
    for key, value in design.topology.params().items():
        bounds = getattr(s.topology, key)
        assert bounds.min <= value <= bounds.max
    if kind in HUB_KINDS:
        assert any(r.archetype in COORDINATORS for r in design.roles)
    c, cs = design.coordination, s.coordination
    assert cs.redundancy.min <= c.redundancy <= cs.redundancy.max
    assert cs.review_rounds.min <= c.review_rounds <= cs.review_rounds.max
    assert cs.heterogeneity.min <= c.heterogeneity <= cs.heterogeneity.max
    assert c.aggregation in cs.aggregation and c.routing in cs.routing
    allowed = {tuple(e) for e in s.edges.fixed} | {tuple(e) for e in s.edges.search}
    if not s.edges.fixed:
        allowed |= set(Design.model_construct(roles=design.roles, edges=[]).role_graph())
    assert set(design.edges) <= allowed


def check_stable(space: SearchSpace, design: Design) -> None:
    """encode then decode gives the design back, and encoding lands in the box."""
    x = space.encode(design)
    assert x.shape == (space.dim,) and np.all((x >= 0) & (x <= 1))
    assert space.decode(x) == design


@pytest.mark.parametrize("name", sorted(SPACES))
@examples(100)
@given(data=st.data())
def test_every_box_vector_of_a_bundled_space_decodes_to_a_valid_design(name: str, data: st.DataObject) -> None:
    space = SPACES[name]
    design = space.decode(np.array(data.draw(unit_vectors(space.dim))))
    check_decoded(space, design)
    check_stable(space, design)


@examples(300)
@given(spec=space_specs(), data=st.data())
def test_every_box_vector_of_a_generated_space_decodes_to_a_valid_design(spec: dict, data: st.DataObject) -> None:
    space = SearchSpace.from_dict(spec, file="generated.yaml")
    for _ in range(3):
        design = space.decode(np.array(data.draw(unit_vectors(space.dim))))
        check_decoded(space, design)
        check_stable(space, design)


@examples(300)
@given(design=designs())
def test_design_yaml_dump_then_load_is_the_identity(design: Design) -> None:
    text = design.to_yaml()
    again = Design.from_yaml(text, file="roundtrip.yaml")
    assert again == design
    assert again.to_yaml() == text  # canonical: a canonical file dumps back to the same text
    assert yamlio.loads(text) == design.to_dict()


#: Metrics whose documentation promises the unit interval.
UNIT_METRICS = sorted(name for name, doc in METRICS.items() if re.search(r"\b0\.\.1\b", doc))


def test_the_unit_interval_metrics_include_the_core_ones() -> None:
    assert {"quality", "robustness"} <= set(UNIT_METRICS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
@examples(40)
@given(batch=st.lists(designs(), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_the_simulator_returns_finite_metrics_in_their_ranges(scenario: Scenario, batch: list, seed: int) -> None:
    frame = SimulatedEvaluator(replicas=8).evaluate(batch, scenario, seed=seed)
    assert list(frame.columns) == list(METRICS) and len(frame) == len(batch)
    for name in METRICS:
        values = frame[name].to_numpy(dtype=float)
        assert np.all(np.isfinite(values)), f"{name} is not finite: {values}"
    for name in UNIT_METRICS:
        values = frame[name].to_numpy(dtype=float)
        assert np.all((values >= 0.0) & (values <= 1.0)), f"{name} outside [0, 1]: {values}"
    for name in ("cost", "latency"):
        assert np.all(frame[name].to_numpy(dtype=float) >= 0.0), name
    scored = scenario.finish_metrics(frame)
    assert all(math.isfinite(v) for v in scored["score"])


def test_stage_map_covers_every_archetype() -> None:
    """The strategies draw from ARCHETYPES; decode's 'single' repair relies on every one having a stage."""
    from swarmdesign.archetypes import ARCHETYPES

    assert set(STAGE_OF) == set(ARCHETYPES)
