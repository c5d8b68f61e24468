"""Small real data for the ML tests: synthetic SodAI files and a warehouse built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ovni_assets.data import cleaning
from ovni_assets.data.ingestion import ingest_landing
from ovni_assets.data.synthetic.config import GeneratorConfig
from ovni_assets.data.synthetic.writer import write_dataset
from ovni_assets.features.pair_features import build_pair_features, build_weekly_purchases

SMALL_CUSTOMERS = 150
SMALL_WEEKS = 14


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    """Source files of 150 synthetic customers over 14 weeks (2024-01-01 ..), generated once."""
    folder = tmp_path_factory.mktemp("small_landing")
    write_dataset(GeneratorConfig(customers=SMALL_CUSTOMERS, weeks=SMALL_WEEKS, seed=11), folder)
    return folder


def build_warehouse(landing: Path, path: Path) -> Path:
    """Ingest, clean and build features into a new DuckDB file (the domain functions the assets call)."""
    work = path.parent / f"{path.stem}_files"
    shutil.copytree(landing, work / "landing")
    con = duckdb.connect(str(path))
    try:
        ingest_landing(con, work / "landing", work / "quarantine")
        cleaning.build_customers(con)
        cleaning.build_products(con)
        cleaning.build_transactions(con)
        build_weekly_purchases(con)
        build_pair_features(con)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def small_warehouse_template(small_landing, tmp_path_factory) -> Path:
    return build_warehouse(small_landing, tmp_path_factory.mktemp("small_warehouse") / "warehouse.duckdb")


@pytest.fixture
def small_warehouse(small_warehouse_template, tmp_path) -> Path:
    """A private copy of the small feature warehouse for one test."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(small_warehouse_template, target)
    return target


@pytest.fixture(scope="session")
def sodai_warehouse(sodai_dir, tmp_path_factory) -> Path:
    """A warehouse with the real SodAI data ingested, cleaned and turned into features."""
    return build_warehouse(sodai_dir, tmp_path_factory.mktemp("sodai") / "warehouse.duckdb")


MID_WEEK_END = "2024-04-03"  # a Wednesday: the small data's newest week, 2024-04-01 .. 04-07, in progress


@pytest.fixture
def mid_week_warehouse(small_warehouse) -> Path:
    """The small warehouse as an export that ran through Wednesday 2024-04-03: later transactions removed,
    weekly purchases and pair features rebuilt from what is left."""
    con = duckdb.connect(str(small_warehouse))
    try:
        con.execute("DELETE FROM transactions WHERE CAST(purchase_date AS DATE) > ?", [MID_WEEK_END])
        build_weekly_purchases(con)
        build_pair_features(con)
    finally:
        con.close()
    return small_warehouse
