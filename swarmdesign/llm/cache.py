"""An on-disk cache of LLM answers keyed on the request, so a repeated evaluation costs nothing.

litellm's own disk cache crashes on its first hit without the proxy extras
(BerriAI/litellm#42195), hence this one: one small JSON file per request,
named by the SHA-256 of the canonical JSON of (model, api_base, messages,
parameters), written atomically (temp file + rename) so concurrent workers
and ``kill -9`` never leave a torn entry. Keys never include API keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def default_cache_dir() -> Path:
    """``$SWARMDESIGN_LLM_CACHE``, else ``$XDG_CACHE_HOME/swarmdesign/llm``, else ``~/.cache/swarmdesign/llm``."""
    env = os.environ.get("SWARMDESIGN_LLM_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swarmdesign" / "llm"


def request_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Hex digest identifying a request; parameters are sorted so their order does not matter."""
    blob = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Maps a request key to the stored answer (text, usage, cost, latency)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
