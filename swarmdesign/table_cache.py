"""A stamp proving that a run folder's ``trials.csv`` is in step with its study journal.

Why: opening a study journal makes Optuna replay every log line into Python
objects (each trial's line carries its ~30 distributions as JSON strings,
parsed one by one): about half a millisecond per trial, a minute for a run of
10^5 trials, and no public Optuna API skips it. ``trials.csv`` already holds
the table ``load_run`` builds from those trials (:mod:`swarmdesign.outputs`
writes it as the run goes). What the table cannot say is whether it is the
*current* state of the study: another process may have appended to the
journal since, or the file may have been edited.

So when a run's outputs are finalised, this module writes ``trials.stamp.json``
next to them: the journal's byte size and a digest of its last MiB, the CSV's
size and digest, the value kind of each column (so the CSV is read back with
the types the study gave), and the few facts ``show`` needs that the table
cannot give by itself, computed from the study by the project's one rule
(best trial, Pareto members, trials that do not count toward the budget, the
recommendation). A reader trusts the table only when every check passes;
anything else (a grown or rewritten journal, a torn or edited stamp or CSV, a
storage outside the run folder) means replaying the journal as before. The
study stays the single source of truth: the stamp is a cache that proves its
freshness, and the study itself is still opened, lazily, by whatever needs a
trial (a design, Optuna's own tools).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swarmdesign import records

if TYPE_CHECKING:
    import pandas as pd
    from optuna.trial import FrozenTrial

STAMP_NAME = "trials.stamp.json"
STAMP_FORMAT = 1
#: Bytes at the end of the journal whose digest the stamp records (with its size).
JOURNAL_TAIL = 1 << 20

#: Column kinds: every non-missing value a str, a bool, a number, a list or dict (read back with
#: ``ast.literal_eval``); "mixed" (or a str column holding "") cannot be read back faithfully.
STR, BOOL, NUM, OBJ, MIXED = "str", "bool", "num", "obj", "mixed"


def value_kind(value: Any) -> str | None:
    """The kind of one cell (None for a missing one); see the module constants."""
    kind = _KIND_OF_TYPE.get(type(value), "?")
    if kind == STR:
        return STR if value else MIXED  # "" and a missing value are the same empty cell
    if kind != "?":
        return kind
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, str):
        return STR if value else MIXED
    if isinstance(value, int | float) or hasattr(value, "item"):
        return NUM
    if isinstance(value, list | tuple | dict):
        return OBJ
    return MIXED


#: The common cell types, looked up before any isinstance check (this runs for every cell of every trial).
_KIND_OF_TYPE: dict[type, str | None] = {
    float: NUM, int: NUM, bool: BOOL, str: STR, type(None): None, list: OBJ, dict: OBJ, tuple: OBJ,
}  # fmt: skip


def columns_of(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The rows' cells column by column, columns in first-seen order; a missing cell is None (as "no kind").

    A batch's rows almost always have the same keys in the same order: then one
    transposition with ``zip`` replaces a lookup per cell.
    """
    keys = list(rows[0])
    if all(len(row) == len(keys) and list(row) == keys for row in rows):
        return dict(zip(keys, map(list, zip(*(row.values() for row in rows), strict=True)), strict=True))
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return {key: [row.get(key) for row in rows] for key in columns}


def fold_kinds(
    kinds: dict[str, str | None], rows: Iterable[dict[str, Any]], *, columns: dict[str, list[Any]] | None = None
) -> None:
    """Fold the value kinds of ``rows`` (trials.csv rows) into ``kinds`` (column -> kind).

    Column by column over the set of value types (a batch's rows share their
    columns and types), not cell by cell: a cell-by-cell pass was a large share
    of refreshing trials.csv. The result is the same: a column's kind is the
    one kind of its values, None if it only has missing ones, "mixed" if more.
    ``columns``: :func:`columns_of` of ``rows`` when the caller has it already.
    """
    if columns is None:
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return
        columns = columns_of(rows)
    for key, values in columns.items():
        seen = kinds.get(key, "")
        if seen == MIXED:
            continue
        found: set[str] = set()
        for kind_type in set(map(type, values)):
            kind = _KIND_OF_TYPE.get(kind_type, "?")
            if kind == "?":  # an unusual type: classify its values one by one
                found.update(value_kind(v) or "" for v in values if type(v) is kind_type)
            elif kind == STR:
                found.add(MIXED if "" in values else STR)
            elif kind is not None:
                found.add(kind)
        found.discard("")
        if seen not in ("", None):
            found.add(seen)
        kinds[key] = MIXED if len(found) > 1 else (found.pop() if found else None)


def topology_and_size(trial: FrozenTrial) -> tuple[str | None, float]:
    """The design's topology kind and agent count, from its params and metrics, else from its design JSON.

    Decoding every design was most of the time of loading a large study, so
    the JSON is read only for trials whose params or metrics do not say it
    (failed evaluations have no ``agents`` metric).
    """
    attrs = trial.user_attrs
    kind, n = trial.params.get("topology.kind"), attrs.get("agents")
    if (kind is None or n is None) and "design" in attrs:
        design = json.loads(attrs["design"])
        kind = design["topology"]["kind"] if kind is None else kind
        n = sum(r["count"] for r in design["roles"]) if n is None else n
    return kind, math.nan if n is None else float(n)


