from __future__ import annotations

from pathlib import Path

import pytest

from swarmdesign import yamlio
from swarmdesign.errors import SwarmdesignError


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    with pytest.raises(SwarmdesignError, match="alias bomb"):
        yamlio.loads("\n".join(lines), file="bomb.yaml")


def test_python_tags_are_refused() -> None:
    with pytest.raises(SwarmdesignError, match="tag not allowed"):
        yamlio.loads("x: !!python/object/apply:os.system ['true']", file="evil.yaml")


def test_syntax_errors_give_the_line(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(SwarmdesignError) as err:
        yamlio.load_file(p)
    assert str(p) in str(err.value) and "line" in str(err.value)


def test_non_utf8_and_missing_files(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(SwarmdesignError, match="UTF-8"):
        yamlio.load_file(p)
    with pytest.raises(SwarmdesignError, match="not found"):
        yamlio.load_file(tmp_path / "nope.yaml")


def test_non_finite_numbers_name_their_path() -> None:
    with pytest.raises(SwarmdesignError) as err:
        yamlio.loads("a: {b: [1, .inf]}", file="f.yaml")
    assert err.value.field == "a.b[1]"
