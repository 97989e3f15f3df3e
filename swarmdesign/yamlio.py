"""Safe YAML in and canonical YAML out.

Input YAML is hand-written or comes from other people's files, so loading is
defensive: only ``yaml.safe_load`` semantics (no Python tags), UTF-8 only, a
size cap, a cap on the *expanded* size of the document so that an alias
bomb ("billion laughs") is refused before anything walks it, a cap on the
nesting depth, and no recursive aliases, duplicate keys, over-long integers
or non-finite numbers. Every failure is a :class:`SwarmdesignError` naming
the file and, where YAML knows it, the line or the field.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from swarmdesign.errors import SwarmdesignError

#: libyaml's safe loader when PyYAML was built with it (10x faster), else the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumperBase = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_FILE_BYTES = 5_000_000
MAX_EXPANDED_NODES = 200_000
#: Deepest nesting accepted (this project's documents nest about six levels deep).
MAX_DEPTH = 64
#: Longest integer literal accepted; Python refuses to convert more than 4300 digits anyway.
MAX_INT_DIGITS = 100

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _check_nesting(text: str, file: str) -> None:
    """Refuse deep nesting from the event stream, before a node tree is built.

    libyaml's composer recurses in C: a few tens of thousands of ``[`` crash
    the interpreter (no Python exception), so depth is counted on the flat
    event stream first.
    """
    loader = _SafeLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _COLLECTION_START):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark is not None else "?"
                    raise SwarmdesignError(
                        f"nesting deeper than {MAX_DEPTH} levels at line {line}; expected a plain document",
                        file=file,
                        field="(document)",
                    )
            elif isinstance(event, _COLLECTION_END):
                depth -= 1
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):  # PyYAML >= 6.0.4 stops deep documents itself (past ~1000 levels)
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else "?"
            raise SwarmdesignError(
                f"nesting deeper than {MAX_DEPTH} levels at line {line}; expected a plain document",
                file=file,
                field="(document)",
            ) from None
        raise SwarmdesignError(_yaml_problem(exc), file=file, field="(syntax)") from None
    finally:
        loader.dispose()


class _NodeCheck:
    """One walk over the composed nodes, before anything is constructed.

    Counts the size of the document once aliases are expanded (alias bombs)
    and its depth through aliases, and refuses recursive aliases, duplicate
    keys (YAML would silently keep the last) and integer literals too long to
    convert. Each node is walked once (memoised), so the walk is linear in
    the size of the file whatever the aliases multiply.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.memo: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self.active: set[int] = set()

    def fail(self, message: str, path: str) -> SwarmdesignError:
        return SwarmdesignError(message, file=self.file, field=path or "(document)")

    def walk(self, node: yaml.Node, path: str = "", depth: int = 0) -> int:
        """Expanded size of ``node`` (capped at MAX_EXPANDED_NODES + 1)."""
        key = id(node)
        if key in self.memo:
            size, height = self.memo[key]
            if depth + height > MAX_DEPTH:
                raise self.fail(f"nesting deeper than {MAX_DEPTH} levels once aliases are expanded", path)
            return size
        if key in self.active:
            raise self.fail(f"recursive alias (line {node.start_mark.line + 1}); expected a plain document", path)
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels once aliases are expanded", path)
        self.active.add(key)
        size, height = 1, 0
        if isinstance(node, yaml.SequenceNode):
            for i, child in enumerate(node.value):
                size += self.walk(child, f"{path}[{i}]", depth + 1)
                height = max(height, 1 + self.memo[id(child)][1])
        elif isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else "?"
                child_path = f"{path}.{name}" if path else str(name)
                if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG:
                    if (k.tag, k.value) in seen:
                        raise self.fail(
                            f"duplicate key (line {k.start_mark.line + 1}); expected each key at most once", child_path
                        )
                    seen.add((k.tag, k.value))
                size += self.walk(k, child_path, depth + 1) + self.walk(v, child_path, depth + 1)
                height = max(height, 1 + self.memo[id(k)][1], 1 + self.memo[id(v)][1])
        elif node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
            raise self.fail(
                f"a number of {len(node.value)} characters (line {node.start_mark.line + 1}); "
                f"expected at most {MAX_INT_DIGITS} digits",
                path,
            )
        self.active.discard(key)
        self.memo[key] = (min(size, MAX_EXPANDED_NODES + 1), height)
        return self.memo[key][0]


