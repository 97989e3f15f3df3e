"""Run folders and the Optuna storage behind them.

The Optuna study is the single source of truth of a run. By default it lives
in an append-only journal file inside the run folder (``study.journal``);
``--storage URL`` takes any Optuna storage URL instead (``sqlite:///...``,
``postgresql://...``) or the path of a shared journal file.

Why a buffered journal: Optuna's journal backend fsyncs every log line, and a
trial is tens of lines (one per parameter, per user attribute, ...). On this
kind of disk an fsync costs ~3 ms, so a plain journal spends ~80 ms per
trial. A run that owns its journal (the default, single writer) buffers the
lines of a batch in memory and appends them with *one* fsync per batch; the
file stays a valid Optuna journal that any Optuna tool reads. A kill loses at
most the batch in flight, which was not finished anyway. Shared storages
(several processes) are never buffered.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend

from swarmdesign.errors import SwarmdesignError

JOURNAL_NAME = "study.journal"
CONFIG_NAME = "config.yaml"
TRIALS_NAME = "trials.csv"
BEST_NAME = "best.yaml"
PARETO_DIR = "pareto"


class BufferedJournalBackend(BaseJournalBackend):
    """A journal file whose appends are held in memory until :meth:`flush`.

    Only for a single writer: logs appended by another process while a buffer
    is pending would interleave with ours. ``read_logs`` serves the buffered
    tail from memory, so Optuna's replay sees its own writes at once.
    """

    def __init__(self, path: str | Path) -> None:
        self._inner = JournalFileBackend(str(path))
        self._persisted = 0  # log lines known to be in the file
        self._read_once = False
        self._buffer: list[dict[str, Any]] = []

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        if not self._read_once or log_number_from < self._persisted:
            logs = list(self._inner.read_logs(log_number_from))
            self._persisted = log_number_from + len(logs) if logs else max(self._persisted, log_number_from)
            self._read_once = True
            return logs + list(self._buffer)
        return self._buffer[log_number_from - self._persisted :]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self._buffer.extend(logs)

    def flush(self) -> None:
        """Append the buffered logs with one write and one fsync.

        SIGINT and SIGTERM are held back meanwhile (delivered right after), so a
        stop can never land between taking the journal's lock and releasing it.
        """
        if self._buffer:
            with _signals_deferred():
                pending, self._buffer = self._buffer, []
                self._inner.append_logs(pending)
                self._persisted += len(pending)

    @property
    def pending(self) -> int:
        return len(self._buffer)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    stops = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    except (AttributeError, ValueError, OSError):  # no POSIX signal masks here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@dataclass
class StudyStore:
    """An open Optuna storage plus how to make its writes durable."""

    storage: BaseStorage
    url: str | None  # None = the run folder's own journal
    backend: BufferedJournalBackend | None = field(default=None, repr=False)

    def flush(self) -> None:
        if self.backend is not None:
            self.backend.flush()

    @property
    def shared(self) -> bool:
        return self.backend is None


def open_storage(run_dir: Path, url: str | None, *, buffered: bool = True, heartbeat: int | None = None) -> StudyStore:
    """Open the run's storage: its own journal by default, else ``url``."""
    if url is None:
        path = run_dir / JOURNAL_NAME
        if buffered:
            backend = BufferedJournalBackend(path)
            return StudyStore(JournalStorage(backend), None, backend)
        return StudyStore(JournalStorage(JournalFileBackend(str(path))), None)
    return StudyStore(storage_from_url(url, heartbeat=heartbeat), url)


def storage_from_url(url: str, *, heartbeat: int | None = None) -> BaseStorage:
    """Any Optuna storage URL, or a path to a (shared) journal file."""
    if "://" in url:
        scheme = url.split("://", 1)[0]
        if not scheme.startswith(("sqlite", "postgresql", "mysql")):
            raise SwarmdesignError(
                f"unsupported storage URL scheme '{scheme}'; expected sqlite:///..., postgresql://..., mysql://... "
                "or the path of a journal file",
                field="--storage",
            )
        if scheme == "postgresql":
            url = _postgresql_driver(url)
        kwargs: dict[str, Any] = {}
        if scheme.startswith("sqlite"):
            kwargs["engine_kwargs"] = {"connect_args": {"timeout": 30}}
        if heartbeat:
            kwargs["heartbeat_interval"] = heartbeat
            kwargs["grace_period"] = heartbeat * 3
        try:
            return RDBStorage(url, **kwargs)
        except Exception as exc:  # noqa: BLE001 - driver errors vary by database
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SwarmdesignError(f"cannot open storage: {first}", field="--storage") from None
    path = Path(url)
    if path.is_dir():
        raise SwarmdesignError("is a directory; expected a journal file path or a storage URL", field="--storage")
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def _postgresql_driver(url: str) -> str:
    """Pick the PostgreSQL driver that is installed.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3; use psycopg2
    (the ``postgres`` extra) if only it is here.
    """
    import importlib.util

    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def redact(url: str | None) -> str | None:
    """A storage URL without its password, for config files and logs."""
    if url is None or "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def load_study(store: StudyStore, name: str) -> optuna.Study:
    try:
        return optuna.load_study(study_name=name, storage=store.storage)
    except KeyError:
        raise SwarmdesignError(f"no study named '{name}' in the storage", field="study") from None


def new_run_dir(out: Path, name: str) -> Path:
    """Create ``out/name``; refuse to overwrite a run that already exists, or to leave ``out``."""
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\x00"):
        raise SwarmdesignError("expected a plain folder name (no '/', '\\', '.' or '..')", field="--name")
    run_dir = out / name
    if (run_dir / CONFIG_NAME).exists():
        raise SwarmdesignError(
            f"a run already exists here; continue it with 'swarmdesign resume {run_dir}' or choose another --name",
            file=str(run_dir),
        )
    if run_dir.exists() and not run_dir.is_dir():
        raise SwarmdesignError("exists and is not a directory", file=str(run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a kill never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
