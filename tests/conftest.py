"""Fixtures shared by the whole suite: an isolated OVNI_HOME and the real SodAI data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ovni_assets.home import prepare_home

# Tests write landing files right before they ingest them; the tests of the settle time set it themselves.
os.environ.setdefault("OVNI_LANDING_SETTLE_SECONDS", "0")

REPO_ROOT = Path(__file__).resolve().parents[1]
# CI clones the repo into a fresh folder with a copy of shared/ beside it.
SODAI_DIR = REPO_ROOT.parent / "shared" / "data" / "sodai"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with end-to-end (`slow`) tests first, those that declare a longer timeout before the others,
    each file's tests kept together and in order: with `make test`'s parallel workers the long files start
    early, so the workers finish close together."""

    def timeout(item: pytest.Item) -> float:
        marker = item.get_closest_marker("timeout")
        return float(marker.args[0]) if marker and marker.args else 0.0

    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    longest: dict[Path, float] = {}
    for item in items:
        longest[item.path] = max(longest.get(item.path, 0.0), timeout(item))
    first_seen = {path: i for i, path in reversed(list(enumerate(item.path for item in items)))}
    items.sort(key=lambda item: (item.path not in slow_files, -longest[item.path], first_seen[item.path]))


@pytest.fixture
def ovni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh OVNI_HOME (and DAGSTER_HOME under it) for one test; returns its settings."""
    from ovni_assets.settings import get_settings

    home = tmp_path / "ovni_home"
    monkeypatch.setenv("OVNI_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("OVNI_HPO_SECONDS", "2")
    monkeypatch.setenv("OVNI_HPO_MAX_TRIALS", "1")  # the default parameters: the same model on any machine
    settings = prepare_home(get_settings())
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    return settings


@pytest.fixture(scope="session")
def sodai_dir() -> Path:
    if not (SODAI_DIR / "transacciones.parquet").exists():
        pytest.fail(f"real SodAI data not found at {SODAI_DIR} (shared/ must sit beside the repo)")
    return SODAI_DIR
