"""Where each trial's record sits in a run folder's own journal, found without Optuna's replay.

Why: opening a study journal makes Optuna replay every line into Python
objects, about 0.4 ms per trial (mostly parsing each trial's ~30
distributions again), so ``resume`` of a 10^5-trial run spent 40 s before
its first batch. A resume whose ``trials.csv`` is proven fresh
(:mod:`swarmdesign.table_cache`) already has every trial's table row; what
the table lacks (a trial's design JSON, its exact distributions) is in that
trial's one ``CREATE_TRIAL`` line, which this module finds by a single scan
of the file (line starts and op codes only, no JSON parsing) and reads on
demand.

The scan accepts only the shape a run folder's journal has when every
trial was recorded whole (:mod:`swarmdesign.journal_format`, or Optuna's
``add_trials``): one study, never deleted. A trial changed after its
creation (Optuna's ``ask``/``tell`` path writes a trial over several lines)
is marked, and :meth:`JournalIndex.record` refuses it so the caller falls
back to Optuna's replay.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna.distributions import BaseDistribution, json_to_distribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from swarmdesign.journal_format import CREATE_STUDY, CREATE_TRIAL

#: Op codes after which a trial's CREATE_TRIAL line no longer tells the whole trial (Optuna's journal format).
_TRIAL_UPDATES = frozenset({5, 6, 7, 8, 9})
_DELETE_STUDY = 1
_OP = re.compile(rb'\{"op_code":\s?(\d+)')
_CHUNK = 1 << 20  # read a MB at a time: a scan in the middle of a run adds no more to its peak memory


@dataclass
class JournalIndex:
    """The scan of one journal file; see the module docstring."""

    path: Path
    #: Complete log lines in the file (what Optuna's reader counts; a torn last line is not one).
    log_count: int = 0
    #: Bytes up to the end of the last complete line.
    size: int = 0
    #: The one study's id: ids count the journal's CREATE_STUDY records from 0, and the scan accepts one.
    study_id: int = 0
    study_name: str = ""
    directions: list[StudyDirection] = field(default_factory=list)
    #: Byte offset of trial ``k``'s CREATE_TRIAL line.
    offsets: list[int] = field(default_factory=list)
    #: Trials (by id = number, one study) changed by a later line.
    changed: set[int] = field(default_factory=set)

    #: CREATE_STUDY records seen (a run folder's journal has one).
    studies: int = 0

    @classmethod
    def scan(cls, path: Path) -> JournalIndex | None:
        """Index ``path``; None when it is not a single-study journal (then only Optuna's replay will do)."""
        index = cls(path)
        if not index.extend() or index.studies != 1:
            return None
        return index

    def extend(self) -> bool:
        """Index the complete lines appended since the last scan; False when one is not this study's record."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.size)
                at, tail = self.size, b""
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    data = tail + chunk
                    start = 0
                    while True:
                        end = data.find(b"\n", start)
                        if end < 0:
                            break
                        match = _OP.match(data, start, min(start + 20, end))
                        if match is None:
                            return False  # not a journal record: Optuna's replay reports the damage
                        op = int(match.group(1))
                        if op == CREATE_TRIAL:
                            self.offsets.append(at + start)
                        elif op == CREATE_STUDY:
                            log = json.loads(data[start:end])
                            self.studies += 1
                            self.study_name = str(log["study_name"])
                            self.directions = [StudyDirection(d) for d in log["directions"]]
                        elif op == _DELETE_STUDY:
                            return False
                        elif op in _TRIAL_UPDATES:
                            self.changed.add(int(json.loads(data[start:end])["trial_id"]))
                        self.log_count += 1
                        start = end + 1
                    at += start
                    tail = data[start:]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self.size = at
        return self.studies == 1

    def record(self, number: int) -> dict[str, Any] | None:
        """Trial ``number``'s CREATE_TRIAL log, if that line alone is the whole finished trial."""
        if not 0 <= number < len(self.offsets) or number in self.changed:
            return None
        start = self.offsets[number]
        end = self.offsets[number + 1] if number + 1 < len(self.offsets) else self.size
        fd = os.open(self.path, os.O_RDONLY)
        try:
            data = os.pread(fd, end - start, start)
        finally:
            os.close(fd)
        try:
            log = json.loads(data[: data.index(b"\n")])
        except ValueError:
            return None
        if not isinstance(log, dict) or not isinstance(log.get("user_attrs"), dict):
            return None  # not a trial record (an edited line): Optuna's replay reports it
        if log.get("op_code") != CREATE_TRIAL or log.get("study_id") != self.study_id or log.get("state") in (0, 4):
            return None  # RUNNING or WAITING at creation: its end is in other lines
        return log

    def distributions(self, number: int) -> dict[str, BaseDistribution] | None:
        """Trial ``number``'s distributions as recorded (None when its line cannot be read alone)."""
        log = self.record(number)
        if log is None:
            return None
        return {k: json_to_distribution(v) for k, v in log["distributions"].items()}


class TrialSource:
    """Exact user attributes and values of one trial: its journal line, else Optuna's replay (``exact``).

    Asked for a trial past the index's end (a run's own trials, appended
    since the scan), it extends the index first; a journal it cannot follow
    any more sends every later question to the replay.
    """

    def __init__(self, index: JournalIndex, exact: Callable[[int], FrozenTrial]) -> None:
        self._index: JournalIndex | None = index
        self.exact = exact

    def _record(self, number: int) -> dict[str, Any] | None:
        index = self._index
        if index is not None and number >= len(index.offsets) and not index.extend():
            self._index = index = None
        return index.record(number) if index is not None else None

    def attrs(self, number: int) -> dict[str, Any]:
        log = self._record(number)
        if log is not None:
            return dict(log["user_attrs"])
        return dict(self.exact(number).user_attrs)

    def values(self, number: int) -> list[float] | None:
        log = self._record(number)
        if log is None:
            return self.exact(number).values
        if log.get("values") is not None:
            return [float(v) for v in log["values"]]
        return None if log.get("value") is None else [float(log["value"])]
