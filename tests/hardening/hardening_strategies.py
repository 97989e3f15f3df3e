"""Hypothesis strategies for the property tests: designs, search spaces and box vectors.

Text is arbitrary Unicode (control characters, RTL marks, line and paragraph
separators, astral characters) within what a Design accepts: not blank, no
NUL, at most the field's length.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from swarmdesign.archetypes import AGGREGATIONS, ARCHETYPES, COORDINATORS, HUB_KINDS, ROUTINGS, TOPOLOGY_KINDS
from swarmdesign.design import MAX_ROLE_COUNT, Design

#: Strings that have broken a parser or a generator somewhere: quoting, templating, markup, YAML syntax.
NASTY = (
    '"""',
    "'''",
    "\\",
    "{task}",
    "{{x}}",
    "}}{{",
    "%s",
    "${HOME}",
    "`rm -rf /`",
    "-->",
    "end",
    "<br/>",
    "</script>",
    "# comment",
    "key: value",
    "- item",
    "? q",
    "!!python/object:os.system",
    "*alias",
    "&anchor",
    "null",
    "~",
    "yes",
    "0x1F",
    "1e3",
    "\r\n",
    "\u2028",
    "\u0085",
    "\u202e",
    "\ufeff",
    "\t",
    "__import__('os').system('touch PWNED')",
)


#: Multiplies every example count: SWARMDESIGN_HYPOTHESIS_SCALE=10 for a long search (CI nightly, after a change).
SCALE = max(1, int(os.environ.get("SWARMDESIGN_HYPOTHESIS_SCALE", "1")))


def examples(n: int) -> settings:
    """Hypothesis settings for ``n`` examples (times SCALE), no deadline: file I/O and pydantic vary in speed."""
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def _ok_text(value: str) -> bool:
    return bool(value.strip()) and "\x00" not in value


