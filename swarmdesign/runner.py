"""The search loop: ask, decode, evaluate a batch, record, tell, until the budget.

A run is a folder (``runs/<name>/``) holding ``config.yaml`` (everything
needed to rebuild the run: the resolved space and scenario, the optimizer and
evaluator with their parameters, seed, budget, versions) and the Optuna study
(the single source of truth). ``trials.csv``, ``best.yaml`` and ``pareto/``
are derived from the study after every batch, atomically, so a killed run
leaves them consistent with what it had finished.

Resume = open the folder, rebuild the optimizer from the study, and continue
until the number of finished trials reaches the budget. Finished trials are
never redone; a batch in flight when the run died is simply evaluated again.
"""

from __future__ import annotations

import datetime as _dt
import platform
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import TrialState

from swarmdesign import __version__, records, yamlio
from swarmdesign.design import Design
from swarmdesign.errors import RunStopped, SwarmdesignError
from swarmdesign.evaluation import EvaluationTimeout, evaluate_safely, frame_rows
from swarmdesign.evaluators import Evaluator, make_evaluator
from swarmdesign.fitness import Scenario
from swarmdesign.optimizers import Optimizer, Outcome, Proposal, make_optimizer
from swarmdesign.outputs import RunOutputs
from swarmdesign.recommend.best import RunningBest, best_of, best_search_trial, trial_key
from swarmdesign.run_trials import RunTrials
from swarmdesign.search_target import search_objectives
from swarmdesign.space import SearchSpace
from swarmdesign.stopping import cleanup_shield, stop_signals
from swarmdesign.storage import (
    CONFIG_NAME,
    JOURNAL_NAME,
    OPTIMIZER_STATE_NAME,
    TRIALS_NAME,
    StudyStore,
    load_study,
    new_run_dir,
    open_storage,
    redact,
    write_atomic,
)
from swarmdesign.table_trials import TableTrialError, fresh_start

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EvaluationTimeout", "Run", "RunSettings", "RunSummary", "evaluate_designs", "evaluate_safely", "frame_rows"]

RUN_FORMAT_KEY = "swarmdesign_run"
DEFAULT_BATCH = 16
#: Seconds between refreshes of trials.csv / best.yaml during a run (the study itself is written every batch).
OUTPUT_EVERY_S = 2.0
#: Trials after which trials.csv is refreshed whatever the time. A refresh is also held back to ~10 % of the
#: run's time, but writing a trial's row costs more than a tenth of a fast trial, so that rule alone let the
#: gaps grow without end (5k, 13k, 23k, 36k trials in a 10^5-trial run): the trials not yet in trials.csv hold
#: their attributes as dicts (RunTrials.compact), ~4.5 KB each, the largest part of such a run's peak memory.
OUTPUT_MAX_TRIALS = 8192


BatchExecutor = Callable[["Run", Sequence[Proposal], int], tuple[list[Outcome], int]]


@dataclass
class RunSettings:
    """What ``swarmdesign run`` was asked to do (before anything is resolved)."""

    space: SearchSpace
    scenario: Scenario
    optimizer: str
    optimizer_params: dict[str, Any] = field(default_factory=dict)
    evaluator: str = "simulated"
    evaluator_params: dict[str, Any] = field(default_factory=dict)
    budget: int = 200
    seed: int = 0
    batch_size: int = DEFAULT_BATCH
    name: str | None = None
    out: Path = Path("runs")
    storage: str | None = None
    seed_designs: list[Design] = field(default_factory=list)
    max_fail_share: float = 0.5
    eval_timeout_s: float | None = None
    scenario_source: str | None = None
    #: Search the scenario's declared objectives (a Pareto front when several) instead of its score.
    pareto: bool = False


@dataclass
class RunSummary:
    run_dir: Path
    finished: int
    budget: int
    seconds: float
    best: Design | None
    stopped: str | None = None


