"""A search's per-batch journal flushes: written at once, fsynced at most once a second, synced at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from optuna.storages.journal import JournalFileBackend

from swarmdesign import journal
from swarmdesign.journal import BufferedJournalBackend


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the fsync calls the journal makes (the real fsync still runs)."""
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(journal.os, "fsync", counting)
    return calls


def _log(i: int) -> dict:
    return {"op_code": 0, "worker_id": "w", "study_name": f"s{i}", "directions": [1]}


def test_non_durable_flushes_write_every_line_and_sync_once_a_second(tmp_path: Path, fsyncs: list[int]) -> None:
    path = tmp_path / "journal.log"
    backend = BufferedJournalBackend(path)
    for i in range(5):
        backend.append_logs([_log(i)])
        backend.flush(durable=False)
    # every batch is in the file at once (a killed process loses nothing) ...
    assert [log["study_name"] for log in JournalFileBackend(str(path)).read_logs(0)] == [f"s{i}" for i in range(5)]
    # ... but none was fsynced: less than SYNC_EVERY_S passed since the backend opened
    assert fsyncs == []
    backend.flush()  # a durable flush with nothing buffered still syncs what is pending
    assert len(fsyncs) == 1
    backend.flush()
    assert len(fsyncs) == 1, "nothing unsynced is left, so no second fsync"


def test_a_batch_after_the_interval_is_synced(
    tmp_path: Path, fsyncs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = BufferedJournalBackend(tmp_path / "journal.log")
    backend.append_logs([_log(0)])
    backend.flush(durable=False)
    assert fsyncs == []
    monkeypatch.setattr(journal, "SYNC_EVERY_S", 0.0)
    backend.append_logs([_log(1)])
    backend.flush(durable=False)
    assert len(fsyncs) == 1


def test_durable_is_the_default(tmp_path: Path, fsyncs: list[int]) -> None:
    backend = BufferedJournalBackend(tmp_path / "journal.log")
    backend.append_logs([_log(0)])
    backend.flush()
    assert len(fsyncs) == 1
