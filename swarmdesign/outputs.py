"""The files a run derives from its study: ``trials.csv``, ``best.yaml``, ``pareto/``.

They are refreshed during a run (every few seconds) and at its end. Rebuilding
them from every trial each time made a refresh cost grow with the run: at
10^5 trials a refresh took seconds, and a run slowed down as it went. This
module keeps what it has already written and looks only at trials it has
not seen:

* ``trials.csv`` is appended to, one row per newly finished trial; the whole
  file is rewritten (atomically) only when a trial brings a column the file
  lacks, or when the file on disk is not the one this object wrote;
* the best trial is folded in by the one rule of
  :mod:`swarmdesign.recommend.best`; the final refresh asks that module
  directly (a stored recommendation wins);
* the Pareto front is merged with the new trials only (numpy), feasible
  designs first as in :func:`swarmdesign.records.pareto_trials`; its
  folder is rewritten at most every :data:`PARETO_EVERY_S` seconds and at
  the end.

Trials are taken in number order up to the first one still RUNNING or
WAITING, so a row is written once its trial can no longer change. The
study remains the source of truth: deleting the files and refreshing
rebuilds them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from swarmdesign import records, table_cache
from swarmdesign.jsontext import float_texts
from swarmdesign.recommend.best import best_search_trial, is_search, recommended_trial, trial_key
from swarmdesign.storage import BEST_NAME, PARETO_DIR, TRIALS_NAME, write_atomic

_SETTLED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
#: Seconds between rewrites of ``pareto/`` during a run: early on the front changes with
#: nearly every batch and each member is a YAML file; the final refresh always writes it.
PARETO_EVERY_S = 30.0
#: Trials turned into trials.csv text at once. A chunk's rows (a dict of ~100 cells each) and their
#: text are held while it is written; one refresh may have thousands of new trials (a run refreshes
#: every few seconds or :data:`swarmdesign.runner.OUTPUT_MAX_TRIALS` trials, a resume's first refresh
#: takes in whatever the table lacks), and building all their rows at once raised a 10^5-trial run's
#: peak memory by a third.
CSV_CHUNK = 2048


class RunOutputs:
    """Incremental writer of one run folder's derived files; see the module docstring."""

    def __init__(
        self,
        run_dir: Path,
        provenance: Callable[[], dict[str, Any]],
        journal: Path | None = None,
        front: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.provenance = provenance
        #: The scenario's objectives when the study searched its score (:func:`records.front_objectives`).
        self.front = list(front) if front else None
        #: The run folder's own journal: the final refresh stamps trials.csv against it (None: a shared storage).
        self.journal = journal
        self._kinds: dict[str, str | None] | None = {}  # value kind per trials.csv column (None: unknown)
        self._next = 0  # trials before this number are folded in
        self._columns: list[str] | None = None
        self._csv_size = -1  # bytes of trials.csv as this object left it
        self._best: FrozenTrial | None = None
        self._best_key: tuple[int, float, int] | None = None
        self._best_written: int | None = None
        self._fronts: dict[bool, _Front] = {}
        self._pareto_at = -math.inf
        #: The ``fill`` of the stamp a resume started from (:func:`swarmdesign.table_cache.write_stamp`).
        self.known_fill: dict[str, list[Any]] = {}

    @property
    def written(self) -> int:
        """Trials before this number are in ``trials.csv`` and folded into the best design and the front."""
        return self._next

    def refresh(
        self,
        trials: Sequence[FrozenTrial],
        directions: Sequence[StudyDirection],
        *,
        recommendation: dict[str, Any] | None = None,
        final: bool = False,
    ) -> FrozenTrial | None:
        """Fold in the trials finished since the last refresh and update the files; return best.yaml's trial.

        ``trials`` are every trial of the study in number order, ``recommendation`` the study's stored
        one (:func:`swarmdesign.recommend.best.recommendation`). The final refresh also stamps
        ``trials.csv`` (:mod:`swarmdesign.table_cache`) when it holds every trial: the caller must
        have flushed the journal first.
        """
        new: list[FrozenTrial] = []
        for t in trials[self._next :]:
            if t.state not in _SETTLED:
                break
            new.append(t)
        self._write_rows(trials, new)
        self._next += len(new)
        multi = len(directions) > 1 or self.front is not None
        for t in new:
            key = trial_key(t) if is_search(t) else None
            if key is not None and (self._best_key is None or key > self._best_key):
                self._best, self._best_key = t, key
        if multi:
            self._fold_front(directions, new)
        folded = self._next == len(trials)  # every trial is in the folded best and front
        best = self._best
        if final:  # the one rule of recommend.best: the stored recommendation, else the best search trial
            best = recommended_trial(trials, recommendation)
            if best is None:
                best = self._best if folded else best_search_trial(trials)
        if best is not None and best.number != self._best_written:
            write_atomic(self.run_dir / BEST_NAME, records.design_of(best, provenance=self.provenance()).to_yaml())
            self._best_written = best.number
        if multi and (final or (new and time.monotonic() - self._pareto_at > PARETO_EVERY_S)):
            self._write_pareto()
            self._pareto_at = time.monotonic()
        if final and self.journal is not None:
            if self._kinds is not None and self._columns is not None and folded:
                kinds = {c: self._kinds.get(c) for c in self._columns}
                table_cache.write_stamp(
                    self.run_dir,
                    self.journal,
                    trials,
                    kinds,
                    best=best,
                    pareto=self._front_members() if multi else [t for t in (self._best,) if t is not None],
                    recommendation=recommendation,
                    known_fill=self.known_fill,
                )
            else:
                table_cache.remove_stamp(self.run_dir)
        return best

    # ------------------------------------------------------------ trials.csv
    def _write_rows(self, trials: Sequence[FrozenTrial], new: list[FrozenTrial]) -> None:
        path = self.run_dir / TRIALS_NAME
        size = path.stat().st_size if path.exists() else -1
        held = self._adopt(path, size, len(new)) if self._columns is None and size > 0 else 0
        if held:  # the kinds of the adopted rows: from the stamp that describes the file, else read again
            self._kinds = table_cache.stamp_kinds(self.run_dir, size)
            if self._kinds is None:
                self._kinds = {}
                table_cache.fold_kinds(self._kinds, (records.trial_row(t) for t in trials[:held]))
        fresh = new[held:]
        if self._columns is not None and size == self._csv_size and (not fresh or self._append(path, fresh)):
            return
        # First write by this object, a new column, or a file changed by someone else: write it whole.
        self._rewrite(path, trials[: self._next + len(new)])

    def _append(self, path: Path, fresh: Sequence[FrozenTrial]) -> bool:
        """Append the rows of ``fresh``, :data:`CSV_CHUNK` at a time; False when one brings a new column.

        On False the file may hold some of the rows: the caller rewrites it whole.
        """
        assert self._columns is not None
        known = set(self._columns)
        with path.open("a", encoding="utf-8", newline="") as fh:
            for rows, cells in _chunks(fresh):
                if not known.issuperset(cells):
                    return False
                if self._kinds is not None:
                    table_cache.fold_kinds(self._kinds, rows, columns=cells)
                fh.write(_csv_text(self._columns, rows, header=False, cells=cells))
            fh.flush()
            os.fsync(fh.fileno())
        self._csv_size = path.stat().st_size
        return True

    def _rewrite(self, path: Path, done: Sequence[FrozenTrial]) -> None:
        """Write trials.csv whole (atomically), :data:`CSV_CHUNK` rows at a time.

        Two passes over the trials: the first finds the columns (in first-seen
        order) and their kinds, the second writes the text. A single chunk (a
        short run's first write) is turned into rows once.
        """
        single = list(_chunks(done)) if len(done) <= CSV_CHUNK else None
        columns: dict[str, None] = {}
        self._kinds = {}
        for rows, cells in single if single is not None else _chunks(done):
            columns.update(dict.fromkeys(cells))
            table_cache.fold_kinds(self._kinds, rows, columns=cells)
        self._columns = list(columns)
        chunks = single if single is not None else _chunks(done)
        write_atomic(
            path, (_csv_text(self._columns, rows, header=i == 0, cells=cells) for i, (rows, cells) in enumerate(chunks))
        )
        self._csv_size = path.stat().st_size

    def _adopt(self, path: Path, size: int, settled: int) -> int:
        """Continue the trials.csv a previous process wrote (a resume) instead of rewriting it.

        The file is taken as it is when it holds rows ``0 .. k-1`` of the
        ``settled`` trials (header and last row checked); those trials are not
        turned into rows again. Returns ``k`` (0: the file is rewritten).
        """
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        with path.open("rb") as fh:  # counted in chunks: a 10^5-trial file is ~100 MB
            held = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1
            fh.seek(max(size - (1 << 16), 0))
            last = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        if not header or header[0] != "trial" or not 0 < held <= settled:
            return 0
        if last.split(b",", 1)[0] != str(held - 1).encode():
            return 0
        self._columns, self._csv_size = header, size
        return held

    # ---------------------------------------------------------------- pareto
    def _fold_front(self, directions: Sequence[StudyDirection], new: list[FrozenTrial]) -> None:
        done = [t for t in new if t.state == TrialState.COMPLETE and is_search(t) and t.values is not None]
        if not done:
            return
        losses = records.front_losses(done, directions, self.front)
        feasible = np.array([bool(t.user_attrs.get("feasible", True)) for t in done])
        for only_feasible in (True, False):
            pick = np.flatnonzero(feasible) if only_feasible else np.arange(len(done))
            if pick.size:
                front = self._fronts.setdefault(only_feasible, _Front(losses.shape[1]))
                front.add(losses[pick], [done[i] for i in pick])

    def _front_members(self) -> list[FrozenTrial]:
        """The folded front: :func:`swarmdesign.records.pareto_of` of the trials folded in so far."""
        front = self._fronts.get(True) or self._fronts.get(False)
        return front.trials() if front is not None else []

    def _write_pareto(self) -> None:
        members = self._front_members()
        folder = self.run_dir / PARETO_DIR
        folder.mkdir(exist_ok=True)
        keep = set()
        for t in members:
            path = folder / f"trial-{t.number:06d}.yaml"
            keep.add(path.name)
            if not path.exists():
                write_atomic(path, records.design_of(t, provenance=self.provenance()).to_yaml())
        for stale in folder.glob("trial-*.yaml"):
            if stale.name not in keep:
                stale.unlink()


class _Front:
    """Non-dominated points (losses, minimised) with their trials, merged batch by batch.

    Ties (equal losses) keep the earlier trial, as a full recomputation in
    lexicographic order does.
    """

    def __init__(self, m: int) -> None:
        self.losses = np.empty((0, m))
        self.members: list[FrozenTrial] = []

    def add(self, losses: np.ndarray, trials: list[FrozenTrial]) -> None:
        # New points dominated by (or equal to) the current front never enter it.
        if self.members:
            le = (self.losses[None, :, :] <= losses[:, None, :]).all(axis=2)
            out = le.any(axis=1)
            losses, trials = losses[~out], [t for t, o in zip(trials, out, strict=True) if not o]
        if not trials:
            return
        pool = np.vstack([self.losses, losses])
        members = self.members + trials
        kept = records.nondominated(pool)
        kept.sort(key=lambda i: members[i].number)
        self.losses = pool[kept]
        self.members = [members[i] for i in kept]

    def trials(self) -> list[FrozenTrial]:
        return list(self.members)


def _chunks(trials: Sequence[FrozenTrial]) -> Iterator[tuple[list[dict[str, Any]], dict[str, list[Any]]]]:
    """``trials`` as trials.csv rows, :data:`CSV_CHUNK` at a time, each chunk with its columns."""
    for start in range(0, len(trials), CSV_CHUNK):
        rows = [records.trial_row(t) for t in trials[start : start + CSV_CHUNK]]
        yield rows, table_cache.columns_of(rows)


def _csv_text(
    columns: list[str], rows: list[dict[str, Any]], *, header: bool, cells: dict[str, list[Any]] | None = None
) -> str:
    """Rows as CSV in the layout ``pandas.DataFrame.to_csv(index=False)`` gives (missing and NaN = empty).

    Built column by column, as the csv module would write it: ``repr`` of a
    float, ``str`` of anything else, and a field quoted (``"`` doubled) when
    it holds a separator, a quote or a line break. Why not the csv module
    itself: it spent ~30 µs on a run's row of ~100 cells, most of it ``repr``
    of full-precision floats one by one and a quoting check on every number;
    a column of floats is formatted at once here
    (:func:`swarmdesign.jsontext.float_texts`) and numbers are never quoted.
    ``cells``: :func:`swarmdesign.table_cache.columns_of` of ``rows`` when the caller has it already.
    """
    if len(columns) < 2:  # one column: the csv module's own rules for a lone empty field
        return _csv_write(columns if header else None, [[_cell(row.get(c)) for c in columns] for row in rows])
    if cells is None:
        cells = table_cache.columns_of(rows) if rows else {}
    missing = [None] * len(rows)
    texts = [_column_text(cells.get(name, missing)) for name in columns]
    lines = [",".join(map(_field, columns))] if header else []
    lines += map(",".join, zip(*texts, strict=True))
    return "\n".join(lines) + "\n" if lines else ""


def _column_text(values: list[Any]) -> list[str]:
    """One column's fields (see :func:`_csv_text`)."""
    kinds = set(map(type, values))
    if kinds == {float}:
        return float_texts(values, nan="")
    if kinds <= {int, bool}:
        return list(map(str, values))
    if kinds == {str}:
        return list(map(_field, values))
    return [_field(_cell(v)) if v is not None else "" for v in values]


def _field(value: Any) -> str:
    """``value`` as one CSV field: ``str``, quoted when it holds ``,``, ``"`` or ``\\n``.

    A carriage return is left to the csv module (whether it quotes one depends on its version).
    """
    text = value if type(value) is str else str(value)
    if "\r" in text:
        return _csv_write(None, [[text]])[:-1]
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_write(header: list[str] | None, table: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(table)
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value
