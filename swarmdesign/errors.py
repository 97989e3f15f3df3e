"""One error type for everything a user can get wrong.

Every bad input (a YAML file, a CLI option, a storage URL) ends as a
:class:`SwarmdesignError` that knows *which file*, *which field* and *what was
expected*. The CLI prints ``str(error)`` on one line and exits 2, so the
message is the whole user interface of a failure: keep it precise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class SwarmdesignError(Exception):
    """A user-facing error: ``<file>: <field.path>: <what was expected>``."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.field) if p]
        text = " ".join(self.message.split())  # one line, whatever the cause said
        return ": ".join([*parts, text]) if parts else text

    def with_file(self, file: str) -> SwarmdesignError:
        """The same error, attributed to ``file`` if it names none yet."""
        if self.file is None:
            self.file = file
            self.args = (str(self),)
        return self


class RunStopped(SwarmdesignError):
    """A run that stopped early on purpose (signal, failure share, cost cap): resumable.

    ``exit_code`` is what the CLI exits with: 130 after SIGINT, 143 after
    SIGTERM, 3 for a stop the run decided itself.
    """

    def __init__(self, message: str, *, exit_code: int = 3, **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)
        self.exit_code = exit_code


def field_path(loc: tuple[Any, ...]) -> str:
    """Render a pydantic location tuple as ``roles[2].count``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


#: A field path at the start of a validator's message: ``roles[2].name: duplicate role name``.
_PATH_HEAD = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*): ")


def choices(names: Iterable[Any], limit: int = 12) -> str:
    """``'a', 'b', 'c'`` for a message, the first ``limit`` only: a hostile file can hold thousands."""
    items = [repr(n) for n in names]
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f", ... ({more} more)" if more > 0 else "")


def from_validation_error(exc: ValidationError, *, file: str | None, prefix: tuple[Any, ...] = ()) -> SwarmdesignError:
    """Turn pydantic's multi-line report into one precise line (the first problem).

    A model validator that names the field it refuses (``"edges[1]: ..."``)
    has that path appended to the model's own location.
    """
    first = exc.errors(include_url=False)[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = first["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        head = _PATH_HEAD.match(msg)
        if head:
            field = field_path(prefix + loc)
            path = head.group(1)
            joined = path if field == "(document)" else f"{field}.{path}"
            msg = msg[head.end() :]
            more = len(exc.errors()) - 1
            if more:
                msg += f" (and {more} more problem{'s' if more > 1 else ''})"
            return SwarmdesignError(msg, file=file, field=joined)
    if first["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; see the documented fields)"
    elif first["type"] == "missing":
        msg = "required field is missing"
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return SwarmdesignError(msg, file=file, field=field_path(prefix + loc))


def check_path_name(path: Any, option: str, expected: str) -> None:
    """Refuse a path that no file system here can hold (not UTF-8, too long) before anything is created.

    Shared by every option that names a place to write (``--out``, export and import
    targets), so each gives the same one line.
    """
    import os

    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SwarmdesignError(f"not valid UTF-8 text; expected {expected}", file=text, field=option) from None
    if len(os.fsencode(text)) > 4000 or any(len(os.fsencode(part)) > 255 for part in path.parts):
        raise SwarmdesignError(f"path too long; expected {expected}", file=text, field=option)
