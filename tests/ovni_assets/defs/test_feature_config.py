"""The candidate rules of `pair_features` are its Dagster config: changing one is a new definition."""

from __future__ import annotations

import dagster as dg
import duckdb

from ovni_assets.defs.assets.feature_assets import pair_features
from ovni_assets.defs.resources import WarehouseResource


def materialize(warehouse, run_config: dict | None = None) -> dict:
    resource = WarehouseResource(
        database=str(warehouse),
        lock_path=str(warehouse) + ".lock",
        memory_limit="2GB",
        temp_directory=str(warehouse.parent / "duckdb_tmp"),
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [pair_features], resources={"warehouse": resource}, instance=instance, run_config=run_config
        )
    assert result.success
    metadata = result.asset_materializations_for_node("pair_features")[0].metadata
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def test_no_discovery_candidates_is_a_full_build_without_them(small_warehouse):
    default = materialize(small_warehouse)
    assert default["build_mode"] == "unchanged" and default["discovery_rows"] > 0

    no_discovery = {"ops": {"pair_features": {"config": {"discovery_top_k": 0}}}}
    changed = materialize(small_warehouse, no_discovery)
    assert changed["build_mode"] == "full" and "definition" in changed["build_reason"]
    assert changed["discovery_rows"] == 0 and changed["history_rows"] == default["history_rows"]
    con = duckdb.connect(str(small_warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM pair_feature_rows WHERE is_discovery").fetchone()[0] == 0
    con.close()
