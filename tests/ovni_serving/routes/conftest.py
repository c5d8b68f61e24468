"""Fixtures of the route tests over the read-only `served` home: a pair its batch scored, and its snapshot."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def candidate(served) -> tuple[int, int]:
    """(customer_id, product_id) of the world's first candidate row: a pair the served batch scored."""
    row = served.world.features.iloc[0]
    return int(row["customer_id"]), int(row["product_id"])


@pytest.fixture(scope="session")
def snapshot_frame(served) -> Callable[[str], pd.DataFrame]:
    """Run a query on the served snapshot: what the API answers must match it."""

    def query(sql: str) -> pd.DataFrame:
        con = duckdb.connect(str(served.settings.serving_path), read_only=True)
        try:
            return con.execute(sql).fetchdf()
        finally:
            con.close()

    return query
