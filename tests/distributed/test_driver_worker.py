"""The driver and worker logic in one process (workers in threads) on a shared journal file: fast.

The real multi-process runs, PostgreSQL and SIGKILL are in
``test_distributed_processes.py`` (marked slow).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import optuna
import pandas as pd
import pytest
from dist_helpers import POPULATION, Reference, check_distributed_study, deadline, settings
from optuna.trial import TrialState

from swarmdesign.distributed import CANDIDATE_KEY, CONFIG_ATTR, STATE_ATTR, Driver, Worker
from swarmdesign.errors import SwarmdesignError
from swarmdesign.evaluators import Evaluator, evaluator_names, register_evaluator
from swarmdesign.parallel import ProcessPoolBatchExecutor, batch_executor, split_evenly
from swarmdesign.runner import Run
from swarmdesign.storage import storage_from_url


def shared_run(tmp_path: Path, name: str = "shared", **kw: Any) -> tuple[Run, str]:
    storage = str(tmp_path / "shared" / "study.journal")
    return Run.create(settings(tmp_path / "runs", name, storage=storage, **kw)), storage


class WorkerThread(threading.Thread):
    def __init__(self, storage: str, study: str, **kw: Any) -> None:
        super().__init__(daemon=True)
        self.worker = Worker(storage, study, idle_timeout_s=kw.pop("idle_timeout_s", 30), poll_s=0.05, **kw)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.worker.run()
        except BaseException as exc:
            self.error = exc


# ------------------------------------------------------------------ local pool
def test_split_evenly_keeps_order_and_balance() -> None:
    assert split_evenly(10, 3) == [range(0, 4), range(4, 7), range(7, 10)]
    assert split_evenly(2, 4) == [range(0, 1), range(1, 2)]
    assert split_evenly(0, 2) == []


def test_batch_executor_choices(tmp_path: Path) -> None:
    run = Run.create(settings(tmp_path, "own"))
    with batch_executor(run) as ex:
        assert ex is None
    with pytest.raises(SwarmdesignError, match="--workers"), batch_executor(run, workers=0):
        pass
    with pytest.raises(SwarmdesignError, match="workers can reach"), batch_executor(run, driver=True):
        pass
    with pytest.raises(SwarmdesignError, match="does not combine"), batch_executor(run, workers=2, driver=True):
        pass


def test_costly_evaluators_are_never_forked(tmp_path: Path) -> None:
    run = Run.create(settings(tmp_path, "costly", budget=POPULATION))
    run.evaluator.costly = True  # type: ignore[misc] - as the llm evaluator declares it
    with ProcessPoolBatchExecutor(2) as pool:
        summary = run.execute(batch_executor=pool)
        assert pool.worker_pids == [] and pool._pool is None
    assert summary.finished == POPULATION


# ------------------------------------------------------------------ driver + workers
def test_driver_and_worker_threads_find_what_one_process_finds(
    tmp_path: Path, reference: Callable[[str], Reference]
) -> None:
    run, storage = shared_run(tmp_path)
    workers = [WorkerThread(storage, "shared"), WorkerThread(storage, "shared", batch=3)]
    with deadline(60), Driver(run, heartbeat_s=1, poll_s=0.02) as driver:
        for w in workers:
            w.start()
        summary = run.execute(batch_executor=driver)
    for w in workers:
        w.join(10)
        assert w.error is None and w.worker.summary.reason == "the driver marked the study done"
    assert summary.finished == 3 * POPULATION
    assert sum(w.worker.summary.evaluated for w in workers) == 3 * POPULATION
    check_distributed_study(run.study, summary.budget, reference("psoga"))
    # The runner's trial layout, plus who evaluated it.
    t = run.study.get_trials(states=(TrialState.COMPLETE,))[0]
    assert t.user_attrs["fail_reason"] is None and t.user_attrs["worker"].count(":") == 1
    assert {"design", "eval_seconds", "score", "quality", "generation", "particle"} <= set(t.user_attrs)
    assert set(t.params) == set(run.space.distributions()) and t.system_attrs[CANDIDATE_KEY]
    # The run folder's derived files are written as usual.
    frame = pd.read_csv(run.run_dir / "trials.csv")
    assert len(frame) == 3 * POPULATION and (run.run_dir / "best.yaml").exists()


def test_a_silent_worker_costs_one_reevaluation(tmp_path: Path, reference: Callable[[str], Reference]) -> None:
    """A worker that claims a trial and dies (never beats) has it failed as abandoned and queued again."""
    run, storage = shared_run(tmp_path)
    zombie_trial: list[int] = []

    def zombie_then_worker() -> None:
        st = storage_from_url(storage)
        study = optuna.load_study(study_name="shared", storage=st)
        while not (waiting := study.get_trials(deepcopy=False, states=(TrialState.WAITING,))):
            time.sleep(0.02)
        t = waiting[0]
        assert st.set_trial_state_values(t._trial_id, TrialState.RUNNING)
        st.set_trial_user_attr(t._trial_id, "worker", "zombie:1")
        zombie_trial.append(t.number)
        real.start()

    real = WorkerThread(storage, "shared")
    zombie = threading.Thread(target=zombie_then_worker, daemon=True)
    notes: list[str] = []
    with deadline(60), Driver(run, heartbeat_s=1, poll_s=0.02, log=notes.append) as driver:
        zombie.start()
        summary = run.execute(batch_executor=driver)
    real.join(10)
    assert real.error is None
    abandoned = check_distributed_study(run.study, summary.budget, reference("psoga"))
    assert [t.number for t in abandoned] == zombie_trial
    assert abandoned[0].user_attrs["fail_reason"] == "abandoned"
    retry = [t for t in run.study.trials if t.system_attrs.get("failed_trial") == zombie_trial[0]]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].user_attrs["particle"] == abandoned[0].user_attrs["particle"]
    assert driver.requeued == 1 and any("queued again" in n for n in notes)


def test_a_candidate_whose_workers_keep_dying_is_recorded_failed(tmp_path: Path) -> None:
    run, _ = shared_run(tmp_path, optimizer="random")
    with Driver(run) as driver:
        dead = optuna.trial.create_trial(
            state=TrialState.FAIL,
            params={},
            distributions={},
            user_attrs={"fail_reason": "abandoned", "worker": "h:1"},
            system_attrs={CANDIDATE_KEY: "k-0", "failed_trial": 0, "retry_history": [0, 1]},
        )
        run.study.add_trial(dead)
        third = run.study.trials[-1]
        driver._requeue(run.study, third)
    last = run.study.trials[-1]
    assert last.state == TrialState.FAIL and "3 times" in last.user_attrs["fail_reason"]
    assert last.system_attrs["retry_history"] == [0, 1, third.number] and "worker" not in last.user_attrs


def test_a_restarted_driver_adopts_the_queued_generation(tmp_path: Path, reference: Callable[[str], Reference]) -> None:
    """A driver stopped after queuing a generation: on resume the queued trials are reused, not duplicated."""
    run, storage = shared_run(tmp_path)
    with Driver(run) as driver:
        driver._enqueue(run, run.optimizer.ask(run.study, POPULATION))
    assert run.study.user_attrs[STATE_ATTR] == "done"  # left cleanly here; a crash would leave "running"
    resumed = Run.open(run.run_dir, storage=storage)
    worker = WorkerThread(storage, "shared")
    with deadline(60), Driver(resumed, heartbeat_s=1, poll_s=0.02) as driver:
        worker.start()
        summary = resumed.execute(batch_executor=driver)
    worker.join(10)
    assert len(resumed.study.trials) == summary.budget == 3 * POPULATION
    check_distributed_study(resumed.study, summary.budget, reference("psoga"))


# ------------------------------------------------------------------ worker
class _Interrupting(Evaluator):
    name: ClassVar[str] = "interrupting"

    def evaluate(self, designs: Any, scenario: Any, *, seed: int) -> pd.DataFrame:
        raise KeyboardInterrupt


def test_an_interrupted_worker_hands_its_trials_back(tmp_path: Path) -> None:
    if "interrupting" not in evaluator_names():
        register_evaluator("interrupting", _Interrupting)
    run, storage = shared_run(tmp_path, optimizer="random")
    run.evaluator = _Interrupting()
    run.config["evaluator"] = {"name": "interrupting", "params": {}}
    with Driver(run) as driver:
        proposals = run.optimizer.ask(run.study, 2)
        driver._enqueue(run, proposals)
        with pytest.raises(KeyboardInterrupt):
            Worker(storage, "shared", batch=2, idle_timeout_s=5).run()
    states = [t.state for t in run.study.get_trials(deepcopy=False)]
    assert states == [TrialState.WAITING, TrialState.WAITING]


def test_worker_exits_when_the_study_is_done_or_idle(tmp_path: Path) -> None:
    run, storage = shared_run(tmp_path)
    with Driver(run):
        summary = Worker(storage, "shared", idle_timeout_s=0.2, poll_s=0.05).run()
        assert summary.reason == "idle for 0.2 s" and summary.evaluated == 0
        assert run.study.user_attrs[CONFIG_ATTR]["evaluator"]["class"] == "swarmdesign.testing.sleepy:SleepingEvaluator"
    summary = Worker(storage, "shared").run()  # no timeout needed: the driver is done
    assert summary.reason == "the driver marked the study done"


def test_worker_gives_up_on_a_study_that_never_appears(tmp_path: Path) -> None:
    with pytest.raises(SwarmdesignError, match="no swarmdesign study named 'nope'"):
        Worker(str(tmp_path / "x.journal"), "nope", idle_timeout_s=0.2, poll_s=0.05).run()


def test_worker_cli_errors_are_one_line(tmp_path: Path, cli: Any) -> None:
    r = cli("worker", "--storage", "redis://localhost", "--study", "s")
    assert r.code == 2 and r.stderr.strip().count("\n") == 0 and "unsupported storage URL scheme" in r.stderr
    r = cli("worker", "--storage", str(tmp_path / "j.journal"), "--study", "nope", "--idle-timeout", "0.3")
    assert r.code == 2 and "error: --study: no swarmdesign study named 'nope'" in r.stderr
    assert "Traceback" not in r.stderr
