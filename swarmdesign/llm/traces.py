"""Trace files: one JSON object per line, appended as evaluations finish.

Record types share a file (``type`` field): ``task`` (one design on one
task: every step's messages, answer, tokens, cost, latency, verdict),
``design`` (the design itself and its metrics for the batch) and ``call``
(the dollars of one paid call, written the moment it returns, for the cost
cap of a resumed run). Calibration and
confirmation read them back with :func:`read_traces`. Writers pass every text
through the client's redaction, so no credential reaches the run folder.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from swarmdesign.errors import SwarmdesignError

TRACE_FILE = "llm_traces.jsonl"


class TraceWriter:
    """Appends records to ``<directory>/llm_traces.jsonl``; thread-safe, flushed per record."""

    def __init__(self, directory: str | Path, redact: Any = None) -> None:
        self.path = Path(directory) / TRACE_FILE
        self._redact = redact
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str)
        if self._redact is not None:
            line = self._redact(line)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def trace_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand run folders to their trace files; plain files are taken as they are."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob(TRACE_FILE))
            if not found:
                raise SwarmdesignError(f"no {TRACE_FILE} under this folder", file=str(p))
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise SwarmdesignError("no such trace file or run folder", file=str(p))
    return out


def read_traces(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """Every record of the given trace files or run folders; a torn last line is skipped."""
    for path in trace_files(paths):
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    if fh.read(1):  # only the very last line may be torn (killed mid-write)
                        raise SwarmdesignError("invalid JSON line", file=str(path), field=f"line {lineno}") from None


def spent_in(directory: str | Path) -> float:
    """Dollars already spent by the runs traced in ``directory`` (for the cap after a resume).

    Every call that cost money has a ``call`` record, written as the call
    returns (a task killed half-way still counts its finished calls); task
    records that say ``spend_in_calls`` are already covered by them. Older
    traces count their ``task`` and ``spend`` records.
    """
    path = Path(directory) / TRACE_FILE
    if not path.is_file():
        return 0.0
    total = 0.0
    for r in read_traces([path]):
        kind = r.get("type")
        if kind == "call" or kind == "spend" or (kind == "task" and not r.get("spend_in_calls")):
            total += float(r.get("spent_usd", 0.0))
    return total
