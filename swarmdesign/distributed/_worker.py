"""The worker: claims queued trials of a driver's study, evaluates them, tells the study."""

from __future__ import annotations

import importlib
import json
import time
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from swarmdesign import records
from swarmdesign.distributed._liveness import (
    ABANDONED,
    CONFIG_ATTR,
    STATE_ATTR,
    WORKER_ATTR,
    Heartbeat,
    Log,
    given_up,
    is_database,
    open_with_heartbeat,
    quiet,
    worker_id,
)
from swarmdesign.distributed._writes import GroupedJournalBackend, set_params, set_user_attrs
from swarmdesign.errors import SwarmdesignError

#: Seconds between looks for work right after finishing some, for ``BUSY_POLL_S`` seconds.
MIN_POLL_S = 0.05
BUSY_POLL_S = 3.0

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.fitness import Scenario
    from swarmdesign.space import SearchSpace


@dataclass
class WorkerContext:
    """Everything a worker rebuilds from the study's ``swarmdesign_config``."""

    space: SearchSpace
    scenario: Scenario
    evaluator: Evaluator
    objective_names: list[str]
    seed: int
    heartbeat_s: int
    eval_timeout_s: float | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WorkerContext:
        from swarmdesign.fitness import Scenario
        from swarmdesign.space import SearchSpace

        if not isinstance(config, dict) or config.get("format") != 1:
            raise SwarmdesignError(f"the study's {CONFIG_ATTR} is not a format-1 swarmdesign worker config")
        where = f"study attr {CONFIG_ATTR}"
        return cls(
            space=SearchSpace.from_dict(config["space"], file=where),
            scenario=Scenario.from_dict(config["scenario"], file=where),
            evaluator=_make_evaluator(config["evaluator"]),
            objective_names=[o["name"] for o in config["objectives"]],
            seed=int(config["seed"]),
            heartbeat_s=int(config["heartbeat_s"]),
            eval_timeout_s=float(config["eval_timeout_s"]) if config.get("eval_timeout_s") else None,
        )


def _make_evaluator(spec: dict[str, Any]) -> Evaluator:
    """The registered evaluator of that name, else its class path (one registered only in the driver)."""
    from swarmdesign.evaluators import evaluator_names, make_evaluator

    if spec["name"] in evaluator_names():
        return make_evaluator(spec["name"], **spec["params"])
    module, _, qualname = str(spec.get("class", "")).partition(":")
    try:
        cls = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError, ValueError):
        raise SwarmdesignError(
            f"evaluator '{spec['name']}' is not available here (class {spec.get('class')!r} cannot be imported); "
            "install the package that provides it on this machine",
            field="evaluator",
        ) from None
    from swarmdesign.evaluators import Evaluator

    if not (isinstance(cls, type) and issubclass(cls, Evaluator)):
        raise SwarmdesignError(f"{spec.get('class')!r} is not an Evaluator subclass", field="evaluator")
    return cls(**spec["params"])  # type: ignore[operator]


@dataclass
class WorkerSummary:
    """What a worker did before it exited, and why it exited."""

    worker: str
    evaluated: int = 0
    failed: int = 0
    dropped: int = 0
    reason: str = ""
    trials: list[int] = field(default_factory=list)


