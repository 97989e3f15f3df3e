"""The run folder's guarantees, one per test: one writer, nothing left by a failed start, recoverable creation.

Real processes and real files throughout; the crash-consistency suite
(``tests/crash``) kills whole runs, these pin down each mechanism.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from swarmdesign import runlock
from swarmdesign.errors import SwarmdesignError
from tests.conftest import run_cli
from tests.hardening.cli_pool import Job, Result, run_jobs


def _one_line(res, *needles: str) -> str:  # noqa: ANN001 - a CliResult or a cli_pool Result
    assert res.code == 2, (res.code, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def _holder(folder: Path) -> subprocess.Popen[str]:
    """Another process that takes the folder's lock and sleeps."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from swarmdesign import runlock
        runlock.pin(Path({str(folder)!r}))
        print("locked", flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_the_lock_names_a_live_holder_and_frees_at_once_when_it_is_killed(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        with pytest.raises(SwarmdesignError, match=f"PID {proc.pid}\\)"):
            runlock.acquire(tmp_path)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    lock = runlock.acquire(tmp_path)  # non-blocking: succeeds on the first try or raises
    assert runlock.held(tmp_path)
    assert (tmp_path / runlock.LOCK_NAME).read_text().split()[0] == str(os.getpid())
    lock.release()
    assert not runlock.held(tmp_path)


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    first = runlock.acquire(tmp_path)
    second = runlock.acquire(tmp_path)
    first.release()
    assert runlock.held(tmp_path)
    second.release()
    assert not runlock.held(tmp_path)


def test_run_into_a_folder_another_process_writes_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "r"
    folder.mkdir(parents=True)
    proc = _holder(folder)
    try:
        res = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--name", "r", "--quiet")
        _one_line(res, str(folder), f"PID {proc.pid}")
        assert sorted(p.name for p in folder.iterdir()) == [runlock.LOCK_NAME]
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _interrupted_creation(folder: Path, trials: int = 0) -> None:
    """What a kill between the journal's first flush and config.yaml leaves."""
    folder.mkdir(parents=True)
    storage = JournalStorage(JournalFileBackend(str(folder / "study.journal")))
    study = optuna.create_study(storage=storage, study_name=folder.name)
    for _ in range(trials):
        study.enqueue_trial({})
        study.tell(study.ask(), 1.0)


def test_an_interrupted_creation_is_named_by_resume_and_taken_over_by_the_same_run(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "r"
    _interrupted_creation(folder)
    _one_line(run_cli("resume", str(folder)), str(folder), "interrupted", "swarmdesign run")
    res = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--name", "r", "--quiet", "--no-recommend")
    assert res.code == 0, res.stderr
    assert (folder / "config.yaml").exists()
    assert run_cli("resume", str(folder), "--quiet").code == 0


def test_a_folder_whose_journal_holds_trials_is_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "r"
    _interrupted_creation(folder, trials=2)
    before = (folder / "study.journal").read_bytes()
    res = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--name", "r", "--quiet")
    _one_line(res, "2 trials", "not overwritten")
    assert (folder / "study.journal").read_bytes() == before


def test_a_failed_start_after_the_folder_was_made_leaves_nothing(tmp_path: Path) -> None:
    shared = tmp_path / "shared.journal"
    optuna.create_study(storage=JournalStorage(JournalFileBackend(str(shared))), study_name="r")
    res = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--name", "r", "--storage", str(shared))
    _one_line(res, "already holds a study named 'r'")
    assert not (tmp_path / "runs").exists()
    again = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--name", "r2", "--storage", str(shared),
                    "--quiet", "--no-recommend")  # fmt: skip
    assert again.code == 0, again.stderr


BAD_OPTIONS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("--seed", "-1"), ("--seed", ">= 0")),
    (("--seed", str(2**40)), ("--seed",)),
    (("--eval-timeout", "nan"), ("--eval-timeout", "finite")),
    (("--eval-timeout", "inf"), ("--eval-timeout", "finite")),
    (("--max-fail-share", "nan"), ("--max-fail-share",)),
    (("--max-cost", "inf"), ("--max-cost", "finite")),
    (("--heartbeat", "0"), ("--heartbeat",)),
    (("--batch-size", "1000000000"), ("--batch-size",)),
    (("--workers", "0"), ("--workers",)),
    (("--optimizer", "pso", "-p", "population=1000000000000"), ("--optimizer-param", "population")),
    (("--optimizer", "pso", "-p", "population=abc"), ("--optimizer-param", "population")),
    (("-p", "populaton=4"), ("--optimizer-param", "no parameter 'populaton'", "'population'")),
    (("-o", "tpe", "-p", "n_startup=4"), ("--optimizer-param", "no parameter 'n_startup'", "'n_startup_trials'")),
    (("--evaluator", "no.such.module:Evaluator"), ("--evaluator", "no.such.module")),
    (("--storage", "ftp://x/y"), ("--storage", "scheme")),
    (("--name", "a" * 300), ("--name", "255 bytes")),
    (("--name", "a\tb"), ("--name", "control")),
    (("--budget", "abc"), ("--budget", "integer")),
    (("--no-such-option",), ("No such option",)),
]


@pytest.fixture(scope="module")
def bad_option_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Result, Path]]:
    """Every case through one fork server (real ``swarmdesign.cli.main`` processes, imports paid once)."""
    jobs, where = [], {}
    for i, (args, _) in enumerate(BAD_OPTIONS):
        work = tmp_path_factory.mktemp(f"opt{i}")
        jobs.append(Job(str(i), ("run", "--budget", "4", "--out", "runs", "--quiet", *args), str(work), str(work)))
        where[str(i)] = work
    results = run_jobs(jobs, env=dict(os.environ))
    return {k: (results[k], where[k]) for k in where}


