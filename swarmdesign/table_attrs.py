"""A trial's user attributes as a view on its row of columns, not a dict of its own.

Why: a resume rebuilds every trial of the study from its table
(:mod:`swarmdesign.table_trials`), and a run holds every trial it wrote
(:mod:`swarmdesign.run_trials`). As dicts, 10^5 trials of ~60 metrics
each cost ~1.4 s to build and ~3 KB per trial to hold (the dict's table and
one float object per cell), a third of a resume's memory. Nearly every
reader asks a few keys of many trials (the score, the objectives, the
generation) or every key of a few trials (the recommended design), so each
cell is kept once, in its column (a numpy array where pandas read one), and
a trial's attributes read their row when asked. Iterating them builds a
plain dict for the caller, which keeps nothing.

The attributes the columns leave out (:data:`JOURNAL_ONLY`: ``trials.csv``
has none of them; a run's compacted trials lack only the design) are read
from the trial's own journal line the first time one is asked for; from
then on that trial holds its whole record. The view is a mutable mapping,
not a ``dict``: a serialiser handed one by mistake fails loudly (``json``
and ``orjson`` would write a dict subclass's empty table as ``{}``), and
every copy (``copy``, ``deepcopy``, ``pickle``) is a plain dict of every
attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Bookkeeping user attributes that ``trials.csv`` leaves out (:data:`swarmdesign.records.BOOKKEEPING`).
JOURNAL_ONLY = frozenset({"design", "eval_seconds", "seed_design"})

_ABSENT: Any = object()
#: Column dtypes whose cells ``ndarray.item`` turns into the Python values ``Series.tolist`` gives.
_NUMPY_KINDS = frozenset({"float64", "int64", "bool"})


class AttrSource(Protocol):
    """Where a trial's whole record of user attributes is read (its journal line, else Optuna's replay)."""

    def attrs(self, number: int) -> dict[str, Any]: ...


class AttrColumns:
    """User-attribute columns, each cell held once (:meth:`of_frame` for a table, :meth:`of_dicts` for trials).

    A row's present cells, in their order, are known by its pattern, so its
    keys cost no test per cell.
    """

    __slots__ = ("_cells", "_first", "_keys", "_pattern")

    def __init__(
        self,
        cells: dict[str, tuple[Callable[[int], Any], bytes | None]],
        keys: list[tuple[str, ...]],
        pattern: list[int] | None,
        first: int = 0,
    ) -> None:
        self._cells = cells  # name -> (cell i of the column, present flags or None when every row has it)
        self._keys = keys  # each pattern's present columns, in order
        self._pattern = pattern  # each row's pattern (None: one pattern for every row)
        self._first = first  # the trial number of the first row

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, names: list[str], present: Mapping[str, np.ndarray]) -> AttrColumns:
        """Columns ``names`` of a table; ``present``: each column's non-missing cells."""
        n = len(frame)
        cells = {c: (_getter(frame[c]), None if present[c].all() else present[c].tobytes()) for c in names}
        return cls._patterned(cells, names, present, n)

    @classmethod
    def _patterned(
        cls,
        cells: dict[str, tuple[Callable[[int], Any], bytes | None]],
        names: Sequence[str],
        present: Mapping[str, np.ndarray],
        n: int,
        strip: str = "",
    ) -> AttrColumns:
        """Columns ``cells`` of table columns ``names`` (less ``strip``), each row's keys from its present cells."""
        mask = np.column_stack([present[c] for c in names]) if names else np.ones((n, 0), dtype=bool)
        patterns, inverse = presence_patterns(mask)
        keys = [tuple(names[j][len(strip) :] for j in np.flatnonzero(p).tolist()) for p in patterns]
        return cls(cells, keys, None if len(patterns) <= 1 else inverse.tolist())

    @classmethod
    def of_dicts(
        cls, rows: Sequence[Mapping[str, Any]], *, first: int, leave_out: frozenset[str] = frozenset()
    ) -> AttrColumns:
        """The dicts ``rows`` of trials ``first``, ``first + 1``, ... (each key's order kept), but ``leave_out``.

        Rows with the same keys in the same order (nearly all of a run's) are
        read together, every cell of a row in one ``itemgetter`` call, and
        turned into columns by one ``zip``: a loop per cell cost 30 us a trial.
        """
        n = len(rows)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, row in enumerate(rows):
            groups.setdefault(tuple(row), []).append(i)
        parts: dict[str, list[tuple[list[int], tuple[Any, ...]]]] = {}
        keys: list[tuple[str, ...]] = []
        pattern = [0] * n
        for p, (names, idx) in enumerate(groups.items()):
            kept = tuple(k for k in names if k not in leave_out)
            keys.append(kept)
            for i in idx:
                pattern[i] = p
            if not kept:
                continue
            table = list(map(itemgetter(*kept), [rows[i] for i in idx]))
            for name, column in zip(kept, zip(*table, strict=True) if len(kept) > 1 else [tuple(table)], strict=True):
                parts.setdefault(name, []).append((idx, column))
        cells = {name: _assembled(cuts, n) for name, cuts in parts.items()}
        return cls(cells, keys, None if len(keys) <= 1 else pattern, first)

    @classmethod
    def of_lists(
        cls,
        names: Sequence[str],
        data: Mapping[str, Sequence[Any]],
        present: Mapping[str, np.ndarray],
        n: int,
        *,
        strip: str = "",
    ) -> AttrColumns:
        """Columns ``data[name]`` of ``n`` rows (Python values; a cell where ``present`` is False is never read).

        For values already cast one column at a time (a resume's parameters,
        :mod:`swarmdesign.table_trials`), which pandas' own dtypes may not keep
        (an integer column with a gap reads as floats). Each column is known by
        its name less the prefix ``strip`` (``param.``).
        """
        cells: dict[str, tuple[Callable[[int], Any], bytes | None]] = {}
        for name in names:
            have = present[name]
            whole = bool(have.all())
            values = data[name]
            if whole:
                cells[name[len(strip) :]] = _assembled([(range(n), tuple(values))], n)
            else:
                rows = np.flatnonzero(have).tolist()
                cells[name[len(strip) :]] = _assembled([(rows, tuple(values[i] for i in rows))], n)
        return cls._patterned(cells, names, present, n, strip)

    def cell(self, number: int, key: str) -> Any:  # noqa: ANN401 - any attribute value
        """Trial ``number``'s cell of ``key``, or ``_ABSENT`` when its row has none."""
        entry = self._cells.get(key)
        if entry is None:
            return _ABSENT
        get, present = entry
        i = number - self._first
        if present is not None and not present[i]:
            return _ABSENT
        return get(i)

    def keys(self, number: int) -> tuple[str, ...]:
        if not self._keys:
            return ()
        return self._keys[0 if self._pattern is None else self._pattern[number - self._first]]

    def row(self, number: int) -> dict[str, Any]:
        """Trial ``number``'s present cells as a new dict, in their order."""
        cells, i = self._cells, number - self._first
        return {k: cells[k][0](i) for k in self.keys(number)}


