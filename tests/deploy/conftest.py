"""A real PostgreSQL for the compose check: ``SWARMDESIGN_TEST_POSTGRES_URL`` (set by .ci/run), else a private one.

The private server comes from ``scripts/postgres.sh`` on a free 127.0.0.1 port
and is stopped at the end of the session. Where CI is set, a server that cannot
be had is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("SWARMDESIGN_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _fail_or_skip("psycopg2 is not installed (pip install -e '.[postgres]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Under /tmp: as root the server runs as 'postgres', which cannot enter pytest's private tmp folders.
    data = Path(tempfile.mkdtemp(prefix="swarmdesign-pg-", dir="/tmp"))
    script = REPO / "scripts" / "postgres.sh"
    proc = subprocess.run(
        ["bash", str(script), "start", "--data", str(data), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        _fail_or_skip(f"scripts/postgres.sh could not start a server: {proc.stderr.strip()[-1500:]}")
    try:
        yield proc.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop", "--data", str(data)], capture_output=True, timeout=120)
        shutil.rmtree(data, ignore_errors=True)