@pytest.mark.parametrize(("index", "needles"), [(i, n) for i, (_, n) in enumerate(BAD_OPTIONS)])
def test_bad_options_are_refused_before_the_run_folder_exists(
    index: int, needles: tuple[str, ...], bad_option_runs: dict[str, tuple[Result, Path]]
) -> None:
    result, work = bad_option_runs[str(index)]
    _one_line(result, *needles)
    assert not (work / "runs").exists()


def test_storage_that_is_not_a_journal_is_refused_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "notes.txt"
    victim.write_text("my notes\n")
    stamp = victim.stat().st_mtime_ns
    res = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--storage", str(victim))
    _one_line(res, str(victim), "not an Optuna journal")
    assert victim.read_text() == "my notes\n" and victim.stat().st_mtime_ns == stamp
    assert not (tmp_path / "runs").exists()
    sqlite = run_cli("run", "--budget", "4", "--out", str(tmp_path / "runs"), "--storage", f"sqlite:///{victim}")
    _one_line(sqlite, "--storage")
    assert victim.read_text() == "my notes\n" and not (tmp_path / "runs").exists()


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    _one_line(run_cli("run", "--out", str(tmp_path / "f")), "--out", "not a folder")
    _one_line(run_cli("run", "--out", str(tmp_path / "f" / "sub")), "--out", "is a file")


def test_unencodable_run_name_leaves_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"swarmdesign.cli", b"run", b"--out", b"runs", b"--name", b"\xff"],
        cwd=tmp_path, capture_output=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2 and b"--name" in proc.stderr and b"Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_resume_of_a_damaged_folder_names_the_file_and_never_rewrites_it(tmp_path: Path) -> None:
    assert run_cli("run", "--budget", "8", "--out", str(tmp_path), "--name", "r", "--quiet", "--no-recommend").code == 0
    folder = tmp_path / "r"
    config = folder / "config.yaml"
    original = config.read_text()
    # Missing keys.
    config.write_text(original.replace("study_name:", "studyname:"))
    edited = config.read_text()
    _one_line(run_cli("resume", str(folder)), str(config), "study_name", "missing")
    assert config.read_text() == edited
    # Another space (a role renamed: the study's parameters no longer fit).
    config.write_text(original.replace("name: planner", "name: planner2", 1))
    res = run_cli("resume", str(folder))
    assert res.code == 2 and str(config) in res.stderr and "Traceback" not in res.stderr, res.stderr
    # A misspelt optimizer parameter: the run's own file, not a command-line option.
    config.write_text(original.replace("name: psoga\n  params:\n", "name: psoga\n  params:\n    populaton: 4\n", 1))
    _one_line(run_cli("resume", str(folder)), f"{config}: optimizer:", "no parameter 'populaton'")
    assert config.read_text() != original
    config.write_text(original)
    # Garbage in the middle of the journal.
    journal = folder / "study.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join([*lines[:3], b"\x00garbage\n", *lines[3:]]))
    _one_line(run_cli("resume", str(folder)), str(journal), "line 4")
    _one_line(run_cli("show", str(folder)), str(journal), "line 4")


def test_a_second_resume_waits_for_nothing_after_the_first_was_killed(tmp_path: Path) -> None:
    """The lock lives as long as its holder: after a kill -9 the next resume starts at once."""
    assert run_cli("run", "--budget", "8", "--out", str(tmp_path), "--name", "r", "--quiet", "--no-recommend").code == 0
    proc = _holder(tmp_path / "r")
    proc.kill()
    proc.wait(timeout=30)
    t0 = time.monotonic()
    res = run_cli("resume", str(tmp_path / "r"), "--budget", "12", "--quiet")
    assert res.code == 0, res.stderr
    assert time.monotonic() - t0 < 600  # a bound on the test, not a performance assertion


@pytest.mark.parametrize(
    ("make", "kind", "needle"),
    [
        ("dir", "file", "is a directory"),
        ("file", "folder", "is a file"),
        ("file-parent", "folder", "is a file"),
        ("file-parent", "file", "is a file"),
        ("long", "folder", "too long"),
    ],
)
def test_output_targets_are_checked_before_writing(tmp_path: Path, make: str, kind: str, needle: str) -> None:
    from swarmdesign.commands._common import check_output_target

    target = {
        "dir": tmp_path,
        "file": tmp_path / "f",
        "file-parent": tmp_path / "f" / "out",
        "long": tmp_path / ("x" * 300),
    }[make]
    (tmp_path / "f").write_text("keep")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(SwarmdesignError, match=needle):
        check_output_target(target, kind=kind)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    check_output_target(tmp_path / "new" / "folder", kind=kind)  # a path that can be made is fine
    assert not (tmp_path / "new").exists()


def test_the_llm_evaluator_without_litellm_is_refused_before_the_run_folder(tmp_path: Path) -> None:
    from tests.conftest import REPO

    blocker = tmp_path / "block" / "sitecustomize.py"
    blocker.parent.mkdir()
    blocker.write_text(
        "import sys\n"
        "class _NoLitellm:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'litellm' or name.startswith('litellm.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NoLitellm())\n"
    )
    env = {"PYTHONPATH": f"{blocker.parent}:{REPO}"}
    res = run_cli("run", "-e", "llm", "--budget", "4", "--out", str(tmp_path / "runs"), env=env)
    _one_line(res, "--evaluator", "litellm")
    assert not (tmp_path / "runs").exists()
