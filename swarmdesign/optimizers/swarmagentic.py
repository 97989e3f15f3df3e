"""``swarmagentic``: PSO whose particles also move in language (Liu et al. 2025, "SwarmAgentic").

Each particle is a point of the search space's unit box *plus* a text state:
the policies (prompts) of its roles. One generation step:

* **numeric move** - counts, models, topology and coordination move by the
  standard global-best PSO update ``v = w v + c1 r1 (pbest - x) + c2 r2 (gbest - x)``;
* **language move** - for each particle, the failed tasks of its last
  evaluation (the ``llm`` evaluator's ``failures`` digest) are summarised into
  typed flaws, turned into candidate adjustments, filtered by the particle's
  failure memory (an adjustment that did not raise its score is never
  repeated), chosen by an LLM (the velocity) and applied: role policies are
  rewritten, optional roles switched on or off and review rounds changed by
  editing the particle's position. Guidance then copies role policies from
  the particle's personal best and the global best, each with probability
  ``guidance``. See :mod:`swarmdesign.llm.flaws`; the prompts are files in
  ``swarmdesign/llm/prompts/sa_*.txt``.

State lives in the study: each trial carries ``prompts`` (the role policies
it was evaluated with) and ``adjustments`` (what changed to reach it), so a
resumed run replays recorded generations without new LLM calls for the
particles already recorded (others are recomputed, answered by the LLM
cache). Every LLM step's prompt and answer go to the run's
``llm_traces.jsonl`` as ``type: swarmagentic`` records.

With an evaluator that reports no failures (the simulator) the language
move has nothing to work on and the optimizer is a PSO with policy guidance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from swarmdesign.design import Design
from swarmdesign.optimizers.base import Outcome, PopulationOptimizer, Proposal

if TYPE_CHECKING:
    import optuna

    from swarmdesign.llm.client import LLMClient
    from swarmdesign.llm.flaws import Adjustment
    from swarmdesign.scenario_llm import LLMSettings as ScenarioLLM


def _outcome(trial: optuna.trial.FrozenTrial) -> Outcome:
    from optuna.trial import TrialState

    if trial.state != TrialState.COMPLETE or trial.values is None:
        return Outcome(values=None, score=None)
    score = trial.user_attrs.get("score")
    return Outcome(values=list(trial.values), score=float(score) if score is not None else None)


class SwarmAgenticOptimizer(PopulationOptimizer):
    """See the module docstring. Hyperparameters:

    Args:
        population: particles per generation.
        inertia, cognitive, social: PSO weights ``w``, ``c1``, ``c2`` of the numeric move.
        guidance: probability of copying a role policy from the personal / global best.
        llm_model: litellm model for the flaw, velocity and policy steps (default: the
            particle's first role's model, through the scenario's ``llm.model_map``).
        api_base: OpenAI-compatible server for that model (default: the scenario's ``llm.api_base``).
        max_tokens: completion tokens per optimizer call.
        max_cost_usd: hard cap on the optimizer's own LLM spending.
        cache_dir: answer cache (default: the evaluator's default cache).
        trace_dir: where ``llm_traces.jsonl`` goes (set by :meth:`bind_run`).
    """

    #: Its state holds an LLM client and prompt texts; a resume replays it from the study's records.
    checkpointable: ClassVar[bool] = False
    #: Its replay reads every trial's prompts and design: a resume opens the study.
    reads_trials_only: ClassVar[bool] = False

    name: ClassVar[str] = "swarmagentic"
    multi_objective: ClassVar[bool] = False

    def __init__(
        self,
        population: int = 4,
        inertia: float = 0.6,
        cognitive: float = 1.4,
        social: float = 1.4,
        guidance: float = 0.5,
        llm_model: str | None = None,
        api_base: str | None = None,
        max_tokens: int = 160,
        max_cost_usd: float | None = None,
        cache_dir: str | None = None,
        trace_dir: str | None = None,
    ) -> None:
        given = {
            "inertia": inertia,
            "cognitive": cognitive,
            "social": social,
            "guidance": guidance,
            "llm_model": llm_model,
            "api_base": api_base,
            "max_tokens": max_tokens,
            "max_cost_usd": max_cost_usd,
            "cache_dir": cache_dir,
            "trace_dir": trace_dir,
        }
        super().__init__(population=population, **{k: v for k, v in given.items() if v is not None})
        if not 0.0 <= guidance <= 1.0:
            raise ValueError("guidance must be in [0, 1]")
        self.inertia, self.cognitive, self.social, self.guidance = inertia, cognitive, social, guidance
        self.llm_model, self.api_base, self.max_tokens = llm_model, api_base, max_tokens
        self._scenario_llm: ScenarioLLM | None = None  # set by bind_scenario
        self.max_cost_usd, self.cache_dir, self.trace_dir = max_cost_usd, cache_dir, trace_dir
        self._client: LLMClient | None = None
        self._reset_state()

    def bind_run(self, run_dir: str | Path) -> None:
        """Send the optimizer's LLM steps to the run folder's trace file."""
        if self.trace_dir is None:
            self.trace_dir = str(run_dir)

    def bind_scenario(self, llm_section: dict[str, Any] | None) -> None:
        """Take the run scenario's model map and server for the optimizer's own calls.

        Why: a scenario that maps its models to local or fake ones (``llm_offline``)
        must not send the optimizer's steps to the hosted model of the same name.
        Explicit ``llm_model`` / ``api_base`` parameters still win.
        """
        from swarmdesign.scenario_llm import validate_llm_section

        self._scenario_llm = validate_llm_section(llm_section) if llm_section else None

    # ------------------------------------------------------------ state
    def _reset_state(self) -> None:
        n = self.population
        self.velocity: np.ndarray | None = None
        self.pbest_pos: np.ndarray | None = None
        self.pbest_loss = np.full(n, math.inf)
        self.prompts: list[dict[str, str]] = [{} for _ in range(n)]
        self.pbest_prompts: list[dict[str, str]] = [{} for _ in range(n)]
        self.gbest_prompts: dict[str, str] = {}
        self.gbest_loss = math.inf
        self.failed: list[set[str]] = [set() for _ in range(n)]
        self.last_adjustments: list[list[dict[str, str]]] = [[] for _ in range(n)]
        self.prev_loss = np.full(n, math.inf)

    def _start(self, rng: np.random.Generator) -> np.ndarray:
        assert self.space is not None
        pos = rng.random((self.population, self.space.dim))
        self.velocity = np.zeros_like(pos)
        return pos

    def _advance(self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        """The numeric move (global-best PSO); personal and global bests are updated first."""
        assert self.velocity is not None and self.pbest_pos is not None
        best = int(np.argmin(self.pbest_loss))
        r1, r2 = rng.random(positions.shape), rng.random(positions.shape)
        self.velocity = (
            self.inertia * self.velocity
            + self.cognitive * r1 * (self.pbest_pos - positions)
            + self.social * r2 * (self.pbest_pos[best] - positions)
        )
        self.velocity = np.clip(self.velocity, -0.5, 0.5)
        return positions + self.velocity

    # ---------------------------------------------------------- protocol
    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        proposals = super().ask(study, n)
        for p in proposals:
            i = int(p.attrs["particle"])
            p.attrs["prompts"] = json.dumps(self.prompts[i], sort_keys=True)
            p.attrs["adjustments"] = json.dumps(self.last_adjustments[i])
        return proposals

    def decode(self, proposal: Proposal) -> Design:
        """The design a proposal stands for: the space's decoding plus the particle's role policies."""
        assert self.space is not None
        design = self.space.decode_params(proposal.params)
        prompts = json.loads(proposal.attrs.get("prompts") or "{}")
        if not prompts:
            return design
        roles = [r.model_copy(update={"prompt": prompts.get(r.name, r.prompt)}) for r in design.roles]
        return design.model_copy(update={"roles": roles})

    def _sync(self, study: optuna.Study) -> None:
        recorded = self._recorded(study)
        self.generation = 0
        self._reset_state()
        self.positions = self._initial_positions()
        while len(recorded.get(self.generation, {})) >= self.population:
            trials = recorded[self.generation]
            self._step([trials[i] for i in range(self.population)], recorded.get(self.generation + 1, {}))
        self._synced = True

    def _finished_now(self, study: optuna.Study) -> dict[int, Any]:
        """Read from the study: this optimizer needs the trials' recorded failures and prompts."""
        return self._recorded(study).get(self.generation, {})

    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        current = self._recorded(study).get(self.generation, {})
        if len(current) >= self.population:
            self._step([current[i] for i in range(self.population)], {})

    # -------------------------------------------------------------- step
    def _step(self, trials: list[Any], next_recorded: dict[int, Any]) -> None:
        """Finish generation ``self.generation`` from its trials and prepare the next one."""
        assert self.positions is not None
        losses = self.losses([_outcome(t) for t in trials], scalar=True)
        for i in range(self.population):  # failure memory: what led here and did not help
            if self.generation > 0 and not losses[i] < self.prev_loss[i]:
                self.failed[i].update(f"{a['action']}:{a['target']}" for a in self.last_adjustments[i])
        if self.pbest_pos is None:
            self.pbest_pos = self.positions.copy()
        for i, t in enumerate(trials):
            if losses[i] < self.pbest_loss[i]:
                self.pbest_loss[i] = losses[i]
                self.pbest_pos[i] = self.positions[i]
                self.pbest_prompts[i] = _recorded_prompts(t, self.prompts[i])
            if losses[i] < self.gbest_loss:
                self.gbest_loss = float(losses[i])
                self.gbest_prompts = _recorded_prompts(t, self.prompts[i])
        self.prev_loss = losses.copy()
        rng = self._rng(self.generation + 1)
        new_positions = np.clip(self._advance(rng, self.positions, losses), 0.0, 1.0)
        new_prompts: list[dict[str, str]] = []
        new_adjustments: list[list[dict[str, str]]] = []
        for i, t in enumerate(trials):
            if i in next_recorded:  # replay: take what was really evaluated
                rec = next_recorded[i].user_attrs
                new_prompts.append(json.loads(rec.get("prompts") or "{}"))
                new_adjustments.append(json.loads(rec.get("adjustments") or "[]"))
                continue
            prompts, adjustments, new_positions[i] = self._language_move(i, t, losses, new_positions[i], rng)
            new_prompts.append(prompts)
            new_adjustments.append(adjustments)
        self.positions = new_positions
        self.prompts = new_prompts
        self.last_adjustments = new_adjustments
        self.generation += 1

    def _language_move(
        self, i: int, trial: Any, losses: np.ndarray, position: np.ndarray, rng: np.random.Generator
    ) -> tuple[dict[str, str], list[dict[str, str]], np.ndarray]:
        from swarmdesign.llm import flaws as F

        prompts = dict(_recorded_prompts(trial, self.prompts[i]))
        design_json = trial.user_attrs.get("design")
        applied: list[dict[str, str]] = []
        if design_json:
            design = Design.from_dict(json.loads(design_json))
            failures = F.load_failures(trial.user_attrs.get("failures"))
            if failures:
                ask = self._asker(i, design)
                found = F.summarise_flaws(design, failures, ask)
                candidates = F.candidate_adjustments(found, design, self._space_roles())
                chosen = F.velocity(found, candidates, self.failed[i], -self.pbest_loss[i], -self.gbest_loss, ask)
                self._trace(
                    {
                        "step": "update",
                        "particle": i,
                        "flaws": [f.__dict__ for f in found],
                        "candidates": [a.to_dict() for a in candidates],
                        "chosen": [a.to_dict() for a in chosen],
                        "failed_before": sorted(self.failed[i]),
                    }
                )
                for adj in chosen:
                    how = self._apply(adj, design, prompts, position, ask)
                    applied.append({**adj.to_dict(), "how": how})
        for source, other in (("pbest", self.pbest_prompts[i]), ("gbest", self.gbest_prompts)):
            for role, text in sorted(other.items()):
                if prompts.get(role) != text and rng.random() < self.guidance:
                    prompts[role] = text
                    applied.append({"action": f"adopt_{source}", "target": role, "reason": source, "flaw": "-"})
        return prompts, applied, position

    def _apply(self, adj: Adjustment, design: Design, prompts: dict[str, str], position: np.ndarray, ask: Any) -> str:
        from swarmdesign.llm import flaws as F

        if adj.action == "rewrite_policy":
            role = design.role(adj.target)
            current = prompts.get(role.name, role.prompt)
            prompts[role.name], how = F.rewritten_policy(current, adj, role.archetype, ask)
            return how
        names = [p.name for p in self.space.params] if self.space is not None else []
        changes = {
            "enable_role": (f"use.{adj.target}", lambda v: 1),
            "disable_role": (f"use.{adj.target}", lambda v: 0),
            "add_review": ("coordination.review_rounds", lambda v: int(v) + 1),
            "drop_review": ("coordination.review_rounds", lambda v: int(v) - 1),
        }
        pname, change = changes[adj.action]
        if pname not in names:
            return "not in the search space"
        k = names.index(pname)
        params = self.space.vector_to_params(position)  # type: ignore[union-attr]
        params[pname] = change(params[pname])
        dist = self.space.distributions()[pname]  # type: ignore[union-attr]
        params[pname] = min(max(params[pname], dist.low), dist.high)  # type: ignore[attr-defined]
        position[k] = self.space.params_to_vector(params)[k]  # type: ignore[union-attr]
        return f"position {pname} = {params[pname]}"

    def _space_roles(self) -> dict[str, dict[str, Any]]:
        assert self.space is not None
        spec = self.space.spec
        out: dict[str, dict[str, Any]] = {
            r.name: {"archetype": r.archetype, "optional": r.optional} for r in spec.roles
        }
        if "coordination.review_rounds" in self.space.distributions():
            out["__review__"] = {}
        return out

    # -------------------------------------------------------------- LLM
    def _asker(self, particle: int, design: Design) -> Any:
        from swarmdesign.llm.workflow import call_seed

        settings = self._scenario_llm
        first = design.active_roles[0].model
        model = self.llm_model or (settings.litellm_model(first) if settings is not None else first)
        client = self._llm()

        def ask(system: str, user: str, tag: str) -> str:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            seed = call_seed(self.seed, self.generation, particle, tag)
            result = client.complete(model, messages, seed=seed, temperature=0.0)
            usage = {k: getattr(result, k) for k in ("prompt_tokens", "completion_tokens", "cost_usd", "spent_usd")}
            record = {"step": tag, "particle": particle, "model": model, "messages": messages}
            self._trace({**record, "answer": result.text, "error": result.error, "cached": result.cached, **usage})
            return result.text

        return ask

    def _llm(self) -> LLMClient:
        if self._client is None:
            from swarmdesign.llm.client import LLMClient
            from swarmdesign.llm.settings import LLMSettings

            settings = LLMSettings(
                max_tokens=self.max_tokens,
                temperature=0.0,
                api_base=self.api_base or (self._scenario_llm.api_base if self._scenario_llm else None),
                cache_dir=self.cache_dir,
                max_cost_usd=self.max_cost_usd,
                concurrency=1,
                retries=2,
            )
            self._client = LLMClient(settings)
        return self._client

    def _trace(self, record: dict[str, Any]) -> None:
        if self.trace_dir is None:
            return
        from swarmdesign.llm.traces import TraceWriter

        redact = self._client.redact if self._client is not None else None
        TraceWriter(self.trace_dir, redact).write(
            {"type": "swarmagentic", "generation": self.generation, "seed": self.seed, **record}
        )


def evaluate_decoded(run: Any, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
    """A runner batch executor that evaluates ``optimizer.decode(proposal)`` (policies included).

    Pass it as ``Run.execute(batch_executor=evaluate_decoded)`` until the runner's
    default executor decodes through the optimizer itself.
    """
    import time

    from swarmdesign.evaluation import evaluate_safely

    decode = getattr(run.optimizer, "decode", None)
    designs = [decode(p) if decode else run.space.decode_params(p.params) for p in proposals]
    start = time.perf_counter()
    rows, reasons = evaluate_safely(run.evaluator, designs, run.scenario, seed)
    per_design = (time.perf_counter() - start) / max(len(designs), 1)
    return run.record(proposals, designs, rows, reasons, per_design)


def _recorded_prompts(trial: Any, fallback: dict[str, str]) -> dict[str, str]:
    raw = trial.user_attrs.get("prompts")
    return json.loads(raw) if raw else dict(fallback)


OPTIMIZERS = [SwarmAgenticOptimizer]
