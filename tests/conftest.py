"""Fixtures shared by the whole suite: an isolated OVNI_HOME, the real SodAI data, and one home served by
the real pipeline."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from ovni_assets.home import prepare_home
from tests.cli import IMPORTANCE_SAMPLE_ROWS, run_ovni

# Tests write landing files right before they ingest them; the tests of the settle time set it themselves.
os.environ.setdefault("OVNI_LANDING_SETTLE_SECONDS", "0")
# The test workers already fill the cores: one OpenMP thread per process (every OVNI child inherits it), or
# scikit-learn's threads spin-wait against the other workers' and burn the CPU they need.
os.environ.setdefault("OMP_NUM_THREADS", "1")

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
    monkeypatch.setenv("OVNI_IMPORTANCE_SAMPLE_ROWS", IMPORTANCE_SAMPLE_ROWS)
    settings = prepare_home(get_settings())
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    return settings


@pytest.fixture(scope="session")
def sodai_dir() -> Path:
    if not (SODAI_DIR / "transacciones.parquet").exists():
        pytest.fail(f"real SodAI data not found at {SODAI_DIR} (shared/ must sit beside the repo)")
    return SODAI_DIR


@pytest.fixture(scope="session")
def served_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OVNI_HOME made by the real CLI on small demo data, with a champion, a published snapshot, a
    realized F1 and a drift report; built once per session and shared by the xdist workers.

    Only for tests that read it (the UI, the API docs, the API over a pipeline's output): a test that
    runs the pipeline again or promotes a version builds a home of its own.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one home for every worker of the session
        root = root.parent
    home = root / "ovni_served_home"
    with (root / "ovni_served_home.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds it, the others wait and reuse it
        if not (home / ".built").exists():
            build_served_home(home)
    return home


def build_served_home(home: Path) -> None:
    """`ovni generate` (its defaults but 80 customers and 20 weeks), then two weekly `ovni run`s.

    The first run sees all weeks but the last and publishes a batch for it; the second lands the last
    week, so the served snapshot also has a realized F1 and a drift report.
    """
    import pandas as pd

    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    generated, landing = home / "generated", home / "landing"
    run_ovni(home, "generate", "--out", str(generated), "--customers", "80", "--weeks", "20")
    landing.mkdir()
    for table in ("clientes", "productos"):
        shutil.copy(generated / f"{table}.parquet", landing / f"{table}.parquet")
    transactions = pd.read_parquet(generated / "transacciones.parquet")
    weeks = transactions["purchase_date"].dt.to_period("W-SUN").dt.start_time
    last_week = weeks.max()
    transactions[weeks < last_week].to_parquet(landing / "transacciones_history.parquet", index=False)
    run_ovni(home, "run")
    transactions[weeks == last_week].to_parquet(landing / "transacciones_last_week.parquet", index=False)
    run_ovni(home, "run")
    if not (home / "serving.duckdb").exists():
        pytest.fail("ovni run finished without publishing serving.duckdb")
    (home / ".built").touch()
