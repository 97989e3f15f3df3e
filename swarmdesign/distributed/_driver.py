"""The driver: owns the optimizer, queues each batch in the study, waits for the workers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from swarmdesign import records
from swarmdesign.distributed._liveness import (
    ABANDONED,
    CANDIDATE_KEY,
    CONFIG_ATTR,
    DEFAULT_HEARTBEAT_S,
    GRACE_BEATS,
    HEARTBEAT_KEY,
    MAX_ATTEMPTS,
    STATE_ATTR,
    WORKER_ATTR,
    Log,
    fail_stale_trials,
    is_database,
    open_with_heartbeat,
    quiet,
)
from swarmdesign.distributed._writes import set_user_attrs
from swarmdesign.errors import SwarmdesignError
from swarmdesign.optimizers import Outcome, Proposal

if TYPE_CHECKING:
    from swarmdesign.runner import Run


def worker_config(run: Run, heartbeat_s: int) -> dict[str, Any]:
    """What a worker needs to evaluate this run's trials (stored in the study)."""
    c = run.config
    cls = type(run.evaluator)
    return {
        "format": 1,
        "run": c["name"],
        "space": c["space"]["spec"],
        "scenario": c["scenario"]["spec"],
        "evaluator": {
            "name": c["evaluator"]["name"],
            "params": c["evaluator"]["params"],
            "class": f"{cls.__module__}:{cls.__qualname__}",
        },
        "objectives": c["objectives"],
        "seed": int(c["seed"]),
        "eval_timeout_s": c.get("eval_timeout_s"),
        "heartbeat_s": int(heartbeat_s),
    }


