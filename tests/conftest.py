"""Fixtures every test shares: an isolated MEMENTO_HOME, offline model hubs, the anyio backend."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """One cache of exported embedding models for the whole session (an export takes ~10 s)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch, models_dir):
    home = tmp_path_factory.mktemp("memento-home")
    monkeypatch.setenv("MEMENTO_HOME", str(home))
    monkeypatch.setenv("MEMENTO_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.delenv("MEMENTO_CONFIG", raising=False)
    monkeypatch.delenv("MEMENTO_TOKEN", raising=False)
    return home


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(params=["stdio", "http"])
def transport(request):
    """Run a test once per MCP transport."""
    return request.param


@pytest.fixture(params=["auto", "legacy"])
def mode(request):
    """Run a test once per protocol era: 2026-07-28 (auto) and 2025-11-25 (legacy, initialize)."""
    return request.param
