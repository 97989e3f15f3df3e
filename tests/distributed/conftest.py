"""Fixtures for parallel and multi-machine runs: a real PostgreSQL server, worker processes, reference runs.

PostgreSQL: ``SWARMDESIGN_TEST_POSTGRES_URL`` if set, else a private server
started with ``scripts/postgres.sh`` in a temporary data folder on a free
127.0.0.1 port, stopped when the session ends. Where CI is set, a server that
cannot be had is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dist_helpers import REPO, Reference, free_port, settings, summarize

from swarmdesign.runner import Run
from swarmdesign.testing.sleepy import register


def fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL storage URL on 127.0.0.1 for the whole session."""
    url = os.environ.get("SWARMDESIGN_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        fail_or_skip("psycopg2 is not installed (pip install -e '.[postgres]')")
    script = REPO / "scripts" / "postgres.sh"
    # Under /tmp: as root the server runs as 'postgres', which cannot enter pytest's private tmp folders.
    data = Path(tempfile.mkdtemp(prefix="swarmdesign-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
    port = free_port()
    proc = subprocess.run(
        ["bash", str(script), "start", "--data", str(data), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        fail_or_skip(f"scripts/postgres.sh could not start a server: {proc.stderr.strip()[-1500:]}")
    try:
        yield proc.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop", "--data", str(data)], capture_output=True, timeout=120)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(autouse=True)
def _sleeping_evaluator() -> None:
    register()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Reference]:
    """``reference(optimizer)``: the single-process run (own journal, no sleep), computed once per optimizer."""
    cache: dict[str, Reference] = {}

    def get(optimizer: str) -> Reference:
        if optimizer not in cache:
            register()
            run = Run.create(settings(tmp_path_factory.mktemp("ref"), f"ref-{optimizer}", optimizer=optimizer))
            run.execute()
            cache[optimizer] = summarize(run.study)
        return cache[optimizer]

    return get
