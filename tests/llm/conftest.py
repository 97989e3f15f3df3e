"""Shared fixtures: an isolated home and cache, and a fresh deterministic fake provider per test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    for var in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR"):
        monkeypatch.setenv(var, str(tmp_path / "home" / var.lower()))
    monkeypatch.setenv("SWARMDESIGN_LLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def litellm():
    from swarmdesign.llm._litellm import import_litellm

    return import_litellm()


@pytest.fixture
def fake(litellm):
    """A fresh fake provider registered for ``fake/...`` models (call counts start at 0)."""
    from swarmdesign.llm.fake import make_fake_provider, register_fake_provider

    provider = make_fake_provider(litellm)
    register_fake_provider(litellm, provider)
    return provider
