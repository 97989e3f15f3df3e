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


def test_what_is_not_a_regular_file_is_refused_without_reading(tmp_path) -> None:  # noqa: ANN001
    import os

    from swarmdesign.errors import SwarmdesignError

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would block forever
    for path, needle in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"), (tmp_path, "directory")):
        with pytest.raises(SwarmdesignError, match=needle) as err:
            yamlio.load_file(path)
        assert str(path) in str(err.value)


def test_size_is_capped_before_reading(tmp_path) -> None:  # noqa: ANN001
    from swarmdesign.errors import SwarmdesignError

    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(yamlio.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SwarmdesignError, match="larger than"):
        yamlio.load_file(big)
    assert yamlio.read_bytes_capped(big, yamlio.MAX_FILE_BYTES + 1) == b"\0" * (yamlio.MAX_FILE_BYTES + 1)


def test_an_unreadable_file_is_one_line(tmp_path) -> None:  # noqa: ANN001
    import os

    from swarmdesign.errors import SwarmdesignError

    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    locked = tmp_path / "locked.yaml"
    locked.write_text("a: 1\n")
    locked.chmod(0)
    with pytest.raises(SwarmdesignError, match="cannot read"):
        yamlio.load_file(locked)


def test_validate_refuses_a_fifo_on_one_line(tmp_path) -> None:  # noqa: ANN001
    import os

    from tests.conftest import run_cli

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    res = run_cli("validate", str(fifo), timeout=120)
    expected = f"error: {fifo}: is not a regular file (a pipe, socket or device); expected a file"
    assert res.code == 2 and res.stderr.strip() == expected
