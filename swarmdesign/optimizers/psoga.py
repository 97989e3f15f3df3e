"""``psoga``: particle swarm moves, genetic repair of the particles that stop helping.

A design space is mostly integers and categories: a swarm on its box moves
fast toward good regions, but particles then sit inside the same bins
(re-evaluating designs already known), circle a stale personal best, or stay
in a poor region, and the swarm loses diversity. A genetic algorithm
recombines good designs gene by gene, which is what a categorical choice
needs, but it is slow to exploit an ordered scale. The hybrid does both, by
one fixed rule applied after every generation.

**The rule.** After generation ``g`` is evaluated:

1. *Swarm bookkeeping.* Personal bests are updated; one objective: the
   topology's neighbourhood bests (pyswarms ``compute_pbest`` /
   ``compute_gbest``); several objectives: a new position replaces a personal
   best that it dominates (constrained domination; a coin flip when neither
   dominates) and each particle's leader is drawn by a crowded binary
   tournament from the non-dominated personal bests (MOPSO-CD style).
2. *Swarm move.* Every particle moves by the PSO velocity and position
   update (``compute_velocity`` with clamping, ``compute_position``).
3. *Who is replaced.* Particle ``i`` is replaced when any of these holds:

   a. it is **stagnating**: its personal best has not improved for
      ``patience`` generations;
   b. it is among the ``ceil(replace * population)`` **worst** particles of
      generation ``g`` (one objective: highest loss; several: worst Pareto
      rank, then smallest crowding distance);
   c. its new position decodes to a design **already evaluated**, or already
      proposed by a lower-numbered particle of generation ``g + 1``.

4. *Replacement.* The particle is moved to a genetic offspring: two parents
   by tournament among the personal bests (size ``tournament``; several
   objectives: crowded binary tournament), crossover with probability
   ``crossover`` (categories swapped gene by gene, integers and floats by
   bounded SBX), then mutation of at least one gene. One objective: the pair
   has ``screen`` (3) such children, and the one a Parzen density ratio over
   the designs evaluated so far ranks first among the new designs is kept
   (TPE's model as a pre-selection, :mod:`._screen`; during a run's first
   ``SCREEN_HORIZON`` evaluations). The child is mutated again until its
   design is new. Its velocity is set to zero and its stagnation count to
   zero; its personal best is kept, so nothing learnt is lost and the child
   is compared with it once evaluated.

**Why.** (a) frees particles that the swarm dynamics have trapped (a stale
personal best keeps pulling them back). (b) keeps a steady share of the
budget on recombination of the best designs, which finds combinations of
categorical choices that no straight-line move reaches. (c) means every
evaluation is a new design: the simulated evaluator is deterministic for a
run's seed, and an LLM evaluation costs money, so a repeat buys nothing.
The screen spends microseconds of breeding to save evaluations: a pick
among the children one pair of parents can have changes no selection
pressure (the parents are chosen as before), it only prefers the variation
whose genes the best designs share. Velocity zero lets a replaced particle
feel only the pulls of its own and its neighbourhood's best rather than the
momentum that stalled it. Keeping personal bests makes the rule safe: the
best design, and the leaders, are never forgotten.

Defaults (``population`` 16, ``replace`` 0.4, ``tournament`` 3,
``max_velocity`` 0.5, ``patience`` 3, ``screen`` 3) were chosen on
``benchmarks/search_quality.py`` and checked on the 29-dimensional
``software_team`` space (see ``docs/optimizers.md``): a smaller swarm gives
more generations per budget, and a clamp of half the box lets a particle
cross any categorical bin in one step. A run of 1,700 evaluations or more
gets a larger population from the CLI (:mod:`swarmdesign.optimizers.population`).

Several objectives use Pareto ranking with crowding for every comparison
(Deb's constrained domination: feasible designs first). One objective is the
scenario's single objective or its declared, already penalised ``score``.
All state (swarm, stagnation counts, evaluated designs) is rebuilt by
replaying the study, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from swarmdesign.optimizers import _deap, _screen
from swarmdesign.optimizers._design_memory import DesignMemory
from swarmdesign.optimizers._genes import DesignKeys, GeneLayout, TakenKeys, latin_hypercube
from swarmdesign.optimizers._pyswarms import ParticleSwarm
from swarmdesign.optimizers._pyswarms import state_classes as swarm_state_classes
from swarmdesign.optimizers.base import Outcome, PopulationOptimizer
from swarmdesign.optimizers.ga import VARIATION_KEYS, variation_settings
from swarmdesign.optimizers.pso import SWARM_KEYS, swarm_settings

SCREEN_GAMMA = 0.25  # the share of the remembered designs the screen counts as good (TPE's split)
SCREEN_KEEP_BEST, SCREEN_KEEP_RECENT = 64, 192  # what the screen remembers: its cost per candidate is bounded
#: The screen works while the run has evaluated fewer designs than this. It saves evaluations where they are
#: few and dear, at the start (99 % of the optimum takes 40-80 on the benchmark spaces); in a long run its
#: breeding of four candidates per child added about a quarter to a 10^5-trial simulated run's time.
SCREEN_HORIZON = 2000


class HybridSwarmOptimizer(DesignMemory, PopulationOptimizer):
    """PSO with genetic replacement of stagnating, worst and duplicate particles; see the module docstring.

    Args:
        population: Particles per generation.
        w, c1, c2, topology, k, p, max_velocity, boundary, velocity_strategy: As for ``pso``.
        patience: Generations without personal-best improvement before a particle is replaced.
        replace: Share of the worst particles replaced every generation.
        crossover, mutation, eta_crossover, eta_mutation: As for ``ga``.
        tournament: Tournament size for choosing parents among personal bests (one objective).
        dedupe: Replace particles whose next design was already evaluated.
        screen: Candidate children bred per replaced particle, of which the screen keeps one (1: no screen).
    """

    name = "psoga"
    scales_with_budget = True
    multi_objective = True

    def __init__(
        self,
        population: int = 16,
        w: float = 0.7298,
        c1: float = 1.49618,
        c2: float = 1.49618,
        topology: str = "star",
        k: int = 3,
        p: int = 2,
        max_velocity: float = 0.5,
        boundary: str = "reflective",
        velocity_strategy: str = "unmodified",
        patience: int = 3,
        replace: float = 0.4,
        crossover: float = 0.9,
        mutation: float | None = None,
        eta_crossover: float = 15.0,
        eta_mutation: float = 20.0,
        tournament: int = 3,
        dedupe: bool = True,
        screen: int = 3,
    ) -> None:
        super().__init__(
            population=population,
            w=w,
            c1=c1,
            c2=c2,
            topology=topology,
            k=k,
            p=p,
            max_velocity=max_velocity,
            boundary=boundary,
            velocity_strategy=velocity_strategy,
            patience=patience,
            replace=replace,
            crossover=crossover,
            mutation=mutation,
            eta_crossover=eta_crossover,
            eta_mutation=eta_mutation,
            tournament=tournament,
            dedupe=dedupe,
            screen=screen,
        )
        self._settings = swarm_settings(**{k: self.hyperparameters[k] for k in SWARM_KEYS})
        variation_settings(**{k: self.hyperparameters[k] for k in VARIATION_KEYS})
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if isinstance(replace, bool) or not isinstance(replace, int | float) or not 0.0 <= replace <= 1.0:
            raise ValueError(f"replace must be a share in [0, 1], got {replace!r}")
        if isinstance(screen, bool) or not isinstance(screen, int) or screen < 1:
            raise ValueError(f"screen must be an integer >= 1 (1: no screening), got {screen!r}")
        self.patience = int(patience)
        self.replace = float(replace)
        self.crossover_prob = float(crossover)
        self.mutation_rate = mutation
        self.eta_crossover = float(eta_crossover)
        self.eta_mutation = float(eta_mutation)
        self.tournament = int(tournament)
        self.dedupe = bool(dedupe)
        self.screen = int(screen)
        self.swarm: ParticleSwarm | None = None
        self._layout: GeneLayout | None = None
        self._keys: DesignKeys | None = None
        self._seen: set[bytes] = set()
        self._keys_recorded = False  # this generation's keys came from the study
        self._stagnation = np.zeros(0, dtype=int)
        self._pbest_loss: np.ndarray | None = None  # (n, m), several objectives only
        self._pbest_viol: np.ndarray | None = None
        self._memory_x: np.ndarray | None = None  # designs the screen fits on (one objective only)
        self._memory_loss: np.ndarray | None = None
        self._observed = 0  # designs evaluated and observed (one objective), for the screen's horizon

    # ------------------------------------------------------------ helpers
    @property
    def _rate(self) -> float:
        assert self._layout is not None
        return self.mutation_rate if self.mutation_rate is not None else 1.0 / max(self._layout.dim, 1)

    def _key(self, x: np.ndarray) -> object:
        assert self._keys is not None
        return self._keys(x)

    def _child(
        self,
        rng: np.random.Generator,
        parents: np.ndarray,
        mates: tuple[int, int],
        taken: TakenKeys | set[bytes] | None,
    ) -> np.ndarray:
        """A genetic offspring of two personal bests, new to ``taken`` when ``dedupe`` (rule step 4).

        ``parents`` are the personal bests already snapped (:meth:`GeneLayout.snap`, once per generation).
        With ``taken`` None the child is not checked against the designs known (a screen's candidate).
        """
        assert self._layout is not None
        lay = self._layout
        a = parents[mates[0]]
        if rng.random() < self.crossover_prob:
            a = _deap.crossover_one(lay, a, parents[mates[1]], eta=self.eta_crossover)
        child = _deap.mutate(lay, a, rate=self._rate, eta=self.eta_mutation, rng=rng)
        if not self.dedupe or taken is None:
            return child
        return self._fresh(rng, child, taken)

    def _fresh(self, rng: np.random.Generator, child: np.ndarray, taken: TakenKeys | set[bytes]) -> np.ndarray:
        """``child``, mutated again until its design is new to ``taken`` (which then claims it)."""
        assert self._layout is not None
        lay = self._layout
        return _deap.fresh(child, self._key, taken, layout=lay, rate=self._rate, eta=self.eta_mutation, rng=rng)

    # -------------------------------------------------------------- hooks
    def _state_classes(self) -> dict[str, type]:
        return {**super()._state_classes(), **swarm_state_classes()}

    def _start(self, rng: np.random.Generator) -> np.ndarray:
        assert self.space is not None
        self._ensure_keys()
        n, d = self.population, self.space.dim
        positions = latin_hypercube(rng, n, d)
        if self.dedupe:
            taken: TakenKeys | set[bytes] = set()
            lay, rate, eta = self._layout, self._rate, self.eta_mutation
            with _deap.python_random_from(rng):
                positions = np.array(
                    [_deap.fresh(x, self._key, taken, layout=lay, rate=rate, eta=eta, rng=rng) for x in positions]
                )
        self.swarm = ParticleSwarm(n, d, init_pos=positions, rng=rng, **self._settings)
        self._seen = set()
        self._stagnation = np.zeros(n, dtype=int)
        self._pbest_loss = None
        self._pbest_viol = None
        self._memory_x = None
        self._memory_loss = None
        self._observed = 0
        return positions

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
        """One application of the rule in the module docstring (inside :func:`_deap.python_random_from`)."""
        assert self.swarm is not None
        n = self.population
        if self.dedupe and not self._keys_recorded:
            self._seen.update(self._key(x) for x in positions)
        self._keys_recorded = False
        # 1. swarm bookkeeping
        if losses.ndim == 1:
            improved = self.swarm.observe(positions, losses)
            pbest_fitness = _deap.finite_losses(self.swarm.swarm.pbest_cost)
            pbest_ranked = None
            scalar = _deap.finite_losses(losses)[:, 0]
            worst_order = np.argsort(-scalar, kind="stable")
            self._observed += len(positions)
            if self.screen > 1 and self._observed - len(positions) < SCREEN_HORIZON:
                assert self._layout is not None
                self._memory_x, self._memory_loss = _screen.remember(
                    self._memory_x,
                    self._memory_loss,
                    self._layout.snap(positions),
                    scalar,
                    keep_best=SCREEN_KEEP_BEST,
                    keep_recent=SCREEN_KEEP_RECENT,
                )
        else:
            improved, pbest_fitness, pbest_ranked = self._observe_pareto(rng, positions, losses, violations)
            rank, crowd = _deap.rank_and_crowding(_deap.finite_losses(losses, violations))
            worst_order = np.lexsort((crowd, -rank))  # highest rank first, then smallest crowding
        self._stagnation = np.where(improved, 0, self._stagnation + 1)
        # 2. swarm move
        candidates = self.swarm.move(rng)
        # 3. who is replaced
        replaced = self._stagnation >= self.patience
        replaced[worst_order[: math.ceil(self.replace * n)]] = True
        taken = TakenKeys(self._seen)
        if self.dedupe:
            for i in range(n):
                if replaced[i]:
                    continue
                key = self._key(candidates[i])
                if key in taken:
                    replaced[i] = True
                else:
                    taken.add(key)
        # 4. replacement by genetic offspring of the personal bests
        who = np.flatnonzero(replaced)
        if who.size:
            assert self._layout is not None
            parents = self._layout.snap(self.swarm.swarm.pbest_pos)  # restarts below keep the personal bests
            screening = pbest_ranked is None and self._memory_loss is not None and self._observed < SCREEN_HORIZON
            k = self.screen if screening else 1
            mates = _deap.mating_selection(
                pbest_fitness, 2 * who.size, tournament=self.tournament, rng=rng, ranked=pbest_ranked
            ).tolist()
            if k == 1:
                children = [self._child(rng, parents, (mates[2 * j], mates[2 * j + 1]), taken) for j in range(who.size)]
            else:
                children = self._screened_children(rng, parents, mates, who.size, k, taken)
            for i, child in zip(who.tolist(), children, strict=True):
                candidates[i] = child
                self.swarm.restart(i, child)
                self._stagnation[i] = 0
        return candidates

    def _screened_children(
        self, rng: np.random.Generator, parents: np.ndarray, mates: list[int], count: int, k: int, taken: TakenKeys
    ) -> list[np.ndarray]:
        """``count`` offspring, each the most promising of ``k`` bred for it (:mod:`._screen`), new to ``taken``.

        The candidates are bred without the duplicate check, which is the
        costly part of breeding late in a long run (most children of
        converged parents are known designs and get mutated again and
        again); the check then walks each particle's candidates from the most
        promising and claims the first new design, so only the chosen child
        claims one.
        """
        assert self._layout is not None and self._memory_x is not None and self._memory_loss is not None
        pairs = [(mates[2 * j], mates[2 * j + 1]) for j in range(count)]
        kids = [self._child(rng, parents, pairs[j // k], None) for j in range(count * k)]  # k of each pair
        score = _screen.log_ratio(
            self._layout, self._memory_x, self._memory_loss, np.array(kids), gamma=SCREEN_GAMMA
        ).reshape(count, k)
        chosen = []
        for row in range(count):
            order = np.argsort(-score[row], kind="stable").tolist()
            best = kids[row * k + order[0]]
            if not self.dedupe:
                chosen.append(best)
                continue
            for c in order:  # the most promising candidate that is a new design
                key = self._key(kids[row * k + c])
                if key not in taken:
                    taken.add(key)
                    chosen.append(kids[row * k + c])
                    break
            else:  # every candidate is known (or claimed by another particle): mutate the best until it is new
                chosen.append(self._fresh(rng, best, taken))
        return chosen

    def _observe_pareto(
        self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray, violations: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Several objectives: personal bests by constrained domination, leaders from their front (rule step 1).

        Returns which particles improved, and the personal bests' finite
        losses with their rank and crowding (for choosing parents).
        """
        assert self.swarm is not None
        n = self.population
        if self._pbest_loss is None or self._pbest_viol is None:
            take = improved = np.ones(n, dtype=bool)
        else:
            both = _deap.finite_losses(
                np.vstack([self._pbest_loss, losses]), np.concatenate([self._pbest_viol, violations])
            )
            old, new = both[:n], both[n:]
            new_wins = (new <= old).all(axis=1) & (new < old).any(axis=1)
            old_wins = (old <= new).all(axis=1) & (old < new).any(axis=1)
            coin = rng.random(n) < 0.5
            take = new_wins | (~old_wins & ~new_wins & coin)
            improved = new_wins
        if self._pbest_loss is None or self._pbest_viol is None:
            self._pbest_loss, self._pbest_viol = losses.copy(), violations.copy()
        else:
            self._pbest_loss = np.where(take[:, None], losses, self._pbest_loss)
            self._pbest_viol = np.where(take, violations, self._pbest_viol)
        fitness = _deap.finite_losses(self._pbest_loss, self._pbest_viol)
        rank, crowd = _deap.rank_and_crowding(fitness)
        front = np.flatnonzero(rank == 0)
        a, b = front[rng.integers(front.size, size=(2, n))]
        leaders = np.where(crowd[a] >= crowd[b], a, b)
        pbest_pos = np.where(take[:, None], positions, self.swarm.swarm.pbest_pos)
        self.swarm.observe_pareto(positions, take, pbest_pos[leaders])
        return improved, fitness, (rank, crowd)


OPTIMIZERS = [HybridSwarmOptimizer]