class JournalAttrs(MutableMapping[str, Any]):
    """One trial's user attributes, rebuilt from the table or compacted by its run (see the module docstring).

    Reads look in what was set on the trial since (or its whole journal
    record, once read), then in its row, then, for :data:`JOURNAL_ONLY` keys,
    in its journal line. Iteration and ``len`` cover the row and what was set
    since, as the row of a dict rebuilt from the table would.
    """

    __slots__ = ("_number", "_own", "_row", "_source")

    def __init__(self, row: AttrColumns | None, number: int, source: AttrSource | None) -> None:
        self._row = row
        self._number = number
        self._source = source
        self._own: dict[str, Any] | None = None

    # ------------------------------------------------------------ reads
    def _find(self, key: str) -> Any:  # noqa: ANN401
        own = self._own
        if own is not None and key in own:
            return own[key]
        if self._row is not None:
            value = self._row.cell(self._number, key)
            if value is not _ABSENT:
                return value
        if key in JOURNAL_ONLY and self._source is not None:
            self._load()
            assert self._own is not None
            return self._own.get(key, _ABSENT)
        return _ABSENT

    def __getitem__(self, key: str) -> Any:  # noqa: ANN401
        value = self._find(key)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ANN401
        value = self._find(key)
        return default if value is _ABSENT else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not _ABSENT

    def _whole(self) -> dict[str, Any]:
        """Every attribute this view holds now, as a new plain dict."""
        out = self._row.row(self._number) if self._row is not None else {}
        if self._own:
            out.update(self._own)
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def keys(self) -> Any:  # noqa: ANN401 - a plain dict's view
        return self._whole().keys()

    def items(self) -> Any:  # noqa: ANN401
        return self._whole().items()

    def values(self) -> Any:  # noqa: ANN401
        return self._whole().values()

    def copy(self) -> dict[str, Any]:
        return self._whole()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JournalAttrs):
            return self._whole() == other._whole()
        if isinstance(other, Mapping):
            return self._whole() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] - mutable, as a dict

    def __repr__(self) -> str:
        return repr(self._whole())

    def __reduce__(self) -> tuple[Any, ...]:  # copies (copy, deepcopy, pickle) are plain dicts of every attribute
        self._load()
        return (dict, (self._whole(),))

    # ------------------------------------------------------------ writes
    def _load(self) -> None:
        """Take the trial's whole record from its journal line (once); what was set since still wins."""
        source, self._source = self._source, None
        if source is None:
            return
        whole = dict(source.attrs(self._number))
        if self._own:
            whole.update(self._own)
        self._own, self._row = whole, None

    def _materialise(self) -> dict[str, Any]:
        if self._row is not None:
            self._own = self._whole()
            self._row = None
        elif self._own is None:
            self._own = {}
        return self._own

    def __setitem__(self, key: str, value: Any) -> None:  # noqa: ANN401
        if self._own is None:
            self._own = {}
        self._own[key] = value

    def __delitem__(self, key: str) -> None:
        if key in JOURNAL_ONLY:
            self._load()
        del self._materialise()[key]


