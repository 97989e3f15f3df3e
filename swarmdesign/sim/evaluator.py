"""The simulated evaluator: scores a batch of designs in a simulated task environment.

Two modes that must agree:

* ``fast`` (default): role-level and vectorised with numpy over designs x
  Monte-Carlo replicas; its cost does not depend on agent counts.
* ``agent``: simulates individual agents, picks and messages
  (:mod:`swarmdesign.sim.agent`, :mod:`swarmdesign.sim.agent_run`), for
  designs up to about 10^4 agents; used to check the fast mode, and usable
  as a slow evaluator in a run. Every metric is finite: diagnostics are
  measured on its events, cost losses come from its call ledger, and the
  quality and latency losses, which it does not attribute, are 0.

Both are deterministic for a seed and draw every random number from
``numpy.random.default_rng(seed)``; all designs of a batch see the same
draws (common random numbers), so a generation's candidates are compared on
the same tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from swarmdesign.errors import SwarmdesignError
from swarmdesign.evaluators import Evaluator
from swarmdesign.sim import fast, fast_resources, heap, voting
from swarmdesign.sim.batch import DesignBatch
from swarmdesign.sim.metrics import METRICS
from swarmdesign.sim.params import SimParams, validate_simulator_section
from swarmdesign.sim.skill import difficulty_draws
from swarmdesign.sim.ufuncs import clip
from swarmdesign.sim.views import RoleViews

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

MODES = ("fast", "agent")
MAX_REPLICAS = 100_000


class SimulatedEvaluator(Evaluator):
    """Scores designs in the simulated environment; see the module docstring.

    Args:
        replicas: Monte-Carlo replicas (task difficulty draws) per design.
        mode: ``"fast"`` (role-level, vectorised) or ``"agent"`` (agent-level check).
    """

    name: ClassVar[str] = "simulated"

    def __init__(self, replicas: int = 64, mode: str = "fast") -> None:
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= MAX_REPLICAS:
            raise SwarmdesignError(
                f"replicas must be an integer in 1..{MAX_REPLICAS}, got {replicas!r}", field="evaluator.replicas"
            )
        if mode not in MODES:
            raise SwarmdesignError(f"mode must be one of {list(MODES)}, got {mode!r}", field="evaluator.mode")
        self.replicas = replicas
        self.mode = mode

    def params(self) -> dict[str, Any]:
        return {"replicas": self.replicas, "mode": self.mode}

    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        """One row per design, in order, with the columns of :data:`METRICS`."""
        import pandas as pd  # here, not at the top: scoring through simulate_fast needs no pandas (CLI start-up)

        params = validate_simulator_section(scenario.simulator)
        if not designs:
            return pd.DataFrame({name: pd.Series(dtype=float) for name in METRICS})
        if self.mode == "agent":
            from swarmdesign.sim.agent_run import simulate_agents

            rows = [simulate_agents(d, scenario, params, seed=seed, replicas=self.replicas) for d in designs]
            return pd.DataFrame(rows, columns=list(METRICS)).astype(float)
        columns = self.evaluate_columns(designs, scenario, seed=seed)
        # one float block: building a frame from a dict of ~70 arrays costs more than a small batch's simulation
        return pd.DataFrame(np.column_stack(list(columns.values())), columns=list(columns))

    def evaluate_columns(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> dict[str, np.ndarray]:
        """The fast mode's arrays as they are (no frame: a run records columns); the agent mode via its frame."""
        if self.mode == "agent" or not designs:
            return super().evaluate_columns(designs, scenario, seed=seed)
        params = validate_simulator_section(scenario.simulator)
        return simulate_fast(designs, scenario, params, seed=seed, replicas=self.replicas)


# designs per pass of the fast mode: a pass's (designs x replicas) arrays then stay in the CPU caches, which
# makes a batch of 10,000 about a quarter faster than one pass over all of them (results are identical: the
# difficulty draws depend on the seed and the replica count only)
CHUNK_DESIGNS = 2048


def simulate_fast(
    designs: Sequence[Design], scenario: Scenario, params: SimParams, *, seed: int, replicas: int
) -> dict[str, np.ndarray]:
    """Fast-mode metrics for a batch: ``{metric: array of shape (n_designs,)}``, in passes of :data:`CHUNK_DESIGNS`."""
    heap.keep_freed_memory()
    if len(designs) <= CHUNK_DESIGNS:
        return _simulate_pass(designs, scenario, params, seed=seed, replicas=replicas)
    parts = [
        _simulate_pass(designs[i : i + CHUNK_DESIGNS], scenario, params, seed=seed, replicas=replicas)
        for i in range(0, len(designs), CHUNK_DESIGNS)
    ]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


@lru_cache(maxsize=64)
def _difficulty(seed: int, replicas: int, alpha: float, beta: float) -> np.ndarray:
    """The replicas' difficulty draws (read-only), cached: a search scores every batch with one seed.

    The draws depend on these four numbers only (a fresh ``default_rng(seed)``
    per call), and making the generator and inverting the Beta CDF cost as
    much as a tenth of a swarm-sized call.
    """
    out = difficulty_draws(np.random.default_rng(seed), replicas, alpha, beta)
    out.flags.writeable = False
    return out


def _simulate_pass(
    designs: Sequence[Design], scenario: Scenario, params: SimParams, *, seed: int, replicas: int
) -> dict[str, np.ndarray]:
    """Fast-mode metrics for one pass (see :func:`simulate_fast`)."""
    batch = DesignBatch.pack(designs, scenario)
    views = RoleViews.build(batch, params, scenario.workload.subtasks)
    alpha, beta = scenario.workload.difficulty.beta_params()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        difficulty = _difficulty(int(seed), replicas, alpha, beta)
    else:  # anything else default_rng takes (None: fresh entropy) is drawn anew
        difficulty = difficulty_draws(np.random.default_rng(seed), replicas, alpha, beta)

    prod = fast.production(views, scenario, params, difficulty)
    rho, sim = fast.similarity(views, prod, params)
    load = fast_resources.compute_load(views, scenario, params, sim)
    f = scenario.environment.fault_rate
    # the scenario's faults and none (for robustness) in one pass: they share all but two steps
    qual, calm = fast.quality_chains(
        views,
        prod,
        scenario,
        params,
        fault_rates=(f, 0.0),
        rho=rho,
        hub_log_keep=(fast_resources.hub_log_keep(views, load, params, f), np.zeros(batch.n_designs)),
        collisions=load.collisions_resource,
    )
    robustness = np.where(calm.quality > 1e-12, clip(qual.quality / np.maximum(calm.quality, 1e-12), 0.0, 1.0), 1.0)
    res = fast_resources.latency_and_cost(views, prod, load, qual, scenario, params)
    out: dict[str, np.ndarray] = {
        "quality": qual.quality,
        "cost": res["cost"],
        "latency": res["latency"],
        "robustness": robustness,
        "routing_accuracy": prod.routing_accuracy,
        "effective_voters": voting.effective_voters(batch.redundancy, rho),
        "voter_correlation": rho,
        "agents": views.n_agents,
        **{k: v for k, v in res.items() if k not in ("cost", "latency")},
        **{f"loss_quality_{k}": v for k, v in qual.losses.items()},
    }
    return {name: np.asarray(out[name], dtype=float) for name in METRICS}
