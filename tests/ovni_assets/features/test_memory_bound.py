"""Warehouse connections carry OVNI_DUCKDB_MEMORY_LIMIT and spill under OVNI_HOME."""

from __future__ import annotations

import duckdb
import pytest

from ovni_assets.settings import get_settings
from ovni_assets.warehouse import connect


def test_connections_get_the_memory_limit_and_a_spill_folder_under_ovni_home(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OVNI_DUCKDB_MEMORY_LIMIT", "300MB")
    path = tmp_path / "warehouse.duckdb"
    with connect(path) as con:
        limit, temp_dir = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
        assert limit == "286.1 MiB"  # DuckDB reports 300 MB in MiB
        assert temp_dir == str(get_settings().duckdb_temp_dir)
        assert temp_dir.startswith(str(tmp_path / "home"))
        # a plain connection to the same file in the same process still opens (no config clash)
        with duckdb.connect(str(path)) as plain:
            assert plain.execute("SELECT 1").fetchall() == [(1,)]
    with connect(path, read_only=True) as reader:
        assert reader.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "286.1 MiB"


def test_an_invalid_memory_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OVNI_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(duckdb.Error):
        connect(tmp_path / "warehouse.duckdb")
