"""A data-only format for an optimizer's saved state (``optimizer.state`` in a run folder).

Why not pickle: a run folder is input (shared, copied, downloaded), and
unpickling a file runs whatever code it names. This format is JSON in which
every value carries its type, and only plain data is read back: numbers,
strings, bytes, containers, numeric numpy arrays and scalars, and the few
classes the caller lists (rebuilt from their attributes, never by calling
code the file names). Anything else is refused when saving, so an optimizer
with state this format cannot hold simply saves none and a resume replays
the study.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np


class StateFormatError(ValueError):
    """A value the format cannot hold (saving), or a file that is not one of its documents (loading)."""


def dumps(value: Any, classes: Mapping[str, type]) -> str:
    """``value`` as a JSON document; objects must be of a class in ``classes`` (by name)."""
    names = {cls: name for name, cls in classes.items()}
    return json.dumps(_enc(value, names), separators=(",", ":"))


def loads(text: str | bytes, classes: Mapping[str, type]) -> Any:
    """The value :func:`dumps` wrote; raises :class:`StateFormatError` on anything else."""
    try:
        return _dec(json.loads(text), classes)
    except StateFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise StateFormatError(f"not an optimizer state document: {exc}") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _enc(v: Any, names: dict[type, str]) -> Any:
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int | float) and not isinstance(v, np.generic):
        return v if type(v) in (int, float) else _fail(v)
    if isinstance(v, bytes):
        return {"t": "b", "v": _b64(v)}
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "biuf":
            _fail(v)
        return {"t": "nd", "d": v.dtype.str, "s": list(v.shape), "v": _b64(np.ascontiguousarray(v).tobytes())}
    if isinstance(v, np.generic):
        if v.dtype.kind not in "biuf":
            _fail(v)
        return {"t": "np", "d": v.dtype.str, "v": v.item()}
    if isinstance(v, list | tuple):
        return {"t": "l" if isinstance(v, list) else "t", "v": [_enc(x, names) for x in v]}
    if isinstance(v, set | frozenset):
        items = list(v)
        if items and all(isinstance(x, bytes) and len(x) == len(items[0]) for x in items):
            return {"t": "bs", "n": len(items[0]), "v": _b64(b"".join(items))}  # a set of digests, compactly
        return {"t": "s", "v": [_enc(x, names) for x in items]}
    if isinstance(v, dict) and type(v) in (dict, OrderedDict):
        pairs = [[_enc(k, names), _enc(x, names)] for k, x in v.items()]
        return {"t": "od" if isinstance(v, OrderedDict) else "d", "v": pairs}
    name = names.get(type(v))
    if name is None:
        _fail(v)
    state = v.__getstate__() if "__getstate__" in _own_attrs(type(v)) else vars(v)
    return {"t": "o", "c": name, "v": _enc(dict(state), names)}


def _fail(v: Any) -> Any:
    raise StateFormatError(f"cannot save a {type(v).__module__}.{type(v).__qualname__} in an optimizer state")


def _dec(v: Any, classes: Mapping[str, type]) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if not isinstance(v, dict):
        raise StateFormatError(f"unexpected {type(v).__name__} in an optimizer state")
    tag, body = v["t"], v["v"]
    if tag == "b":
        return base64.b64decode(body, validate=True)
    if tag == "nd":
        dtype = _numeric(v["d"])
        return np.frombuffer(base64.b64decode(body, validate=True), dtype=dtype).reshape(v["s"]).copy()
    if tag == "np":
        return _numeric(v["d"]).type(body)
    if tag in ("l", "t"):
        items = [_dec(x, classes) for x in body]
        return items if tag == "l" else tuple(items)
    if tag == "bs":
        blob, n = base64.b64decode(body, validate=True), int(v["n"])
        return {blob[i : i + n] for i in range(0, len(blob), n)} if n > 0 else set()
    if tag == "s":
        return {_dec(x, classes) for x in body}
    if tag in ("d", "od"):
        pairs = [(_dec(k, classes), _dec(x, classes)) for k, x in body]
        return OrderedDict(pairs) if tag == "od" else dict(pairs)
    if tag == "o":
        cls = classes.get(v["c"])
        if cls is None:
            raise StateFormatError(f"class {v['c']!r} is not one an optimizer state may hold")
        state = _dec(body, classes)
        obj = cls.__new__(cls)
        if "__setstate__" in _own_attrs(cls):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
        return obj
    raise StateFormatError(f"unknown value tag {tag!r} in an optimizer state")


def _numeric(code: str) -> np.dtype:
    dtype = np.dtype(code)
    if dtype.kind not in "biuf":
        raise StateFormatError(f"array type {code!r} is not numeric")
    return dtype


def _own_attrs(cls: type) -> set[str]:
    """Attribute names a class or its bases define below ``object`` (a ``__setstate__`` of its own)."""
    return {name for klass in cls.__mro__ if klass is not object for name in vars(klass)}