def _reject_non_finite(value: Any, file: str, path: str = "") -> None:
    """NaN and infinities are never meaningful in this project's documents."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SwarmdesignError(f"expected a finite number, got {value}", file=file, field=path or "(document)")
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_non_finite(v, file, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_non_finite(v, file, f"{path}[{i}]")


def loads(text: str, *, file: str = "<string>") -> Any:
    """Parse YAML text safely; see the module docstring for what is refused."""
    _check_nesting(text, file)
    loader = _SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise SwarmdesignError(_yaml_problem(exc), file=file, field="(syntax)") from None
        if node is None:
            raise SwarmdesignError("the file is empty; expected a YAML mapping", file=file, field="(document)")
        if _NodeCheck(file).walk(node) > MAX_EXPANDED_NODES:
            raise SwarmdesignError(
                f"document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?); expected a plain document",
                file=file,
                field="(document)",
            )
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise SwarmdesignError(_yaml_problem(exc), file=file, field="(syntax)") from None
        except RecursionError:
            raise SwarmdesignError("document nests too deeply", file=file, field="(document)") from None
        except ValueError as exc:  # a scalar its constructor cannot convert
            raise SwarmdesignError(f"invalid value: {exc}", file=file, field="(document)") from None
    finally:
        loader.dispose()
    _reject_non_finite(data, file)
    return data


def load_file(path: str | Path) -> Any:
    """Read and safely parse a YAML file (UTF-8, size-capped)."""
    name = str(path)
    raw = read_bytes_capped(path, MAX_FILE_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SwarmdesignError(
            f"not valid UTF-8 (byte {exc.start}); expected a UTF-8 text file", file=name, field="(document)"
        ) from None
    return loads(text, file=name)


def read_bytes_capped(path: str | Path, limit: int, *, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or one-line errors for everything else.

    Refused before reading: what is not a regular file (a FIFO would block
    forever, ``/dev/zero`` never ends), and a file whose size is over the
    cap. The read itself is capped too (a file can grow meanwhile), and an
    unreadable file or an I/O error names the file instead of a traceback.
    """
    import os
    import stat

    name = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SwarmdesignError(f"{what} not found", file=name) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise SwarmdesignError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", file=name) from None
    if stat.S_ISDIR(info.st_mode):
        raise SwarmdesignError(f"is a directory; expected a {what}", file=name)
    if not stat.S_ISREG(info.st_mode):
        raise SwarmdesignError(f"is not a regular file (a pipe, socket or device); expected a {what}", file=name)
    if info.st_size > limit:
        raise SwarmdesignError(f"file is larger than {limit} bytes", file=name, field="(document)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
                raise SwarmdesignError(f"is not a regular file; expected a {what}", file=name)
            chunks, total = [], 0
            while total <= limit:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SwarmdesignError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if total > limit:
        raise SwarmdesignError(f"file is larger than {limit} bytes", file=name, field="(document)")
    return b"".join(chunks)


class _CanonicalDumper(_SafeDumperBase):  # type: ignore[misc,valid-type]
    """Safe dumper that writes multi-line strings as literal blocks (readable prompts)."""


def _represent_str(dumper: Any, value: str) -> yaml.ScalarNode:
    if (
        "\n" in value
        and value == value.rstrip()
        and "\r" not in value
        and all(ch == "\n" or ch == "\t" or ch >= " " for ch in value)
        and not any(line != line.rstrip() for line in value.split("\n"))
    ):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_CanonicalDumper.add_representer(str, _represent_str)


def dumps(data: Any) -> str:
    """Canonical YAML: block style, keys in the order given, Unicode kept, prompts as literal blocks."""
    return yaml.dump(
        data, Dumper=_CanonicalDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if "could not determine a constructor" in str(exc):
        problem = "tag not allowed (only plain YAML; Python object tags are refused)"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"invalid YAML{where}: {problem}"