class RowView(Mapping[str, Any]):
    """One trial's parameters as a read-only view on its row of columns (:meth:`AttrColumns.of_dicts`).

    Why: a trial's parameter dict (~15 entries) was the largest thing a long
    run held per trial once its attributes were columns (~0.8 KB of ~3.6 KB).
    A trial's parameters are never changed after it is recorded; readers ask
    a few keys (``topology.kind``) or all of them (a design's decode, a
    duplicate check on resume). Equality with any mapping is a dict's, and
    every copy (``dict``, ``copy``, ``deepcopy``, ``pickle``) is a plain dict.
    """

    __slots__ = ("_columns", "_number")

    def __init__(self, columns: AttrColumns, number: int) -> None:
        self._columns = columns
        self._number = number

    def __getitem__(self, key: str) -> Any:  # noqa: ANN401 - any parameter value
        value = self._columns.cell(self._number, key)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ANN401
        value = self._columns.cell(self._number, key)
        return default if value is _ABSENT else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._columns.cell(self._number, key) is not _ABSENT

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.keys(self._number))

    def __len__(self) -> int:
        return len(self._columns.keys(self._number))

    def copy(self) -> dict[str, Any]:
        return self._columns.row(self._number)

    def keys(self) -> Any:  # noqa: ANN401 - a plain dict's view, built once for all its cells
        return self.copy().keys()

    def items(self) -> Any:  # noqa: ANN401
        return self.copy().items()

    def values(self) -> Any:  # noqa: ANN401
        return self.copy().values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.copy() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment] - equal to a dict, which has none

    def __repr__(self) -> str:
        return repr(self.copy())

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self.copy(),))


def presence_patterns(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean ``(n, k)`` mask and each row's index among them.

    Only the columns with a missing cell tell rows apart; up to 64 of them are
    packed into one integer per row (``np.unique`` over whole rows sorts them
    as byte strings, seconds for 10^5 rows).
    """
    gaps = np.flatnonzero(~mask.all(axis=0))
    if gaps.size == 0:
        return mask[:1], np.zeros(len(mask), dtype=np.intp)
    if gaps.size > 64:
        patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
        return patterns, inverse.reshape(-1)
    bits = np.left_shift(np.uint64(1), np.arange(gaps.size, dtype=np.uint64))
    codes = (mask[:, gaps].astype(np.uint64) * bits).sum(axis=1, dtype=np.uint64)
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return mask[first], inverse.reshape(-1)


def _assembled(parts: list[tuple[Sequence[int], tuple[Any, ...]]], n: int) -> tuple[Callable[[int], Any], bytes | None]:
    """One column of ``n`` rows from its cells in ``parts`` (rows, values): cell ``i`` and which rows have one.

    A numpy array when every cell is a float (or every one an int, or a bool),
    whose ``item`` gives the same value back; otherwise a list.
    """
    covered = sum(len(idx) for idx, _ in parts)
    whole = len(parts) == 1 and covered == n
    present: bytes | None = None
    if covered != n:
        mask = np.zeros(n, dtype=bool)
        for idx, _ in parts:
            mask[idx] = True
        present = mask.tobytes()
    kinds = set().union(*(set(map(type, values)) for _, values in parts))
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind in (float, int, bool):
        try:
            if whole:
                return np.array(parts[0][1], dtype=kind).item, present
            array = np.zeros(n, dtype=kind)
            for idx, values in parts:
                array[idx] = np.array(values, dtype=kind)
            return array.item, present
        except OverflowError:  # an int beyond 64 bits stays a Python int
            pass
    if whole:
        return list(parts[0][1]).__getitem__, present
    cells: list[Any] = [None] * n
    for idx, values in parts:
        for i, v in zip(idx, values, strict=True):
            cells[i] = v
    return cells.__getitem__, present


def _getter(series: pd.Series) -> Callable[[int], Any]:
    """Cell ``i`` of a column as ``Series.tolist`` would give it (pandas' missing integers: None).

    Numeric and boolean columns stay numpy arrays (8 bytes a cell, not a float
    object each); ``ndarray.item`` returns the same Python value ``tolist`` does.
    """
    dtype = str(series.dtype)
    if dtype in _NUMPY_KINDS:
        return series.to_numpy().item
    if dtype == "Int64":  # missing cells are absent by the row's pattern; the filler is never read
        return series.to_numpy(dtype="int64", na_value=0).item
    return series.tolist().__getitem__
