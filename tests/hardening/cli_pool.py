"""Run hundreds of real CLI invocations in seconds: a fork server that imported the CLI once.

Each invocation is its own process (forked from a server that has already
imported ``swarmdesign.cli`` and the heavy libraries), with its own working
directory, argv, stdout, stderr and exit status, running
``swarmdesign.cli.main()`` exactly as the console script does. Only the
~1 s of imports a fresh interpreter pays is shared, which turns the corpus
test from minutes into seconds on a two-core machine. A few cases are also
run in a fresh interpreter (``tests/conftest.run_cli``) to keep the two
honest.

Run as a script (``python cli_pool.py --serve``) it is the server: it reads
one JSON job per line on stdin until EOF, runs up to ``--jobs`` at a time,
and writes one JSON result per line on stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Imported once by the server so that forked invocations start warm; missing optional ones are skipped.
PRELOAD = (
    "swarmdesign.cli",
    "swarmdesign.runner",
    "swarmdesign.sim",
    "swarmdesign.space",
    "swarmdesign.fitness",
    "swarmdesign.export",
    "swarmdesign.importers.crewai",
    "swarmdesign.llm.evaluator",
    "swarmdesign.llm.client",
    "swarmdesign.commands._progress",
    "rich.progress",
)


#: Seconds one invocation may take before it is killed and reported as failed.
JOB_TIMEOUT_S = 120


@dataclass(frozen=True)
class Job:
    """One invocation: ``swarmdesign ARGS`` in ``cwd``, its output captured under ``io_dir``."""

    id: str
    args: tuple[str, ...]
    cwd: str
    io_dir: str


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def run_jobs(
    jobs: list[Job], *, env: dict[str, str], parallel: int | None = None, timeout: float = 900
) -> dict[str, Result]:
    """Run ``jobs`` through one fork server (one fresh interpreter each where fork is missing); results by id."""
    if not jobs:
        return {}
    if not hasattr(os, "fork"):
        return {job.id: _run_fresh(job, env) for job in jobs}
    parallel = parallel or max(2, (os.cpu_count() or 2) * 2)
    payload = "".join(json.dumps(job.__dict__) + "\n" for job in jobs)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--serve", "--jobs", str(parallel)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the CLI fork server failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = {}
    for line in proc.stdout.splitlines():
        data = json.loads(line)
        results[data["id"]] = Result(data["code"], data["stdout"], data["stderr"])
    return results


def _run_fresh(job: Job, env: dict[str, str]) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "swarmdesign.cli", *job.args],
        cwd=job.cwd,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_S,
        env=env,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


# ------------------------------------------------------------------ server side
def _child(job: dict) -> None:
    """In the forked process: become ``swarmdesign ARGS`` and never return."""
    code = 1
    try:
        os.chdir(job["cwd"])
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(os.path.join(job["io_dir"], name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        sys.argv = ["swarmdesign", *job["args"]]
        import swarmdesign.cli

        try:
            swarmdesign.cli.main()
            code = 0
        except SystemExit as exc:
            if isinstance(exc.code, int):
                code = exc.code
            elif exc.code is None:
                code = 0
            else:  # what the interpreter does with sys.exit("text")
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:  # noqa: BLE001 - an uncaught exception prints its traceback, as python would
            import traceback

            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _serve(parallel: int) -> None:
    import importlib
    import signal
    import time

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    jobs = [json.loads(line) for line in sys.stdin if line.strip()]
    running: dict[int, tuple[dict, float]] = {}
    out = sys.stdout
    pending = list(reversed(jobs))
    while pending or running:
        while pending and len(running) < parallel:
            job = pending.pop()
            out.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(job)
            running[pid] = (job, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:  # nothing finished: stop what hangs (a hang is a failure too, reported as -SIGKILL)
            for stuck, (_, started) in running.items():
                if time.monotonic() - started > JOB_TIMEOUT_S:
                    os.kill(stuck, signal.SIGKILL)
            time.sleep(0.005)
            continue
        job, _ = running.pop(pid)
        texts = []
        for name in ("stdout", "stderr"):
            path = os.path.join(job["io_dir"], name)
            texts.append(Path(path).read_text(encoding="utf-8", errors="replace") if os.path.exists(path) else "")
        result = {"id": job["id"], "code": os.waitstatus_to_exitcode(status), "stdout": texts[0], "stderr": texts[1]}
        out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    if sys.argv[1:2] != ["--serve"]:
        raise SystemExit("usage: cli_pool.py --serve [--jobs N]")
    _serve(int(sys.argv[3]) if sys.argv[2:3] == ["--jobs"] else 4)
