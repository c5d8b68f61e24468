"""Warehouse connections carry OVNI_DUCKDB_MEMORY_LIMIT and spill under OVNI_HOME; frame reads run under a
lower limit."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from ovni_assets.settings import get_settings
from ovni_assets.warehouse import connect, memory_limit, read_frame


def test_connections_get_the_memory_limit_and_a_spill_folder_under_ovni_home(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OVNI_DUCKDB_MEMORY_LIMIT", "300MB")
    path = tmp_path / "warehouse.duckdb"
    with connect(path, get_settings()) as con:
        limit, temp_dir = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
        assert limit == "286.1 MiB"  # DuckDB reports 300 MB in MiB
        assert temp_dir == str(get_settings().duckdb_temp_dir)
        assert temp_dir.startswith(str(tmp_path / "home"))
        # a plain connection to the same file in the same process still opens (no config clash)
        with duckdb.connect(str(path)) as plain:
            assert plain.execute("SELECT 1").fetchall() == [(1,)]
    with connect(path, get_settings(), read_only=True) as reader:
        assert reader.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "286.1 MiB"


def test_an_invalid_memory_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OVNI_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(duckdb.Error):
        connect(tmp_path / "warehouse.duckdb", get_settings())


def test_frame_reads_run_under_a_lower_duckdb_limit_and_restore_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OVNI_DUCKDB_MEMORY_LIMIT", "4GB")
    with connect(tmp_path / "warehouse.duckdb", get_settings()) as con:

        def limit() -> str:
            return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

        configured = limit()
        with memory_limit(con, "500MB"):
            assert limit() == "476.8 MiB"
        assert limit() == configured
        with pytest.raises(duckdb.Error), memory_limit(con, "500MB"):
            con.execute("SELECT * FROM no_such_table")
        assert limit() == configured  # restored after a failure too
        with memory_limit(con, "8GB"):
            assert limit() == configured  # never raised above the configured limit


def test_frame_read_limit_works_with_a_percentage_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OVNI_DUCKDB_MEMORY_LIMIT", "50%")  # DuckDB accepts a share of the RAM too
    with connect(tmp_path / "warehouse.duckdb", get_settings()) as con:
        configured = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        assert read_frame(con, "SELECT 1 AS one")["one"].tolist() == [1]
        assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == configured


def test_read_frame_gives_text_columns_as_categories(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    with connect(tmp_path / "warehouse.duckdb", get_settings()) as con:
        frame = read_frame(
            con,
            "SELECT i::INTEGER AS n, i * 0.5 AS x, ['a', 'b', NULL][i % 3 + 1] AS brand "
            "FROM range(6) t(i) WHERE i >= ?",
            [1],
        )
    assert list(frame["n"]) == [1, 2, 3, 4, 5] and frame["x"].dtype == "float64"
    assert isinstance(frame["brand"].dtype, pd.CategoricalDtype)
    assert frame["brand"].astype(object).where(frame["brand"].notna(), None).tolist() == [
        "b",
        None,
        "a",
        "b",
        None,
    ]
