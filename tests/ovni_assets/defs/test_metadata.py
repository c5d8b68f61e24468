"""The column schemas the Dagster UI shows describe every column of every warehouse table."""

from __future__ import annotations

import duckdb
import pytest

from ovni_assets.columns import BY_TABLE, column_description
from ovni_assets.defs.metadata import table_metadata
from ovni_assets.monitoring.quality import PREDICTION_QUALITY_DDL
from ovni_assets.prediction.batch import PREDICTIONS_DDL


@pytest.fixture
def con(small_warehouse):
    con = duckdb.connect(str(small_warehouse))
    con.execute(PREDICTIONS_DDL)
    con.execute(PREDICTION_QUALITY_DDL)
    yield con
    con.close()


@pytest.mark.parametrize("table", sorted(BY_TABLE))
def test_every_column_is_described(con, table):
    schema = table_metadata(con, table)["dagster/column_schema"]
    assert len(schema.columns) > 1
    assert [c.name for c in schema.columns if not c.description] == []


def test_a_table_specific_meaning_wins_over_the_shared_one():
    assert column_description("prediction_quality", "batch_id") != column_description(
        "raw_products", "batch_id"
    )
    assert column_description("pair_features", "week_start").startswith("Feature week t")
    assert column_description("pair_features", "no_such_column") is None
