"""Fixtures for the export tests: an isolated home before any framework is imported.

CrewAI writes under the home directory and $TMPDIR and would phone home
without the telemetry switches, so every test here runs with HOME, the XDG
folders, TMPDIR and MPLCONFIGDIR in a temp dir and telemetry off. The
frameworks are imported inside the tests (after this fixture has run), never
at module level: importing CrewAI alone takes about 3 s.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point everything a framework may write to at a temp dir, before any framework is imported."""
    home = tmp_path_factory.mktemp("export-home")
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR", "TMPDIR"):
        path = home / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    monkeypatch.setattr(tempfile, "tempdir", str(home / "tmpdir"))
    monkeypatch.setenv("CREWAI_STORAGE_DIR", "swarmdesign-tests")
    monkeypatch.setenv("CREWAI_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("CREWAI_TRACING_ENABLED", "false")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    return home
