"""Several processes opening one fresh, empty PostgreSQL database (here: schema) at the same moment.

Optuna's ``RDBStorage`` creates its schema on first use; unguarded, two
processes doing so at once on an empty database collide
(``UniqueViolation ... pg_type_typname_nsp_index``) and one dies.
``swarmdesign.storage.storage_from_url`` creates it under a PostgreSQL
advisory lock, so every process starts.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

OPENER = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
from swarmdesign.storage import storage_from_url
storage = storage_from_url(sys.argv[1])
print(len(storage.get_all_studies()))
"""


def _fresh_schema(url: str) -> str:
    """A new, empty schema on the test server and a URL whose connections use it (as a fresh database would be)."""
    import importlib.util

    import sqlalchemy

    name = f"race_{uuid.uuid4().hex[:12]}"
    admin = url
    if importlib.util.find_spec("psycopg") is None and url.startswith("postgresql://"):
        admin = "postgresql+psycopg2://" + url.split("://", 1)[1]
    engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"


@pytest.mark.parametrize("processes", [6])
def test_concurrent_first_start_on_an_empty_database(postgres_url: str, tmp_path: Path, processes: int) -> None:
    url = _fresh_schema(postgres_url)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", OPENER, url, str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(processes)
    ]  # fmt: skip
    time.sleep(3.0)  # every interpreter is up and importing before the start signal
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    errors = [err.strip().splitlines()[-1] for (_, err), p in zip(results, procs, strict=True) if p.returncode != 0]
    assert not errors, errors
    assert all(out.strip() == "0" for out, _ in results)