class Driver:
    """A :data:`~swarmdesign.runner.BatchExecutor` that lets ``swarmdesign worker`` processes evaluate.

    Use as a context manager around :meth:`Run.execute`: entering publishes
    the run's config in the study; leaving without an error marks the study
    ``done`` so the workers exit (an interrupted driver leaves it running, so
    ``swarmdesign resume --driver`` continues with the same workers).

    Args:
        run: An open run whose storage other processes reach (a URL or a journal path).
        heartbeat_s: Seconds between the workers' heartbeats; silence for
            ``3 * heartbeat_s`` gives a trial up.
        poll_s: Seconds between looks at the study while a batch is out.
        log: Where progress notes go (worker deaths, waiting for workers).
    """

    def __init__(
        self, run: Run, *, heartbeat_s: int = DEFAULT_HEARTBEAT_S, poll_s: float = 0.1, log: Log | None = None
    ) -> None:
        if not run.store.shared or run.store.url is None:
            raise SwarmdesignError(
                "driver mode needs a storage that workers can reach: --storage postgresql://... "
                "(or the path of a journal file on a shared disk)",
                field="--storage",
            )
        if isinstance(heartbeat_s, bool) or not isinstance(heartbeat_s, int) or heartbeat_s < 1:
            raise SwarmdesignError(f"heartbeat must be a whole number of seconds >= 1, got {heartbeat_s!r}")
        self.run = run
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.log = log or quiet
        self.requeued = 0
        self._heartbeat_study: optuna.Study | None = None

    def __enter__(self) -> Driver:
        study = self.run.study
        if is_database(self.run.store.storage):
            # A second handle with the heartbeat settings, used only to find stale
            # trials: the run's own handle stays heartbeat-free, as Study.ask expects.
            hb_storage = open_with_heartbeat(self.run.store.url, self.heartbeat_s)  # type: ignore[arg-type]
            self._heartbeat_study = optuna.load_study(study_name=study.study_name, storage=hb_storage)
        study.set_user_attr(CONFIG_ATTR, worker_config(self.run, self.heartbeat_s))
        study.set_user_attr(STATE_ATTR, "running")
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.run.study.set_user_attr(STATE_ATTR, "done")

    @property
    def grace_s(self) -> float:
        return float(self.heartbeat_s * GRACE_BEATS)

    def __call__(self, run: Run, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
        """Queue the batch, wait until every candidate has a finished trial, return their outcomes."""
        keys = self._enqueue(run, proposals)
        finished = self._wait(run.study, keys)
        outcomes = [_outcome_of(finished[k]) for k in keys]
        return outcomes, sum(o.values is None for o in outcomes)

    # ---- queueing
    def _enqueue(self, run: Run, proposals: Sequence[Proposal]) -> list[str]:
        study = run.study
        storage = study._storage
        token = uuid.uuid4().hex[:12]
        in_flight = _in_flight_by_slot(study)
        dists = run.space.distributions()
        database = is_database(storage)
        keys = []
        for i, p in enumerate(proposals):
            key = f"{token}-{i}"
            # What the runner would record, plus the design the optimizer means: the
            # worker evaluates that (an optimizer may add text the params do not hold).
            attrs = {k: v for k, v in p.attrs.items() if not k.startswith("_")}
            attrs["design"] = records.design_json(run.optimizer.decode(p))
            if p.trial is not None:
                trial_id = p.trial._trial_id
                set_user_attrs(storage, trial_id, attrs)
                storage.set_trial_system_attr(trial_id, CANDIDATE_KEY, key)
                storage.set_trial_state_values(trial_id, TrialState.WAITING)
                # The trial now belongs to whichever worker claims it: if this driver is
                # interrupted, the runner must not fail it under that worker's feet.
                p.trial = None
            elif (slot := _slot(p.attrs)) is not None and slot in in_flight:
                # Left in the study by a driver that stopped (resume): adopt, don't duplicate.
                held = in_flight.pop(slot)
                key = held.system_attrs.get(CANDIDATE_KEY) or key
                if CANDIDATE_KEY not in held.system_attrs:
                    storage.set_trial_system_attr(held._trial_id, CANDIDATE_KEY, key)
            else:
                # Study.enqueue_trial plus the candidate key. On a journal the params go in
                # too (the same single line); a database writes them one by one, so there
                # the worker that claims the trial writes them, in one statement.
                study.add_trial(
                    optuna.trial.create_trial(
                        state=TrialState.WAITING,
                        params=None if database else dict(p.params),
                        distributions=None if database else dists,
                        system_attrs={"fixed_params": dict(p.params), CANDIDATE_KEY: key},
                        user_attrs=attrs,
                    )
                )
            keys.append(key)
        return keys

    def _wait(self, study: optuna.Study, keys: list[str]) -> dict[str, FrozenTrial]:
        wanted = set(keys)
        last_stale_check = time.monotonic()
        started = time.monotonic()
        hinted = False
        while True:
            by_key: dict[str, list[FrozenTrial]] = {}
            for t in study.get_trials(deepcopy=False):
                key = t.system_attrs.get(CANDIDATE_KEY)
                if key in wanted:
                    by_key.setdefault(key, []).append(t)
            done: dict[str, FrozenTrial] = {}
            for key in keys:
                trials = by_key.get(key, [])
                finished = [t for t in trials if records.is_finished(t)]
                if finished:
                    done[key] = min(finished, key=lambda t: t.number)
                elif trials and not any(t.state in (TrialState.WAITING, TrialState.RUNNING) for t in trials):
                    self._requeue(study, max(trials, key=lambda t: t.number))
            if len(done) == len(keys):
                return done
            if time.monotonic() - last_stale_check >= min(1.0, self.heartbeat_s / 2):
                fail_stale_trials(study, self._heartbeat_study, self.grace_s)
                last_stale_check = time.monotonic()
            if not hinted and time.monotonic() - started > 10 and not _any_running(by_key):
                self.log(
                    f"waiting for workers: {len(keys) - len(done)} candidates queued in study "
                    f"'{study.study_name}' (start: swarmdesign worker --storage URL --study {study.study_name})"
                )
                hinted = True
            time.sleep(self.poll_s)

    def _requeue(self, study: optuna.Study, dead: FrozenTrial) -> None:
        """Queue a copy of a candidate whose worker died (RetryFailedTrialCallback's layout)."""
        system = {"failed_trial": dead.number, "retry_history": [], **dead.system_attrs}
        system.pop(HEARTBEAT_KEY, None)
        system["retry_history"] = [*system["retry_history"], dead.number]
        user = {k: v for k, v in dead.user_attrs.items() if k not in ("fail_reason", WORKER_ATTR)}
        self.requeued += 1
        if len(system["retry_history"]) >= MAX_ATTEMPTS:
            # Its workers keep dying on it (out of memory?): record it as failed, not again.
            user["fail_reason"] = f"{ABANDONED} {MAX_ATTEMPTS} times: every worker evaluating it died"
            state = TrialState.FAIL
            self.log(f"trial {dead.number}: worker died again; recording the candidate as failed")
        else:
            state = TrialState.WAITING
            self.log(f"trial {dead.number}: its worker stopped (no heartbeat); candidate queued again")
        study.add_trial(
            optuna.trial.create_trial(
                state=state,
                params=dead.params or None,
                distributions=dead.distributions or None,
                user_attrs=user,
                system_attrs=system,
            )
        )


def _slot(attrs: dict[str, Any]) -> tuple[Any, ...] | None:
    """A population candidate's identity (generation, particle), if it has one."""
    if attrs.get("generation") is None or attrs.get("particle") is None:
        return None
    return (attrs.get("optimizer"), int(attrs["generation"]), int(attrs["particle"]))


def _in_flight_by_slot(study: optuna.Study) -> dict[tuple[Any, ...], FrozenTrial]:
    out: dict[tuple[Any, ...], FrozenTrial] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING)):
        slot = _slot(t.user_attrs)
        if slot is not None:
            out.setdefault(slot, t)
    return out


def _any_running(by_key: dict[str, list[FrozenTrial]]) -> bool:
    return any(t.state == TrialState.RUNNING or t.state.is_finished() for ts in by_key.values() for t in ts)


def _outcome_of(trial: FrozenTrial) -> Outcome:
    from swarmdesign.optimizers.base import outcome_of  # the one reading of a trial (violation included)

    return outcome_of(trial)
