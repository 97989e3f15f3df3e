"""Safe YAML in and canonical YAML out.

Input YAML is hand-written or comes from other people's files, so loading is
defensive: only ``yaml.safe_load`` semantics (no Python tags), UTF-8 only, a
size cap, and a cap on the *expanded* size of the document so that an alias
bomb ("billion laughs") is refused before anything walks it. Every failure is
a :class:`SwarmdesignError` naming the file and, where YAML knows it, the line.
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


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of nodes the document has once aliases are expanded (memoised per node)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # guards against recursive aliases while we walk
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = min(size, MAX_EXPANDED_NODES + 1)
    return memo[key]


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
    loader = _SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise SwarmdesignError(_yaml_problem(exc), file=file, field="(syntax)") from None
        if node is None:
            raise SwarmdesignError("the file is empty; expected a YAML mapping", file=file, field="(document)")
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
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
    finally:
        loader.dispose()
    _reject_non_finite(data, file)
    return data


def load_file(path: str | Path) -> Any:
    """Read and safely parse a YAML file (UTF-8, size-capped)."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise SwarmdesignError("file not found", file=name)
    if p.is_dir():
        raise SwarmdesignError("is a directory; expected a YAML file", file=name)
    raw = p.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise SwarmdesignError(f"file is larger than {MAX_FILE_BYTES} bytes", file=name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SwarmdesignError(f"not valid UTF-8 (byte {exc.start}); expected a UTF-8 text file", file=name) from None
    return loads(text, file=name)


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