class Run:
    """An open run folder with everything needed to continue it."""

    def __init__(
        self,
        run_dir: Path,
        config: dict[str, Any],
        store: StudyStore,
        study: optuna.Study | None,
        space: SearchSpace,
        scenario: Scenario,
        optimizer: Optimizer,
        evaluator: Evaluator,
        directions: list[StudyDirection] | None = None,
    ) -> None:
        """``study`` None: opened on first use (``directions`` then says what the study records)."""
        self.run_dir = run_dir
        self.config = config
        self.store = store
        self._study = study
        self.space = space
        self.scenario = scenario
        self.optimizer = optimizer
        self.evaluator = evaluator
        # Only the run folder's own journal gets trials.csv stamped against it: it has one writer (this process).
        self._outputs = RunOutputs(
            run_dir,
            self.provenance,
            run_dir / JOURNAL_NAME if store.url is None else None,
            front=records.front_objectives(config),
        )
        self._distributions = space.distributions()
        #: Every trial of the study, kept in memory as the run writes them (no Optuna replay during a run).
        self.trials = RunTrials(
            lambda: self.study, store, self._distributions, directions=directions or (study and study.directions)
        )
        #: Seconds per design of the last batch evaluated in this process (executors use it to choose where).
        self.last_eval_s_per_design: float | None = None
        #: Trials finished as the loop counts them (executors size their choices by what is left).
        self.finished_so_far = 0

    # ------------------------------------------------------------ creation
    @classmethod
    def create(cls, s: RunSettings) -> Run:
        if s.budget < 1:
            raise SwarmdesignError(f"budget must be >= 1, got {s.budget}", field="--budget")
        if s.eval_timeout_s is not None and s.eval_timeout_s <= 0:
            raise SwarmdesignError(
                f"expected a positive number of seconds, got {s.eval_timeout_s}", field="--eval-timeout"
            )
        if not 0.0 <= s.max_fail_share <= 1.0:
            raise SwarmdesignError(f"expected a share in [0, 1], got {s.max_fail_share}", field="--max-fail-share")
        if s.batch_size < 1:
            raise SwarmdesignError(f"batch size must be >= 1, got {s.batch_size}", field="--batch-size")
        optimizer = make_optimizer(s.optimizer, **s.optimizer_params)
        evaluator = make_evaluator(s.evaluator, **s.evaluator_params)
        initial = [s.space.design_to_params(d) for d in s.seed_designs]
        objectives = search_objectives(s.scenario, optimizer, pareto=s.pareto)
        evaluator.prepare(s.scenario)
        s.scenario.check_evaluator(evaluator, file=s.scenario_source)
        name = s.name or _default_name(s.space.name, s.out)
        run_dir = new_run_dir(s.out, name)
        config = {
            RUN_FORMAT_KEY: 1,
            "name": name,
            "study_name": name,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": _versions(),
            "space": {"source": s.space.source, "spec": s.space.to_dict()},
            "scenario": {"source": s.scenario_source, "spec": s.scenario.to_dict()},
            "optimizer": {"name": s.optimizer, "params": optimizer.params()},
            "evaluator": {"name": s.evaluator, "params": evaluator.params()},
            "objectives": objectives,
            "budget": s.budget,
            "seed": s.seed,
            "batch_size": s.batch_size,
            "max_fail_share": s.max_fail_share,
            "eval_timeout_s": s.eval_timeout_s,
            "storage": redact(s.storage),
            "seed_designs": initial,
        }
        store = open_storage(run_dir, s.storage)
        try:
            study = optuna.create_study(
                storage=store.storage,
                study_name=name,
                directions=[o["direction"] for o in objectives],
                load_if_exists=False,
            )
        except optuna.exceptions.DuplicatedStudyError:
            raise SwarmdesignError(f"the storage already holds a study named '{name}'", field="--name") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([o["name"] for o in objectives])
        store.flush()
        write_atomic(run_dir / CONFIG_NAME, yamlio.dumps(config))
        return cls._assemble(run_dir, config, store, study, s.space, s.scenario, optimizer, evaluator)

    @classmethod
    def open(cls, run_dir: Path, *, storage: str | None = None) -> Run:
        config_path = run_dir / CONFIG_NAME
        if not config_path.exists():
            raise SwarmdesignError(f"not a run folder (no {CONFIG_NAME})", file=str(run_dir))
        config = yamlio.load_file(config_path)
        if not isinstance(config, dict) or config.get(RUN_FORMAT_KEY) != 1:
            raise SwarmdesignError(f"expected '{RUN_FORMAT_KEY}: 1'", file=str(config_path), field=RUN_FORMAT_KEY)
        url = storage or config.get("storage")
        if url and "***" in url:
            raise SwarmdesignError(
                "the run's storage URL has a password that is not stored; pass it again with --storage",
                file=str(config_path),
                field="storage",
            )
        space = SearchSpace.from_dict(config["space"]["spec"], file=str(config_path))
        scenario = Scenario.from_dict(config["scenario"]["spec"], file=str(config_path))
        try:
            optimizer = make_optimizer(config["optimizer"]["name"], **config["optimizer"]["params"])
        except SwarmdesignError as exc:  # the run's own settings: name the file, not the command-line option
            raise SwarmdesignError(exc.message, file=str(config_path), field="optimizer") from None
        evaluator = make_evaluator(config["evaluator"]["name"], **config["evaluator"]["params"])
        fresh = None
        if url is None and optimizer.reads_trials_only:
            fresh = fresh_start(run_dir, config["study_name"])
        if fresh is None:
            store = open_storage(run_dir, url)
            study = load_study(store, config["study_name"])
            return cls._assemble(run_dir, config, store, study, space, scenario, optimizer, evaluator)
        store = open_storage(run_dir, None, known_logs=fresh.index.log_count)
        run = cls._assemble(
            run_dir, config, store, None, space, scenario, optimizer, evaluator, recorded=fresh.index.directions
        )
        try:
            trials = fresh.trials(run._distributions, [o["name"] for o in config["objectives"]], run._exact_trial)
        except (TableTrialError, KeyError, ValueError, TypeError, AttributeError):
            return run  # the table cannot stand for the study: the study is replayed when first read
        run.trials.start_from(trials, fresh.stamp.get("recommendation"), fresh.index.study_id, fresh.index)
        run._outputs.known_fill = fresh.stamp.get("fill") or {}
        return run

    def _exact_trial(self, number: int) -> optuna.trial.FrozenTrial:
        """Trial ``number`` as Optuna replays it (a rebuilt trial whose journal line is not the whole trial)."""
        return self.study.get_trials(deepcopy=False)[number]

    @classmethod
    def _assemble(cls, run_dir, config, store, study, space, scenario, optimizer, evaluator, recorded=None) -> Run:  # noqa: ANN001
        """A :class:`Run` of these parts; ``study`` None: opened on first use, ``recorded`` its directions."""
        directions = [o["direction"] for o in config["objectives"]]
        optimizer.bind(space, directions, int(config["seed"]), initial=config.get("seed_designs") or [])
        saved_state = run_dir / OPTIMIZER_STATE_NAME
        if saved_state.exists():  # used only if it matches the study (see PopulationOptimizer.checkpoint)
            optimizer.offer_checkpoint(saved_state.read_bytes())
        try:
            sampler = optimizer.sampler()
        except TypeError as exc:
            raise SwarmdesignError(f"bad optimizer parameters: {exc}", field="--optimizer-param") from None
        run = cls(run_dir, config, store, study, space, scenario, optimizer, evaluator, recorded)
        if sampler is not None:
            run.study.sampler = sampler
        bind_scenario = getattr(optimizer, "bind_scenario", None)  # optimizers that call models themselves
        if bind_scenario is not None:
            bind_scenario(scenario.llm)
        for part in (evaluator, optimizer):  # parts that keep files (traces, caches) in the run folder
            bind_run = getattr(part, "bind_run", None)
            if bind_run is not None:
                bind_run(run_dir)
        return run

    # ------------------------------------------------------------- queries
    @property
    def study(self) -> optuna.Study:
        """The Optuna study; a resume from a fresh ``trials.csv`` opens (replays) it only when first used."""
        if self._study is None:
            self._study = load_study(self.store, self.config["study_name"])
        return self._study

    @property
    def study_opened(self) -> bool:
        return self._study is not None

    def _study_for_optimizer(self) -> Any:  # noqa: ANN401 - an optuna.Study or its trials view
        return self.trials.view if self.optimizer.reads_trials_only else self.study

    @property
    def budget(self) -> int:
        return int(self.config["budget"])

    def finished(self) -> int:
        is_finished = records.is_finished
        return sum(1 for t in self.trials.trials() if is_finished(t))

    def provenance(self) -> dict[str, Any]:
        c = self.config
        return {
            "space": c["space"]["spec"]["name"],
            "scenario": c["scenario"]["spec"]["name"],
            "optimizer": c["optimizer"]["name"],
            "evaluator": c["evaluator"]["name"],
            "seed": c["seed"],
            "run": c["name"],
            "version": __version__,
        }

    # ---------------------------------------------------------------- loop
    def execute(
        self,
        *,
        budget: int | None = None,
        on_batch: Callable[[int, int, float | None], None] | None = None,
        batch_executor: BatchExecutor | None = None,
    ) -> RunSummary:
        """Evaluate until ``budget`` trials are finished; see the module docstring.

        ``batch_executor`` replaces the in-process evaluation and recording of a
        batch (local process pools, remote workers); it must record every
        proposal as a finished trial and return the outcomes in order plus the
        number that failed. The default is :meth:`evaluate_and_record`.
        """
        execute_batch = batch_executor or Run.evaluate_and_record
        if budget is not None:
            if budget < 1:
                raise SwarmdesignError(f"budget must be >= 1, got {budget}", field="--budget")
            if budget != self.budget:
                self.config["budget"] = budget
                write_atomic(self.run_dir / CONFIG_NAME, yamlio.dumps(self.config))
        start = time.perf_counter()
        self._abandon_stale_running()
        finished = self.finished_so_far = self.finished()
        stopped = None
        batch_size = int(self.config.get("batch_size", DEFAULT_BATCH))
        seed = int(self.config["seed"])
        last_write = time.perf_counter()
        last_write_at = finished
        write_cost = 0.0
        running_best = self._running_best()
        for_optimizer = self._study_for_optimizer()
        try:
            with _terminate_as_interrupt():
                while finished < self.budget:
                    want = min(batch_size, self.budget - finished)
                    proposals = self.optimizer.ask(for_optimizer, want)[:want]
                    if not proposals:
                        stopped = "the optimizer has nothing more to propose"
                        break
                    try:
                        outcomes, failed = execute_batch(self, proposals, seed)
                    except BaseException:
                        with cleanup_shield():
                            self._abandon(proposals)
                        raise
                    self.optimizer.tell(for_optimizer, proposals, outcomes)
                    finished += len(proposals)
                    self.finished_so_far = finished
                    if (
                        time.perf_counter() - last_write > max(OUTPUT_EVERY_S, 10 * write_cost)
                        or finished - last_write_at >= OUTPUT_MAX_TRIALS
                    ):
                        # Derived files: every few seconds (~10 % of the time) or OUTPUT_MAX_TRIALS trials, and last.
                        t_write = time.perf_counter()
                        self.write_outputs(final=False)
                        write_cost = time.perf_counter() - t_write
                        last_write, last_write_at = time.perf_counter(), finished
                    best_score = running_best.update(outcomes)  # same rule as best.yaml, O(batch)
                    if on_batch is not None:
                        on_batch(finished, self.budget, best_score)
                    share = float(self.config.get("max_fail_share", 0.5))
                    if failed and failed / len(proposals) > share:
                        raise RunStopped(
                            f"{failed} of {len(proposals)} evaluations in the last batch failed (more than "
                            f"{share:.0%}); see fail_reason in {self.run_dir / TRIALS_NAME}; fix the cause, then "
                            f"'swarmdesign resume {self.run_dir}'"
                        )
        except KeyboardInterrupt as exc:
            with cleanup_shield():  # a second Ctrl-C must not leave trials.csv behind the study
                self.store.flush()
                self.write_outputs()
                self._save_optimizer_state()
            what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
            raise RunStopped(
                f"{what} after {self.finished()} of {self.budget} trials; every finished trial is kept. "
                f"Continue with: swarmdesign resume {self.run_dir}",
                exit_code=143 if isinstance(exc, Terminated) else 130,
            ) from None
        except RunStopped:
            self.store.flush()
            self.write_outputs()
            self._save_optimizer_state()
            raise
        best_trial = self.write_outputs()
        self._save_optimizer_state()
        best = None if best_trial is None else records.design_of(best_trial, provenance=self.provenance())
        return RunSummary(self.run_dir, self.finished(), self.budget, time.perf_counter() - start, best, stopped)

    def _save_optimizer_state(self) -> None:
        """Save the optimizer's state next to the study, so that a resume need not replay every generation."""
        path = self.run_dir / OPTIMIZER_STATE_NAME
        blob = self.optimizer.checkpoint() if hasattr(self.optimizer, "checkpoint") else None
        if blob is None:
            path.unlink(missing_ok=True)  # an older state would no longer match; never leave it behind
            return
        try:
            write_atomic(path, blob)
        except SwarmdesignError as exc:  # a missed shortcut for the next resume, not a failed run
            warnings.warn(f"{exc}; the next resume replays the study instead", RuntimeWarning, stacklevel=2)

    def evaluate_and_record(self, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
        """Evaluate a batch in this process and record it in the study (one flush)."""
        designs = [self.optimizer.decode(p) for p in proposals]
        t0 = time.perf_counter()
        timeout = self.config.get("eval_timeout_s")
        rows, reasons = evaluate_safely(
            self.evaluator, designs, self.scenario, seed, timeout=float(timeout) if timeout else None
        )
        per_design = (time.perf_counter() - t0) / max(len(designs), 1)
        self.last_eval_s_per_design = per_design
        return self.record(proposals, designs, rows, reasons, per_design)

    def record(
        self,
        proposals: Sequence[Proposal],
        designs: Sequence[Design],
        rows: Sequence[dict[str, Any] | None],
        reasons: Sequence[str | None],
        per_design: float,
    ) -> tuple[list[Outcome], int]:
        """Write evaluated proposals as trials: metrics rows, or failure reasons."""
        outcomes: list[Outcome] = []
        to_add: list[optuna.trial.FrozenTrial] = []
        dists = self._distributions
        now = _dt.datetime.now()
        objective_names = [o["name"] for o in self.config["objectives"]]
        failed = 0
        for proposal, design, row, reason in zip(proposals, designs, rows, reasons, strict=True):
            attrs = {k: v for k, v in proposal.attrs.items() if not k.startswith("_")}
            attrs["design"] = (
                proposal.design_json
                if proposal.design is design and proposal.design_json
                else records.design_json(design)
            )
            attrs["eval_seconds"] = per_design
            if reason is None:
                assert row is not None
                attrs.update(records.metric_attrs(row))
                values = [float(row[n]) for n in objective_names]
                outcome = Outcome(values=values, score=float(row["score"]), violation=float(row.get("violation", 0.0)))
            else:
                failed += 1
                attrs["fail_reason"] = reason
                outcome = Outcome(values=None, score=None)
            outcomes.append(outcome)
            if proposal.trial is not None:
                for k, v in attrs.items():
                    proposal.trial.set_user_attr(k, v)
                if outcome.values is None:
                    self.study.tell(proposal.trial, state=TrialState.FAIL)
                else:
                    self.study.tell(proposal.trial, outcome.values)
            else:
                # Built directly: ``create_trial`` + ``add_trials`` convert and validate every
                # distribution of every trial again, the largest per-trial cost after the journal.
                to_add.append(
                    optuna.trial.FrozenTrial(
                        number=-1,
                        state=TrialState.COMPLETE if outcome.values is not None else TrialState.FAIL,
                        value=None,
                        values=outcome.values,
                        datetime_start=now,
                        datetime_complete=now,
                        params=proposal.params,
                        distributions=dists,
                        user_attrs=attrs,
                        system_attrs=dict(proposal.system_attrs),
                        intermediate_values={},
                        trial_id=-1,
                    )
                )
        if to_add:
            self.trials.add(to_add)
        self.store.flush(durable=False)
        return outcomes, failed

    def _abandon(self, proposals: Sequence[Proposal]) -> None:
        """Trials opened for a batch that did not finish: FAIL them as abandoned (never left RUNNING)."""
        for p in proposals:
            if p.trial is None:
                continue
            frozen = self.study._storage.get_trial(p.trial._trial_id)  # noqa: SLF001 - state check only
            if frozen.state == TrialState.RUNNING:
                p.trial.set_user_attr("fail_reason", "abandoned")
                self.study.tell(p.trial, state=TrialState.FAIL)
        self.store.flush()

    def _abandon_stale_running(self) -> None:
        """A run folder's own journal has one writer, so RUNNING trials there are from a dead process."""
        if self.store.shared:
            return
        running = [t for t in self.trials.trials() if t.state == TrialState.RUNNING]
        for t in running:
            self.study._storage.set_trial_user_attr(t._trial_id, "fail_reason", "abandoned")  # noqa: SLF001
            self.study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)  # noqa: SLF001
        self.store.flush()

    # ------------------------------------------------------------- outputs
    def _running_best(self) -> RunningBest:
        """The progress bar's best-so-far, by the one rule of :mod:`swarmdesign.recommend.best`."""
        running = RunningBest()
        t = best_search_trial(t for t in self.trials.trials() if t.state == TrialState.COMPLETE)
        running.key = None if t is None else trial_key(t)
        return running

    def best_design(self) -> Design | None:
        t = best_of(self.trials.trials(), self.trials.recommendation())
        return None if t is None else records.design_of(t, provenance=self.provenance())

    def write_outputs(self, *, final: bool = True) -> optuna.trial.FrozenTrial | None:
        """trials.csv, best.yaml and pareto/ from the study, folding in only trials not yet written.

        ``final`` picks best.yaml by :func:`records.best_trial` over the whole
        study (a stored recommendation wins); during a run the best is kept
        up to date batch by batch (:class:`swarmdesign.outputs.RunOutputs`). The final refresh
        flushes the journal first, so the stamp it writes describes what is on disk. Returns best.yaml's trial.
        """
        if final:
            self.store.flush()
        trials = self.trials
        best = self._outputs.refresh(
            trials.trials(), trials.directions, recommendation=trials.recommendation(), final=final
        )
        trials.compact(self._outputs.written)  # what trials.csv holds needs no dict per trial any more
        return best


def evaluate_designs(
    designs: Sequence[Design], scenario: Scenario, *, evaluator: str = "simulated", seed: int = 0
) -> pd.DataFrame:
    """Score designs outside any run (``swarmdesign evaluate``)."""
    ev = make_evaluator(evaluator)
    return scenario.finish_metrics(ev.evaluate(list(designs), scenario, seed=seed))


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered the way Ctrl-C is so that one code path cleans up both."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a run the way Ctrl-C does: finished trials kept, resumable; a second stop is held."""
    with stop_signals(KeyboardInterrupt, Terminated):
        yield


def _default_name(space: str, out: Path) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{space}-{stamp}"
    i = 1
    while (out / name).exists():
        i += 1
        name = f"{space}-{stamp}-{i}"
    return name


def _versions() -> dict[str, str]:
    import pydantic

    return {
        "swarmdesign": __version__,
        "optuna": optuna.__version__,
        "numpy": np.__version__,
        "pandas": metadata.version("pandas"),  # not pd.__version__: a run does not import pandas
        "pydantic": pydantic.__version__,
        "python": platform.python_version(),
    }
