"""Find bundled YAML files by bare name (``software_team``) or by path.

The bundled folders live at the top of the source tree (``search_spaces/``,
``fitness/``) and are copied into the wheel under ``swarmdesign/_bundled/``,
so a bare name works both from an editable checkout and after a plain
``pip install .``.
"""

from __future__ import annotations

from pathlib import Path

from swarmdesign.errors import SwarmdesignError

KINDS = ("search_spaces", "fitness", "designs", "tasks")


def bundled_dir(kind: str) -> Path:
    """The folder holding bundled files of ``kind`` (wheel first, then source tree)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_bundled" / kind, package.parent / kind):
        if candidate.is_dir():
            return candidate
    return package / "_bundled" / kind


def bundled_names(kind: str) -> list[str]:
    folder = bundled_dir(kind)
    suffixes = (".yaml", ".yml", ".jsonl")
    return sorted(p.stem for p in folder.iterdir() if p.suffix in suffixes) if folder.is_dir() else []


def resolve(ref: str | Path, kind: str, *, option: str) -> Path:
    """A path as given if it exists, else a bundled file of that bare name.

    ``option`` names the CLI option or field for the error message.
    """
    path = Path(ref)
    if path.exists():
        return path
    text = str(ref)
    if "/" not in text and "\\" not in text:
        stem = text[:-5] if text.endswith(".yaml") else text
        for suffix in (".yaml", ".jsonl", ".yml"):
            candidate = bundled_dir(kind) / f"{stem}{suffix}"
            if candidate.exists():
                return candidate
    names = ", ".join(bundled_names(kind)) or "none"
    raise SwarmdesignError(f"no such file, and no bundled {kind} named so (bundled: {names})", file=text, field=option)