class Worker:
    """Claims WAITING trials of one study, evaluates them, and tells the study; see the module docstring.

    Args:
        url: Storage URL or journal file path (the driver's ``--storage``).
        study_name: The run's study (its name).
        batch: WAITING trials claimed at once and evaluated in one vectorised call.
        idle_timeout_s: Exit after this many seconds with nothing to do (``None``: wait for ``done``).
        poll_s: Longest pause between looks for work while idle (shorter right after work).
        log: Where progress notes go.
    """

    def __init__(
        self,
        url: str,
        study_name: str,
        *,
        batch: int = 1,
        idle_timeout_s: float | None = None,
        poll_s: float = 1.0,
        log: Log | None = None,
    ) -> None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise SwarmdesignError(f"batch must be an integer >= 1, got {batch!r}", field="--batch")
        if idle_timeout_s is not None and idle_timeout_s < 0:
            raise SwarmdesignError(f"idle timeout must be >= 0, got {idle_timeout_s}", field="--idle-timeout")
        self.url = url
        self.study_name = study_name
        self.batch = batch
        self.idle_timeout_s = idle_timeout_s
        self.poll_s = poll_s
        self.log = log or quiet
        self.summary = WorkerSummary(worker_id())
        self._held: dict[int, FrozenTrial] = {}
        self._grouping: GroupedJournalBackend | None = None

    def _grouped(self) -> AbstractContextManager[None]:
        """Writes about trials this worker holds, in one journal append (no-op on databases)."""
        return self._grouping.grouped() if self._grouping is not None else nullcontext()

    # ---- setup
    def _open(self) -> tuple[optuna.Study, WorkerContext] | None:
        """Wait for the study and its config; ``None`` if the idle timeout passed first."""
        from swarmdesign.storage import storage_from_url

        plain = storage_from_url(self.url)
        since = time.monotonic()
        said = False
        while True:
            try:
                config = optuna.load_study(study_name=self.study_name, storage=plain).user_attrs.get(CONFIG_ATTR)
            except KeyError:
                config = None
            if config is not None:
                break
            if not said:
                self.log(f"waiting for study '{self.study_name}' and its driver")
                said = True
            if self._idle_for(since):
                return None
            time.sleep(self.poll_s)
        ctx = WorkerContext.from_config(config)
        if is_database(plain):
            storage: BaseStorage = open_with_heartbeat(self.url, ctx.heartbeat_s)
        else:
            self._grouping = GroupedJournalBackend(JournalFileBackend(self.url))
            storage = JournalStorage(self._grouping)
        sampler = optuna.samplers.RandomSampler(seed=0)  # never used: workers do not sample
        return optuna.load_study(study_name=self.study_name, storage=storage, sampler=sampler), ctx

    def _idle_for(self, since: float) -> bool:
        return self.idle_timeout_s is not None and time.monotonic() - since >= self.idle_timeout_s

    # ---- the loop
    def run(self) -> WorkerSummary:
        """Work until the driver marks the study done, the idle timeout passes, or an interrupt."""
        from swarmdesign.runner import _terminate_as_interrupt
        from swarmdesign.storage import redact

        with _terminate_as_interrupt():
            opened = self._open()
            if opened is None:
                raise SwarmdesignError(
                    f"no swarmdesign study named '{self.study_name}' appeared within {self.idle_timeout_s:g} s "
                    "(is its driver running with --driver?)",
                    field="--study",
                )
            study, ctx = opened
            self.log(f"worker {self.summary.worker} on study '{self.study_name}' in {redact(self.url)}")
            with Heartbeat(study._storage, ctx.heartbeat_s) as heartbeat:
                try:
                    self._loop(study, ctx, heartbeat)
                except BaseException:
                    self._release(study)
                    raise
        return self.summary

    def _loop(self, study: optuna.Study, ctx: WorkerContext, heartbeat: Heartbeat) -> None:
        idle_since = time.monotonic()
        pause = MIN_POLL_S
        while True:
            if study.user_attrs.get(STATE_ATTR) == "done":
                self.summary.reason = "the driver marked the study done"
                return
            claimed = self._claim(study, heartbeat)
            if claimed:
                self._evaluate(study, ctx, claimed, heartbeat)
                idle_since, pause = time.monotonic(), MIN_POLL_S
                continue
            if self._idle_for(idle_since):
                self.summary.reason = f"idle for {self.idle_timeout_s:g} s"
                return
            # Look again often for a while after work (the driver queues the next batch
            # within moments), then less and less, so that idle workers spare the database.
            time.sleep(pause)
            if time.monotonic() - idle_since > BUSY_POLL_S:
                pause = min(pause * 2, self.poll_s)

    def _claim(self, study: optuna.Study, heartbeat: Heartbeat) -> list[FrozenTrial]:
        """Up to ``batch`` WAITING trials, now RUNNING for this worker, oldest first."""
        storage = study._storage
        claimed: list[FrozenTrial] = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            if len(claimed) >= self.batch:
                break
            trial_id = t._trial_id
            if self._grouping is None:
                # Before the claim: on a database a RUNNING trial without any beat is never
                # found stale. (On a journal file its start time stands in until the first.)
                heartbeat.beat(trial_id)
            try:
                if not storage.set_trial_state_values(trial_id, TrialState.RUNNING):
                    continue  # another worker won it
            except UpdateFinishedTrialError:
                continue
            heartbeat.hold(trial_id)
            self._held[trial_id] = t
            try:
                with self._grouped():  # fail_reason is cleared on success
                    set_user_attrs(storage, trial_id, {WORKER_ATTR: self.summary.worker, "fail_reason": ABANDONED})
            except UpdateFinishedTrialError:
                self._drop(trial_id, heartbeat)
                continue
            if self._grouping is not None and self._settled(storage, trial_id).state != TrialState.RUNNING:
                self._drop(trial_id, heartbeat)
                continue
            claimed.append(t)  # params and system attrs as listed; the claim changed neither
        return claimed

    def _evaluate(
        self, study: optuna.Study, ctx: WorkerContext, claimed: list[FrozenTrial], heartbeat: Heartbeat
    ) -> None:
        from swarmdesign.runner import evaluate_safely

        storage = study._storage
        ready: list[tuple[FrozenTrial, Design]] = []
        for t in claimed:
            try:
                ready.append((t, _design_of(t, _materialise_params(storage, t, ctx.space), ctx.space)))
            except UpdateFinishedTrialError:
                self._drop(t._trial_id, heartbeat)
            except (SwarmdesignError, KeyError, ValueError) as exc:
                self._finish(study, t, None, f"bad params: {exc}".splitlines()[0][:500], 0.0, ctx, heartbeat)
        if not ready:
            return
        t0 = time.perf_counter()
        try:
            designs = [d for _, d in ready]
            rows, reasons = evaluate_safely(ctx.evaluator, designs, ctx.scenario, ctx.seed, timeout=ctx.eval_timeout_s)
        except SwarmdesignError as exc:
            # A configuration problem every worker would hit: fail these trials with
            # the reason (the driver's failure share then stops the run) and exit.
            for t, _ in ready:
                self._finish(study, t, None, str(exc)[:500], 0.0, ctx, heartbeat)
            raise
        per_design = (time.perf_counter() - t0) / len(ready)
        for (t, design), row, reason in zip(ready, rows, reasons, strict=True):
            self._finish(study, t, row, reason, per_design, ctx, heartbeat, design=design)

    def _finish(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        row: dict[str, Any] | None,
        reason: str | None,
        seconds: float,
        ctx: WorkerContext,
        heartbeat: Heartbeat,
        *,
        design: Design | None = None,
    ) -> None:
        """Record one evaluated trial: the runner's layout (metrics as attrs, the design, or a reason)."""
        storage = study._storage
        trial_id = trial._trial_id
        attrs: dict[str, Any] = {"eval_seconds": seconds}
        if design is not None:
            attrs["design"] = records.design_json(design)
        if reason is None and row is not None:
            attrs.update(records.metric_attrs(row))
            attrs["fail_reason"] = None
            values: list[float] | None = [float(row[n]) for n in ctx.objective_names]
        else:
            attrs["fail_reason"] = reason or "evaluation failed"
            values = None
        try:
            with self._grouped():
                set_user_attrs(storage, trial_id, attrs)
                # Study.tell, minus re-reading the whole trial: the values are already
                # checked (finite, one per objective) and workers have no sampler to tell.
                state = TrialState.FAIL if values is None else TrialState.COMPLETE
                storage.set_trial_state_values(trial_id, state, values)
        except UpdateFinishedTrialError:
            if self._settled(storage, trial_id).state == TrialState.RUNNING:
                raise  # not a race with the driver: a real error
            lost = True
        else:
            # A journal group lands only now: check it was not refused.
            lost = self._grouping is not None and given_up(self._settled(storage, trial_id))
        if lost:
            # The driver gave this trial up (we missed heartbeats) before our result
            # landed; a copy of the candidate is queued, so ours is dropped.
            self._drop(trial_id, heartbeat)
            self.log(f"trial {trial.number}: given up by the driver before we finished; result dropped")
            return
        heartbeat.release(trial_id)
        self._held.pop(trial_id, None)
        self.summary.evaluated += 1
        self.summary.trials.append(trial.number)
        if values is None:
            self.summary.failed += 1
        self.log(f"trial {trial.number}: " + (f"score {attrs.get('score', float('nan')):.4g}" if values else "failed"))

    @staticmethod
    def _settled(storage: BaseStorage, trial_id: int) -> FrozenTrial:
        """The trial as the storage now has it.

        Reading a journal replays what was appended; our grouped writes about a
        trial the driver had already failed are refused there, once per write
        (UpdateFinishedTrialError), so keep reading until the replay is through:
        the refusals must not surface later, in some other call.
        """
        for _ in range(100_000):  # at most one refusal per write we made
            try:
                return storage.get_trial(trial_id)
            except UpdateFinishedTrialError:
                continue
        return storage.get_trial(trial_id)

    def _drop(self, trial_id: int, heartbeat: Heartbeat) -> None:
        heartbeat.release(trial_id)
        self._held.pop(trial_id, None)
        self.summary.dropped += 1

    def _release(self, study: optuna.Study) -> None:
        """On interrupt: hand held trials back (WAITING), so another worker takes them at once."""
        storage = study._storage
        for trial_id in list(self._held):
            # Finished meanwhile, or the storage is gone: then the heartbeat covers it.
            with suppress(Exception):
                storage.set_trial_state_values(trial_id, TrialState.WAITING)
        self._held.clear()


def _design_of(trial: FrozenTrial, params: dict[str, Any], space: SearchSpace) -> Design:
    """The design the driver queued (``design`` attr), else the space's decoding of the params."""
    from swarmdesign.design import Design

    queued = trial.user_attrs.get("design")
    return Design.from_dict(json.loads(queued)) if queued else space.decode_params(params)


def _materialise_params(storage: BaseStorage, trial: FrozenTrial, space: SearchSpace) -> dict[str, Any]:
    """The trial's params; enqueued ones (``fixed_params``) are written as real params first."""
    fixed = trial.system_attrs.get("fixed_params", {})
    dists = space.distributions()
    params: dict[str, Any] = {}
    missing: dict[str, Any] = {}
    for name in dists:
        if name in trial.params:
            params[name] = trial.params[name]
        elif name in fixed:
            missing[name] = params[name] = fixed[name]
        else:
            raise KeyError(f"no value for parameter '{name}'")
    set_params(storage, trial._trial_id, missing, dists)
    return params
