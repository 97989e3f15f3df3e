"""Helpers for the parallel and multi-machine tests: small runs, worker processes, a killer, the checks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from swarmdesign import records
from swarmdesign.commands._common import load_scenario, load_space
from swarmdesign.distributed import CANDIDATE_KEY
from swarmdesign.runner import RunSettings
from swarmdesign.storage import storage_from_url

REPO = Path(__file__).resolve().parents[2]
POPULATION = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(
    out: Path,
    name: str,
    *,
    storage: str | None = None,
    optimizer: str = "psoga",
    sleep_s: float = 0.0,
    budget: int = 3 * POPULATION,
    seed: int = 7,
) -> RunSettings:
    """A small run of the ``sleeping`` evaluator (the simulator's metrics, plus a sleep per design)."""
    scenario, source = load_scenario("software_project")
    params = {"population": POPULATION} if optimizer in ("psoga", "pso", "ga") else {}
    return RunSettings(
        space=load_space("software_team"),
        scenario=scenario,
        scenario_source=source,
        optimizer=optimizer,
        optimizer_params=params,
        evaluator="sleeping",
        evaluator_params={"sleep_s": sleep_s},
        budget=budget,
        seed=seed,
        batch_size=POPULATION,
        name=name,
        out=out,
        storage=storage,
    )


@dataclass
class Reference:
    """What a single-process run of the same settings found."""

    params: list[dict[str, Any]]  # every COMPLETE trial's params, sorted
    best_design: str  # the best trial's design JSON
    best_values: list[float]


def summarize(study: optuna.Study) -> Reference:
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    best = records.best_trial(study)
    assert best is not None
    return Reference(
        params=sorted((dict(t.params) for t in complete), key=repr),
        best_design=best.user_attrs["design"],
        best_values=list(best.values),
    )


def start_workers(storage: str, study: str, n: int, logs: Path, *extra: str) -> list[subprocess.Popen[bytes]]:
    """``n`` real ``swarmdesign worker`` processes, output in ``logs/worker-i.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    for i in range(n):
        log = (logs / f"worker-{i}.log").open("wb")
        cmd = [sys.executable, "-m", "swarmdesign.cli", "worker", "--storage", storage, "--study", study, *extra]
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO))
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]], timeout: float = 30) -> list[int]:
    """Wait for the workers to exit by themselves; kill stragglers. Their exit codes."""
    deadline_at = time.monotonic() + timeout
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(max(0.1, deadline_at - time.monotonic())))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging) if the block takes longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Killer(threading.Thread):
    """SIGKILLs ``victim`` once it holds a RUNNING trial numbered ``min_number`` or more (mid-batch)."""

    def __init__(self, storage: str, study: str, victim: subprocess.Popen[bytes], *, min_number: int) -> None:
        super().__init__(daemon=True)
        self.storage, self.study, self.victim, self.min_number = storage, study, victim, min_number
        self.killed_holding: int | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        study = None
        me = f"{socket.gethostname()}:{self.victim.pid}"
        while not self._halt.is_set() and self.victim.poll() is None:
            try:
                study = study or optuna.load_study(study_name=self.study, storage=storage_from_url(self.storage))
                running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            except KeyError:
                running = []
            held = [t for t in running if t.user_attrs.get("worker") == me and t.number >= self.min_number]
            if held:
                os.kill(self.victim.pid, signal.SIGKILL)
                self.killed_holding = held[0].number
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def check_distributed_study(study: optuna.Study, budget: int, ref: Reference) -> list[FrozenTrial]:
    """The checks every parallel run must pass; returns the abandoned trials."""
    trials = study.get_trials(deepcopy=False)
    assert not [t.number for t in trials if t.state in (TrialState.WAITING, TrialState.RUNNING)], "stuck trials"
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == budget
    keys = [t.system_attrs.get(CANDIDATE_KEY) for t in complete]
    if all(keys):
        assert len(set(keys)) == budget, "a candidate has more than one COMPLETE trial"
    abandoned = [t for t in trials if t.state == TrialState.FAIL]
    for t in abandoned:
        assert not records.is_finished(t), f"trial {t.number} failed for a real reason: {t.user_attrs}"
        assert t.system_attrs.get(CANDIDATE_KEY) in keys, f"abandoned trial {t.number} was never evaluated again"
    assert sorted((dict(t.params) for t in complete), key=repr) == ref.params
    best = records.best_trial(study)
    assert best is not None
    assert best.user_attrs["design"] == ref.best_design
    assert list(best.values) == ref.best_values, (best.values, ref.best_values, best.number)
    return abandoned