# ------------------------------------------------------------------ writing
def write_stamp(
    run_dir: Path,
    journal: Path,
    trials: Sequence[FrozenTrial],
    kinds: dict[str, str | None],
    *,
    best: FrozenTrial | None,
    pareto: Sequence[FrozenTrial],
    recommendation: dict[str, Any] | None,
    known_fill: dict[str, list[Any]] | None = None,
) -> None:
    """Record that ``trials.csv`` holds every trial of the study (``trials``) as the journal now stands.

    Call only when the journal holds every trial (nothing buffered) and
    ``trials.csv`` has a row for each of ``trials``. ``best``, ``pareto``
    and ``recommendation`` are :func:`swarmdesign.records.best_trial`,
    :func:`swarmdesign.records.pareto_trials` and the study's stored
    recommendation, which the caller has at hand. ``known_fill``: the
    ``fill`` of an earlier stamp of the same journal (a resume), reused
    rather than reading those trials' designs again.
    """
    from swarmdesign.storage import TRIALS_NAME, write_atomic

    remove_stamp(run_dir)  # never leave an old stamp beside files it does not describe
    csv_path = run_dir / TRIALS_NAME
    fill = {}
    known = known_fill or {}
    for t in trials:
        if t.params.get("topology.kind") is None or t.user_attrs.get("agents") is None:
            if str(t.number) in known:
                fill[str(t.number)] = known[str(t.number)]
                continue
            kind, n = topology_and_size(t)
            fill[str(t.number)] = [kind, None if math.isnan(n) else n]
    stamp = {
        "format": STAMP_FORMAT,
        "journal_bytes": journal.stat().st_size,
        "journal_tail": _tail_digest(journal, journal.stat().st_size),
        "csv_bytes": csv_path.stat().st_size,
        "csv_digest": _digest(csv_path),
        "trials": len(trials),
        "kinds": kinds,
        "fill": fill,
        "uncounted": [t.number for t in trials if not records.is_finished(t)],
        "best_trial": None if best is None else best.number,
        "pareto": [t.number for t in pareto],
        "recommendation": recommendation,
    }
    write_atomic(run_dir / STAMP_NAME, json.dumps(stamp, separators=(",", ":"), allow_nan=False))


def remove_stamp(run_dir: Path) -> None:
    (run_dir / STAMP_NAME).unlink(missing_ok=True)


def stamp_kinds(run_dir: Path, csv_size: int) -> dict[str, str | None] | None:
    """The column kinds of the stamp, if it describes a ``trials.csv`` of ``csv_size`` bytes (a resume adopts them)."""
    stamp = _read_stamp(run_dir)
    if stamp is None or stamp.get("csv_bytes") != csv_size or not isinstance(stamp.get("kinds"), dict):
        return None
    return stamp["kinds"]


# ------------------------------------------------------------------ reading
def fresh_table(run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """``trials.csv`` as :func:`swarmdesign.records.trials_frame` would build it, with the stamp's facts.

    None unless the stamp proves the CSV is the journal's current state (see the module docstring).
    """
    from swarmdesign.storage import JOURNAL_NAME, TRIALS_NAME

    stamp = _read_stamp(run_dir)
    if stamp is None:
        return None
    journal, csv_path = run_dir / JOURNAL_NAME, run_dir / TRIALS_NAME
    try:
        size = journal.stat().st_size
        if size != stamp["journal_bytes"] or _tail_digest(journal, size) != stamp["journal_tail"]:
            return None
        if csv_path.stat().st_size != stamp["csv_bytes"] or _digest(csv_path) != stamp["csv_digest"]:
            return None
        frame = _read_csv(csv_path, stamp["kinds"], stamp["trials"])
    except (OSError, KeyError, TypeError, ValueError, SyntaxError, MemoryError):
        return None
    return frame, stamp


def _read_stamp(run_dir: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((run_dir / STAMP_NAME).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("format") != STAMP_FORMAT:
        return None
    return stamp


def _read_csv(path: Path, kinds: dict[str, str | None], n: int) -> pd.DataFrame | None:
    import pandas as pd

    if any(k == MIXED for k in kinds.values()):
        return None
    if n == 0:
        return pd.DataFrame()
    strings = {c for c, k in kinds.items() if k in (STR, OBJ)}
    frame = pd.read_csv(path, dtype={c: str for c in strings}, keep_default_na=False, na_values=[""], low_memory=False)
    if list(frame.columns) != list(kinds) or len(frame) != n:
        return None
    if not (frame["trial"].to_numpy() == range(n)).all():
        return None
    for col, kind in kinds.items():
        values = frame[col]
        if kind is None:
            frame[col] = pd.Series([None] * n, index=frame.index, dtype=object)
        elif kind == OBJ:
            frame[col] = pd.Series(
                [ast.literal_eval(v) if isinstance(v, str) else math.nan for v in values],
                index=frame.index,
                dtype=object,
            )
        elif kind == BOOL and values.dtype != bool:
            frame[col] = pd.Series(
                [math.nan if pd.isna(v) else v in (True, "True") for v in values], index=frame.index, dtype=object
            )
        elif kind == STR:  # built as a frame of Python values is: pandas picks the same string dtype
            frame[col] = pd.Series(values.to_numpy(dtype=object), index=frame.index)
        elif kind == NUM and values.dtype == object:
            return None  # a number column that did not parse as numbers: not the file the stamp describes
    for col in ("generation", "particle"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    return frame


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=20)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tail_digest(path: Path, size: int) -> str:
    start = max(size - JOURNAL_TAIL, 0)
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, size - start, start)
    finally:
        os.close(fd)
    return hashlib.blake2b(data, digest_size=20).hexdigest()
