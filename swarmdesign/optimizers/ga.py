"""``ga``: a genetic algorithm with DEAP's operators on the encoded genome.

A genome is a point of the search space's unit box; its genes are the
space's parameters (:mod:`swarmdesign.space`), each an integer, a category or
a float, and the operators respect that (:mod:`._deap`):

* crossover: categories swap gene by gene (``cxUniform``); integers and
  floats use bounded simulated binary crossover (``cxSimulatedBinaryBounded``);
* mutation: another category, or bounded polynomial mutation
  (``mutPolynomialBounded``) for integers and floats, with an integer always
  moved to another value; discrete genes sit at their bin centres;
* no design is proposed twice (``dedupe``): an offspring whose decoded design
  was already evaluated is mutated again, because the evaluators are
  deterministic for a run's seed and a repeat would waste budget.

Each generation evaluates ``population`` offspring; the parents of the next
one are chosen from parents and offspring together (a (mu + lambda) scheme),
so the best design found is never lost:

* one objective: the ``elite`` best survive, the rest by tournaments of size
  ``tournament`` (``tools.selTournament``); mates by the same tournaments;
* several objectives: NSGA-II survival (``tools.selNSGA2``: Pareto rank,
  then crowding distance) with Deb's constrained domination (feasible
  designs first, infeasible ones by violation); mates by crowded binary
  tournaments.

State (the parent pool and the set of evaluated designs) is rebuilt by
replaying the study, so a resumed run continues exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swarmdesign.optimizers import _deap
from swarmdesign.optimizers._design_memory import DesignMemory
from swarmdesign.optimizers._genes import DesignKeys, GeneLayout, TakenKeys, latin_hypercube
from swarmdesign.optimizers.base import Outcome, PopulationOptimizer

#: Hyperparameters :func:`variation_settings` checks; optimizers pass them on from ``self.hyperparameters``.
VARIATION_KEYS: tuple[str, ...] = ("crossover", "mutation", "eta_crossover", "eta_mutation", "tournament")


def variation_settings(
    *, crossover: float, mutation: float | None, eta_crossover: float, eta_mutation: float, tournament: int
) -> None:
    """Check the genetic hyperparameters shared by ``ga`` and ``psoga`` (``ValueError`` names the bad one)."""
    if isinstance(crossover, bool) or not isinstance(crossover, int | float) or not 0.0 <= crossover <= 1.0:
        raise ValueError(f"crossover must be a probability in [0, 1], got {crossover!r}")
    if mutation is not None and (
        isinstance(mutation, bool) or not isinstance(mutation, int | float) or not 0.0 < mutation <= 1.0
    ):
        raise ValueError(f"mutation must be a per-gene probability in (0, 1] or null, got {mutation!r}")
    for key, value in (("eta_crossover", eta_crossover), ("eta_mutation", eta_mutation)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value <= 1000.0:
            raise ValueError(f"{key} must be a number in (0, 1000], got {value!r}")
    if isinstance(tournament, bool) or not isinstance(tournament, int) or tournament < 1:
        raise ValueError(f"tournament must be an integer >= 1, got {tournament!r}")


class GeneticOptimizer(DesignMemory, PopulationOptimizer):
    """A (mu + lambda) genetic algorithm on the encoded genome; see the module docstring.

    Args:
        population: Offspring evaluated per generation (and size of the parent pool).
        crossover: Probability that a pair of mates is crossed over.
        mutation: Per-gene mutation probability (default ``1 / dim``; one gene always mutates).
        eta_crossover, eta_mutation: Distribution indices of SBX and polynomial mutation
            (larger = children closer to their parents).
        tournament: Tournament size for one objective.
        elite: Best parents that always survive (one objective).
        dedupe: Never propose a design that was already evaluated.
    """

    name = "ga"
    scales_with_budget = True
    multi_objective = True

    def __init__(
        self,
        population: int = 16,
        crossover: float = 0.9,
        mutation: float | None = None,
        eta_crossover: float = 15.0,
        eta_mutation: float = 20.0,
        tournament: int = 3,
        elite: int = 2,
        dedupe: bool = True,
    ) -> None:
        super().__init__(
            population=population,
            crossover=crossover,
            mutation=mutation,
            eta_crossover=eta_crossover,
            eta_mutation=eta_mutation,
            tournament=tournament,
            elite=elite,
            dedupe=dedupe,
        )
        variation_settings(**{k: self.hyperparameters[k] for k in VARIATION_KEYS})
        if isinstance(elite, bool) or not isinstance(elite, int) or not 0 <= elite <= population:
            raise ValueError(f"elite must be an integer in [0, population], got {elite!r}")
        self.crossover_prob = float(crossover)
        self.mutation_rate = mutation
        self.eta_crossover = float(eta_crossover)
        self.eta_mutation = float(eta_mutation)
        self.tournament = int(tournament)
        self.elite = int(elite)
        self.dedupe = bool(dedupe)
        self._layout: GeneLayout | None = None
        self._keys: DesignKeys | None = None
        self._seen: set[bytes] = set()
        self._keys_recorded = False  # this generation's keys came from the study
        self._pool: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------ helpers
    @property
    def _rate(self) -> float:
        assert self._layout is not None
        return self.mutation_rate if self.mutation_rate is not None else 1.0 / max(self._layout.dim, 1)

    def _key(self, x: np.ndarray) -> object:
        assert self._keys is not None
        return self._keys(x)

    def _unique(self, x: np.ndarray, taken: TakenKeys | set[bytes], rng: np.random.Generator) -> np.ndarray:
        assert self._layout is not None
        if not self.dedupe:
            return x
        return _deap.fresh(x, self._key, taken, layout=self._layout, rate=self._rate, eta=self.eta_mutation, rng=rng)

    def _offspring(self, rng: np.random.Generator, genes: np.ndarray, fitness: np.ndarray, k: int) -> np.ndarray:
        """``k`` children of the parents ``genes`` (``(mu, d)``) with finite losses ``fitness`` (``(mu, m)``)."""
        assert self._layout is not None
        lay = self._layout
        mates = _deap.mating_selection(fitness, k + (k % 2), tournament=self.tournament, rng=rng)
        taken = TakenKeys(self._seen)
        children: list[np.ndarray] = []
        for j in range(0, len(mates), 2):
            a, b = genes[mates[j]], genes[mates[j + 1]]
            if rng.random() < self.crossover_prob:
                a, b = _deap.crossover(lay, a, b, eta=self.eta_crossover)
            for child in (a, b):
                if len(children) < k:
                    mutant = _deap.mutate(lay, child, rate=self._rate, eta=self.eta_mutation, rng=rng)
                    children.append(self._unique(mutant, taken, rng))
        return np.array(children)

    # -------------------------------------------------------------- hooks
    def _start(self, rng: np.random.Generator) -> np.ndarray:
        assert self.space is not None
        self._ensure_keys()
        self._seen = set()
        self._pool = None
        first = self._layout.snap(latin_hypercube(rng, self.population, self.space.dim))
        taken: TakenKeys | set[bytes] = set()
        with _deap.python_random_from(rng):
            return np.array([self._unique(x, taken, rng) for x in first])

    def _advance(self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        with _deap.python_random_from(rng):
            return self._evolve(rng, positions, np.asarray(losses, dtype=float), np.zeros(len(positions)))

    def _next_generation(
        self, rng: np.random.Generator, positions: np.ndarray, outcomes: Sequence[Outcome]
    ) -> np.ndarray:
        losses = self.losses(outcomes, scalar=self._uses_scalar())
        with _deap.python_random_from(rng):
            return self._evolve(rng, positions, losses, self.violations(outcomes))

    def _evolve(
        self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray, violations: np.ndarray
    ) -> np.ndarray:
        """Survivors of parents + this generation, then their offspring; see the module docstring.

        Runs inside :func:`_deap.python_random_from` (DEAP's operators).
        """
        if self.dedupe and not self._keys_recorded:
            self._seen.update(self._key(x) for x in positions)
        self._keys_recorded = False
        loss = losses[:, None] if losses.ndim == 1 else losses
        if self._pool is None:
            genes, pool_loss, pool_viol = positions, loss, violations
        else:
            genes = np.vstack([self._pool[0], positions])
            pool_loss = np.vstack([self._pool[1], loss])
            pool_viol = np.concatenate([self._pool[2], violations])
        # One objective: the loss already is the scenario's penalised score (or its one objective).
        fitness = _deap.finite_losses(pool_loss, pool_viol if loss.shape[1] > 1 else None)
        keep = _deap.select_survivors(fitness, self.population, elite=self.elite, tournament=self.tournament, rng=rng)
        self._pool = (genes[keep], pool_loss[keep], pool_viol[keep])
        return self._offspring(rng, genes[keep], fitness[keep], self.population)


OPTIMIZERS = [GeneticOptimizer]
