"""Fixtures of the UI tests: `ovni serve` and `ovni ui` processes over the session's served home (see
served.py and the `served_home` fixture of tests/conftest.py). The API judges the served week as of a pinned
day, `STALE_DAYS` days past its time, so the page's stale notice is there whatever the date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .served import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    free_port,
    served_week,
    stale_by,
    start_api,
    start_ui,
)

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "Server", "free_port", "served_week", "start_api", "start_ui"]

STALE_DAYS = 3


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ovni_ui_logs")


@pytest.fixture(scope="session")
def api_server(served_home: Path, logs_dir: Path) -> Iterator[Server]:
    server = start_api(served_home, logs_dir, env=stale_by(served_home, STALE_DAYS))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ui_server(served_home: Path, api_server: Server, logs_dir: Path) -> Iterator[Server]:
    server = start_ui(served_home, api_server.url, logs_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api(api_server: Server) -> Iterator[httpx.Client]:
    """A plain HTTP client on the API: the tests' source of truth for what the UI must show."""
    with httpx.Client(base_url=api_server.url, timeout=30.0, trust_env=False) as client:
        yield client


@pytest.fixture(scope="session")
def screenshots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ovni_ui_screenshots")
