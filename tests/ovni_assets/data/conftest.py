"""Fixtures of the ingestion tests: an empty landing zone with its quarantine, and a new warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    landing.mkdir()
    return landing, quarantine


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()
