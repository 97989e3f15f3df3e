"""Every registered optimizer passes the conformance suite (swarmdesign.testing.optimizers)."""

from __future__ import annotations

import pytest

from swarmdesign.optimizers import optimizer_names
from swarmdesign.testing.optimizers import OptimizerConformance


class TestEveryOptimizer(OptimizerConformance):
    """The suite, once per registered optimizer."""

    @pytest.fixture(params=optimizer_names())
    def optimizer_name(self, request: pytest.FixtureRequest) -> str:
        return request.param
