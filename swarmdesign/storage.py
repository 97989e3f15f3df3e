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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend

from swarmdesign import runlock
from swarmdesign.errors import SwarmdesignError, check_path_name
from swarmdesign.journal import BufferedJournalBackend, check_journal_path, journal_problem

JOURNAL_NAME = "study.journal"
CONFIG_NAME = "config.yaml"
TRIALS_NAME = "trials.csv"
BEST_NAME = "best.yaml"
#: The optimizer's state after the run's last batch: a resume that matches the study skips the replay.
OPTIMIZER_STATE_NAME = "optimizer.state"
PARETO_DIR = "pareto"


class StudyStore:
    """An Optuna storage plus how to make its writes durable.

    The storage may be opened on first use (``opener``): on a run folder's
    own journal, opening it replays every line, which a resume from a fresh
    ``trials.csv`` avoids (:mod:`swarmdesign.table_trials`).
    """

    def __init__(
        self,
        storage: BaseStorage | Callable[[], BaseStorage],
        url: str | None,  # None = the run folder's own journal
        backend: BufferedJournalBackend | None = None,
    ) -> None:
        self._storage = storage if isinstance(storage, BaseStorage) else None
        self._opener = None if isinstance(storage, BaseStorage) else storage
        self.url = url
        self.backend = backend

    @property
    def storage(self) -> BaseStorage:
        if self._storage is None:
            assert self._opener is not None
            self._storage = self._opener()
        return self._storage

    def flush(self, *, durable: bool = True) -> None:
        """Write buffered journal records; ``durable=False``: fsync at most once a second (a search's batches)."""
        if self.backend is not None:
            self.backend.flush(durable=durable)

    @property
    def shared(self) -> bool:
        return self.backend is None


def open_storage(
    run_dir: Path,
    url: str | None,
    *,
    buffered: bool = True,
    heartbeat: int | None = None,
    known_logs: int | None = None,
) -> StudyStore:
    """Open the run's storage: its own journal by default, else ``url``.

    ``known_logs``: the number of log lines the run's own journal holds (a
    :class:`~swarmdesign.journal_index.JournalIndex` scan); the journal is
    then replayed only when the storage is first used.
    """
    if url is None:
        path = run_dir / JOURNAL_NAME
        if path.exists() and not path.is_file():
            raise SwarmdesignError("is not a regular file; expected the run's study journal", file=str(path))
        backend: BaseJournalBackend = BufferedJournalBackend(path) if buffered else JournalFileBackend(str(path))

        def replay() -> BaseStorage:
            try:
                return JournalStorage(backend)
            except Exception:  # noqa: BLE001 - Optuna's replay raises whatever the damaged line provokes
                raise SwarmdesignError(journal_problem(path), file=str(path)) from None

        if isinstance(backend, BufferedJournalBackend):
            if known_logs is not None:
                backend.adopt(known_logs)
                return StudyStore(replay, None, backend)
            return StudyStore(replay(), None, backend)
        return StudyStore(replay(), None)
    return StudyStore(storage_from_url(url, heartbeat=heartbeat), url)


def check_storage_url(url: str) -> None:
    """Refuse a ``--storage`` value before anything is created: nothing is written, a file is never touched.

    A URL is opened once (and its schema created on a fresh database, as any
    first use would); a journal path must be absent, empty or an Optuna journal.
    """
    if url.startswith("sqlite:///"):
        _check_sqlite_file(Path(url[len("sqlite:///") :].split("?", 1)[0]))
    if "://" in url:
        storage_from_url(url)
        return
    check_journal_path(Path(url))


def _check_sqlite_file(path: Path) -> None:
    """An existing file behind ``sqlite:///`` must be a SQLite database: refuse anything else unopened."""
    try:
        if path.exists():
            if not path.is_file():
                raise SwarmdesignError(
                    "is not a regular file; expected a SQLite database", file=str(path), field="--storage"
                )
            with open(path, "rb") as f:
                head = f.read(16)
            if head and head != b"SQLite format 3\x00":
                raise SwarmdesignError(
                    "is not a SQLite database; refusing to open it as one", file=str(path), field="--storage"
                )
    except OSError as exc:
        raise SwarmdesignError(
            f"cannot use this path: {exc.strerror or exc}", file=str(path), field="--storage"
        ) from None


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
        if scheme.startswith("postgresql"):
            url = _postgresql_driver(url)
        kwargs: dict[str, Any] = {}
        if scheme.startswith("sqlite"):
            kwargs["engine_kwargs"] = {"connect_args": {"timeout": 30}}
        if heartbeat:
            kwargs["heartbeat_interval"] = heartbeat
            kwargs["grace_period"] = heartbeat * 3
        try:
            if scheme.startswith("postgresql"):
                with _schema_lock(url):
                    return RDBStorage(url, **kwargs)
            return RDBStorage(url, **kwargs)
        except SwarmdesignError:
            raise
        except Exception as exc:  # noqa: BLE001 - driver errors vary by database
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SwarmdesignError(f"cannot open storage: {first}", field="--storage") from None
    path = Path(url)
    check_journal_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise SwarmdesignError(
            f"cannot use this path: {exc.strerror or exc}", file=str(path), field="--storage"
        ) from None


#: Key of the PostgreSQL advisory lock under which a process creates (or checks) Optuna's schema.
SCHEMA_LOCK_KEY = 0x5357_4D44  # "SWMD"


@contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """Serialise Optuna's schema creation across processes starting at once on one PostgreSQL database.

    ``RDBStorage`` creates its tables (and their row types) when it opens a
    database; two processes doing that at the same moment on a fresh
    database collide (``UniqueViolation ... pg_type_typname_nsp_index``).
    Holding a session-level advisory lock around the opening makes the
    second process wait until the first has created the schema, then find
    it there. The lock is the server's, so it works across machines; it is
    released when the connection closes, even if this process dies.
    """
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


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


#: Run folders this process created, and the topmost folder it had to create for each (for clean-up on failure).
_CREATED: dict[Path, Path] = {}


def check_run_name(name: str, option: str = "--name") -> None:
    """A run name usable as one folder name on any common filesystem."""
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\x00"):
        raise SwarmdesignError("expected a plain folder name (no '/', '\\', '.' or '..')", field=option)
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise SwarmdesignError("not valid UTF-8 text; expected a printable folder name", field=option) from None
    if len(encoded) > 255:
        raise SwarmdesignError(f"{len(encoded)} bytes long; expected a folder name of at most 255 bytes", field=option)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise SwarmdesignError("holds control characters; expected a printable folder name", field=option)


def check_out_dir(out: Path, option: str = "--out") -> None:
    """``--out`` must be (or become) a folder: refuse a file, an unencodable or over-long path, before creating it."""
    check_path_name(out, option, "a folder path")
    text = str(out)
    try:
        ancestor = out
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if ancestor.exists() and not ancestor.is_dir():
            where = "" if ancestor == out else f" ('{ancestor}' is a file)"
            raise SwarmdesignError(
                f"is not a folder{where}; expected a folder that holds run folders", file=text, field=option
            )
    except OSError as exc:
        raise SwarmdesignError(f"cannot use this folder: {exc.strerror or exc}", file=text, field=option) from None


def new_run_dir(out: Path, name: str) -> Path:
    """Create ``out/name`` and become its writer; refuse to overwrite a run that exists, or to leave ``out``.

    A folder without ``config.yaml`` whose lock is free is what a creation
    killed half-way leaves (a journal holding a study and no trial yet): it
    is taken over, its journal started afresh. One whose journal holds trials
    is refused, never overwritten.
    """
    check_run_name(name)
    check_out_dir(out)
    run_dir = out / name
    if (run_dir / CONFIG_NAME).exists():
        raise _exists(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise SwarmdesignError("exists and is not a directory", file=str(run_dir))
    top = run_dir
    while not top.parent.exists() and top.parent != top.parent.parent:
        top = top.parent
    made = not top.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SwarmdesignError(f"cannot create the run folder: {exc.strerror or exc}", file=str(run_dir)) from None
    try:
        runlock.pin(run_dir)
        if (run_dir / CONFIG_NAME).exists():  # another process finished creating it meanwhile
            raise _exists(run_dir)
        _take_over_interrupted(run_dir)
    except BaseException:
        runlock.unpin(run_dir)
        if made:
            _remove_created(run_dir, top)
        raise
    if made:
        _CREATED[run_dir] = top
    return run_dir


def _exists(run_dir: Path) -> SwarmdesignError:
    return SwarmdesignError(
        f"a run already exists here; continue it with 'swarmdesign resume {run_dir}' or choose another --name",
        file=str(run_dir),
    )


def _take_over_interrupted(run_dir: Path) -> None:
    journal = run_dir / JOURNAL_NAME
    if not journal.exists():
        return
    if not journal.is_file():
        raise SwarmdesignError("is not a regular file; expected a study journal or nothing", file=str(journal))
    trials = sum(
        s.n_trials for s in optuna.get_all_study_summaries(open_storage(run_dir, None, buffered=False).storage)
    )
    if trials:
        raise SwarmdesignError(
            f"holds a study journal with {trials} trials but no {CONFIG_NAME}; not overwritten, choose another --name",
            file=str(run_dir),
        )
    journal.unlink()  # a creation killed before config.yaml: nothing was evaluated


def discard_unfinished(run_dir: Path | None = None) -> None:
    """Remove run folders this process created whose creation did not finish (no ``config.yaml``).

    A failed start (a bad option found late, a storage refusing the study)
    must leave nothing behind, so the same command can simply be run again.
    """
    for made, top in list(_CREATED.items()):
        if run_dir is not None and made != run_dir:
            continue
        del _CREATED[made]
        if not (made / CONFIG_NAME).exists():
            runlock.unpin(made)
            _remove_created(made, top)


def creation_finished(run_dir: Path) -> None:
    """The run folder holds its config.yaml: it is the user's now, never removed on a later failure."""
    _CREATED.pop(run_dir, None)


def _remove_created(run_dir: Path, top: Path) -> None:
    for name in (JOURNAL_NAME, runlock.LOCK_NAME):
        with suppress(OSError):
            (run_dir / name).unlink(missing_ok=True)
    folder = run_dir
    while True:
        try:
            folder.rmdir()  # only empty folders: anything else in them is not ours
        except OSError:
            return
        if folder == top:
            return
        folder = folder.parent


def write_atomic(path: Path, text: str | bytes | Iterable[str]) -> None:
    """Write via a temporary file and rename, so a kill never leaves half a file; a failure leaves no temp file.

    ``text`` may be an iterable of pieces, written one after the other (a large file need not be held whole).
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if isinstance(text, bytes):
            tmp.write_bytes(text)
        elif isinstance(text, str):
            tmp.write_text(text, encoding="utf-8")
        else:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                fh.writelines(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SwarmdesignError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