def text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Arbitrary Unicode a Design accepts as a name, a model or a prompt."""
    pieces = st.one_of(st.text(min_size=1, max_size=max_size), st.sampled_from(NASTY))
    return st.lists(pieces, min_size=1, max_size=3).map(lambda parts: "".join(parts)[:max_size]).filter(_ok_text)


def counts(high: int = MAX_ROLE_COUNT) -> st.SearchStrategy[int]:
    """Agent counts 0..high, small ones more often (they are the interesting edge cases)."""
    return st.one_of(st.integers(0, 3), st.integers(0, high))


@st.composite
def designs(draw: st.DrawFn, *, models: list[str] | None = None, max_roles: int = 6) -> Design:
    """Any valid Design: every topology kind and coordination value, counts 0..10^8, Unicode text."""
    kind = draw(st.sampled_from(TOPOLOGY_KINDS))
    n = draw(st.integers(1, max_roles))
    names = draw(st.lists(text(60), min_size=n, max_size=n, unique=True))
    archetypes = [draw(st.sampled_from(ARCHETYPES)) for _ in range(n)]
    if kind in HUB_KINDS and not any(a in COORDINATORS for a in archetypes):
        archetypes[0] = draw(st.sampled_from(sorted(COORDINATORS)))
    role_counts = [draw(counts()) for _ in range(n)]
    if kind == "single":
        role_counts = [0] * n
        role_counts[draw(st.integers(0, n - 1))] = 1
    elif kind in HUB_KINDS:
        hub = next(i for i, a in enumerate(archetypes) if a in COORDINATORS)
        role_counts[hub] = max(role_counts[hub], 1)
    elif sum(role_counts) == 0:
        role_counts[0] = 1
    model = st.sampled_from(models) if models else text(60)
    roles = [
        {
            "name": names[i],
            "archetype": archetypes[i],
            "count": role_counts[i],
            "model": draw(model),
            "prompt": draw(st.none() | text(200)),
        }
        for i in range(n)
    ]
    topology: dict[str, Any] = {"kind": kind}
    if kind == "hierarchical":
        topology["branching"] = draw(st.integers(2, 1024))
    elif kind == "pubsub":
        topology["brokers"] = draw(st.integers(1, 1024))
    elif kind == "federated":
        topology["clusters"] = draw(st.integers(1, 1_000_000))
    pairs = [(a, b) for a in names for b in names if a != b]
    edges = draw(st.lists(st.sampled_from(pairs), max_size=6, unique=True)) if pairs else []
    data = {
        "swarmdesign": 1,
        "name": draw(text(60)),
        "description": draw(st.none() | text(200)),
        "roles": [{k: v for k, v in r.items() if v is not None} for r in roles],
        "topology": topology,
        "edges": [list(e) for e in edges],
        "coordination": {
            "redundancy": draw(st.integers(1, 64)),
            "aggregation": draw(st.sampled_from(AGGREGATIONS)),
            "review_rounds": draw(st.integers(0, 10)),
            "heterogeneity": draw(st.floats(0.0, 1.0)),
            "routing": draw(st.sampled_from(ROUTINGS)),
        },
    }
    return Design.from_dict({k: v for k, v in data.items() if v is not None})


def _int_range(draw: st.DrawFn, low: int, high: int, *, small: int) -> dict[str, Any]:
    lo = draw(st.integers(low, min(low + small, high)))
    hi = draw(st.one_of(st.integers(lo, min(lo + small, high)), st.integers(lo, high)))
    out: dict[str, Any] = {"min": lo, "max": hi}
    if draw(st.booleans()):
        out["log"] = lo >= 1 or draw(st.booleans())
    return out


@st.composite
def space_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``swarmdesign_space: 1`` document with random roles, ranges, kinds, edges and a total cap."""
    n = draw(st.integers(1, 6))
    names = draw(st.lists(text(30), min_size=n, max_size=n, unique=True))
    archetypes = [draw(st.sampled_from(ARCHETYPES)) for _ in range(n)]
    kinds = draw(st.lists(st.sampled_from(TOPOLOGY_KINDS), min_size=1, max_size=5, unique=True))
    if any(k in HUB_KINDS for k in kinds) and not any(a in COORDINATORS for a in archetypes):
        archetypes[draw(st.integers(0, n - 1))] = draw(st.sampled_from(sorted(COORDINATORS)))
    models = draw(st.lists(text(40), min_size=1, max_size=4, unique=True))
    roles = []
    for i in range(n):
        count = _int_range(draw, 0, MAX_ROLE_COUNT, small=20)
        if count["max"] < 1:
            count["max"] = 1
        role: dict[str, Any] = {"name": names[i], "archetype": archetypes[i], "count": count}
        if draw(st.booleans()):
            role["models"] = draw(st.lists(text(40), min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            role["prompt"] = draw(text(100))
        roles.append(role)
    pairs = [[a, b] for a in names for b in names if a != b]
    edges: dict[str, Any] = {}
    if pairs and draw(st.booleans()):
        edges["fixed"] = draw(st.lists(st.sampled_from(pairs), max_size=4, unique_by=tuple))
    if pairs and draw(st.booleans()):
        edges["search"] = draw(st.lists(st.sampled_from(pairs), max_size=4, unique_by=tuple))
    needed = max(sum(r["count"]["min"] for r in roles), 1)
    if any(k in HUB_KINDS for k in kinds) and not any(
        r["archetype"] in COORDINATORS and r["count"]["min"] > 0 for r in roles
    ):
        needed += 1 if any(r["count"]["min"] > 0 for r in roles) else 0
    cap = draw(st.one_of(st.integers(needed, needed + 30), st.integers(needed, 10**9)))
    het_lo = draw(st.floats(0.0, 1.0))
    heterogeneity: dict[str, Any] = {"min": het_lo, "max": draw(st.floats(het_lo, 1.0))}
    if het_lo > 0 and draw(st.booleans()):
        heterogeneity["log"] = True
    return {
        "swarmdesign_space": 1,
        "name": "generated",
        "models": models,
        "roles": roles,
        "topology": {
            "kinds": kinds,
            "branching": _int_range(draw, 2, 1024, small=10),
            "brokers": _int_range(draw, 1, 1024, small=5),
            "clusters": _int_range(draw, 1, 1_000_000, small=20),
        },
        "coordination": {
            "redundancy": _int_range(draw, 1, 64, small=5),
            "aggregation": draw(st.lists(st.sampled_from(AGGREGATIONS), min_size=1, unique=True)),
            "review_rounds": _int_range(draw, 0, 10, small=3),
            "heterogeneity": heterogeneity,
            "routing": draw(st.lists(st.sampled_from(ROUTINGS), min_size=1, unique=True)),
        },
        "edges": edges,
        "constraints": {"max_total_agents": cap},
    }


def unit_vectors(dim: int) -> st.SearchStrategy[list[float]]:
    """Points of [0, 1]^dim, the box's faces and corners included."""
    coordinate = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0.0, 1.0))
    return st.lists(coordinate, min_size=dim, max_size=dim)
