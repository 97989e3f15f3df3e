"""Stop signals: the first one stops a run, later ones never cut its clean-up or exit short."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from swarmdesign.stopping import stop_signals

# After the first SIGTERM the process cleans up and exits with 143; a second SIGTERM that lands
# after the clean-up (the window between the run's last write and the interpreter's exit) used to
# meet SIGTERM's default action and kill the process with -15.
_SCRIPT = textwrap.dedent(
    """
    import atexit, os, signal, sys
    from swarmdesign.stopping import hold_stops_until_exit, stop_signals, cleanup_shield

    # Runs last of the exit hooks: what the OS will do with a signal during the interpreter's
    # finalisation, which puts Python-level handlers back to the default action (SIG_IGN stays).
    atexit.register(lambda: print("at exit:", signal.getsignal(signal.SIGTERM), file=sys.stderr))

    class Terminated(KeyboardInterrupt):
        pass

    if sys.argv[1] == "hold":
        hold_stops_until_exit()
    try:
        with stop_signals(KeyboardInterrupt, Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
    except Terminated:
        with cleanup_shield():
            os.kill(os.getpid(), signal.SIGTERM)  # during the clean-up
        os.kill(os.getpid(), signal.SIGTERM)  # after it, before the exit
        os.kill(os.getpid(), signal.SIGINT)
        sys.exit(143)
    sys.exit(1)
    """
)


def _run(mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, timeout=60)


def test_a_process_that_exits_after_a_stop_holds_every_later_stop_signal() -> None:
    done = _run("hold")
    assert done.returncode == 143, done.stderr
    assert done.stderr.count("stopping: saving the finished trials") == 1
    assert f"at exit: {int(signal.SIG_IGN)}\n" in done.stderr


def test_without_the_hold_a_late_signal_meets_the_previous_handler() -> None:
    # The library default: handlers come back after the run, so a late SIGTERM takes its usual course.
    done = _run("library")
    assert done.returncode == -signal.SIGTERM


def test_a_library_caller_gets_its_handlers_back_after_a_stop() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with stop_signals(KeyboardInterrupt, KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
    except KeyboardInterrupt:
        pass
    assert {sig: signal.getsignal(sig) for sig in before} == before
