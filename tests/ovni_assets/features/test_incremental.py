"""Incremental pair_features: after every kind of change the table equals a full rebuild, row for row."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from ovni_assets.features.incremental import STATE_TABLE, STATE_WEEKS_TABLE
from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.pair_features import (
    ROWS_TABLE,
    WEEKLY_PURCHASES_SELECT,
    build_pair_features,
    build_weekly_purchases,
    pair_features_select,
)

MONDAY = date(2024, 1, 1)
CUSTOMERS = 30
PRODUCTS = 9


def week(n: int) -> date:
    return MONDAY + timedelta(days=7 * n)


def random_purchases(seed: int, weeks: range) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rates = np.random.default_rng(0).uniform(0.02, 0.5, size=(CUSTOMERS, PRODUCTS))
    rows = []
    for n in weeks:
        bought = rng.random(rates.shape) < rates
        for c, p in zip(*np.nonzero(bought), strict=True):
            day = week(n) + timedelta(days=int(rng.integers(0, 6)))
            rows.append((int(c) + 1, int(p) + 100, day, float(rng.integers(1, 4)) / 3))
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "purchase_date", "items"])


def load_transactions(con: duckdb.DuckDBPyConnection, purchases: pd.DataFrame) -> None:
    """Replace `transactions` (one order per line) as the cleaning step would."""
    frame = purchases.reset_index(drop=True).assign(order_id=lambda f: np.arange(len(f)))
    con.register("tx", frame)
    con.execute(
        "CREATE OR REPLACE TABLE transactions AS SELECT customer_id, product_id, order_id, "
        "purchase_date::DATE AS purchase_date, date_trunc('week', purchase_date)::DATE AS week_start, items "
        "FROM tx"
    )
    con.unregister("tx")


def load_master_data(con: duckdb.DuckDBPyConnection, types: dict[int, str]) -> None:
    con.execute(
        "CREATE OR REPLACE TABLE customers AS SELECT * FROM (VALUES "
        + ", ".join(f"({c}, '{kind}', -33.4, -70.6, {1 + c % 3})" for c, kind in sorted(types.items()))
        + ") AS t(customer_id, customer_type, latitude, longitude, num_deliver_per_week)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE products AS SELECT * FROM (VALUES "
        + ", ".join(
            f"({p}, 'Brand {p % 3}', 'BEBIDAS', 'GASEOSAS', 'HIGH', 'LATA', 0.35)"
            for p in range(100, 100 + PRODUCTS)
        )
        + ") AS t(product_id, brand, category, sub_category, segment, package, size)"
    )


def default_types() -> dict[int, str]:
    return {c: ("ABARROTES" if c % 3 else "MAYORISTA") for c in range(1, CUSTOMERS + 1)}


def incremental_build(con: duckdb.DuckDBPyConnection, **kwargs):
    """The weekly run's two builds; `weekly_purchases` must equal its full rebuild too."""
    build_weekly_purchases(con, incremental=True)
    full_weekly = WEEKLY_PURCHASES_SELECT.format(since="1900-01-01")
    difference = con.execute(
        f"SELECT count(*) FROM ((SELECT * FROM weekly_purchases EXCEPT ALL {full_weekly}) "
        f"UNION ALL ({full_weekly} EXCEPT ALL SELECT * FROM weekly_purchases))"
    ).fetchall()[0][0]
    assert difference == 0
    return build_pair_features(con, incremental=True, **kwargs)


def assert_equals_full_rebuild(con: duckdb.DuckDBPyConnection, **kwargs) -> None:
    """The incremental table has the rows a full build gives now: EXCEPT ALL both ways on the exact columns,
    and DOUBLE columns equal to 1e-9 by key (float sums may add in another order)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE full_build AS {pair_features_select(con, **kwargs)}")
    schema = con.execute("DESCRIBE pair_features").fetchall()
    exact = ", ".join(name for name, kind, *_ in schema if kind != "DOUBLE")
    doubles = [name for name, kind, *_ in schema if kind == "DOUBLE"]
    only_incremental, only_full, rows = con.execute(
        f"""SELECT (SELECT count(*) FROM (SELECT {exact} FROM pair_features
                                          EXCEPT ALL SELECT {exact} FROM full_build)),
                   (SELECT count(*) FROM (SELECT {exact} FROM full_build
                                          EXCEPT ALL SELECT {exact} FROM pair_features)),
                   (SELECT count(*) FROM full_build)"""
    ).fetchall()[0]
    assert rows > 1000
    assert (only_incremental, only_full) == (0, 0)
    far = " OR ".join(f"(a.{c} IS NULL) <> (b.{c} IS NULL) OR abs(a.{c} - b.{c}) > 1e-9" for c in doubles)
    differing = con.execute(
        f"SELECT count(*) FROM pair_features a JOIN full_build b USING (customer_id, product_id, week_start) "
        f"WHERE {far}"
    ).fetchall()[0][0]
    assert differing == 0


@pytest.fixture
def warehouse():
    """A warehouse with weeks 0..11 built once (a full build: nothing recorded yet)."""
    con = duckdb.connect()
    load_master_data(con, default_types())
    purchases = random_purchases(seed=1, weeks=range(12))
    load_transactions(con, purchases)
    stats = incremental_build(con)
    assert stats.mode == "full" and stats.recomputed_from == str(week(0))
    yield con, purchases
    con.close()


def test_new_week_recomputes_only_the_previous_and_new_week(warehouse):
    con, purchases = warehouse
    untouched = con.execute("SELECT * FROM pair_features WHERE week_start < ? ", [week(10)]).df()
    load_transactions(con, pd.concat([purchases, random_purchases(seed=2, weeks=range(12, 13))]))
    stats = incremental_build(con)
    assert (stats.mode, stats.recomputed_from, stats.weeks_recomputed) == ("partial", str(week(11)), 2)
    assert stats.newest_week == str(week(12))
    assert_equals_full_rebuild(con)
    # the week before the new one got its labels; older rows are the same rows as before
    labels = con.execute(
        "SELECT count(*) FROM pair_features WHERE week_start = ? AND label IS NULL", [week(11)]
    )
    assert labels.fetchall()[0][0] == 0
    after = con.execute("SELECT * FROM pair_features WHERE week_start < ?", [week(10)]).df()
    keys = ["week_start", "customer_id", "product_id"]
    pd.testing.assert_frame_equal(
        untouched.sort_values(keys).reset_index(drop=True), after.sort_values(keys).reset_index(drop=True)
    )


def test_late_file_for_an_old_week_recomputes_from_the_week_before_it(warehouse):
    con, purchases = warehouse
    late = pd.DataFrame(
        [(3, 104, week(5) + timedelta(days=2), 5.0), (17, 101, week(5) + timedelta(days=4), 1.0)],
        columns=purchases.columns,
    )
    load_transactions(con, pd.concat([purchases, late]))
    stats = incremental_build(con)
    assert (stats.mode, stats.recomputed_from) == ("partial", str(week(4)))
    assert stats.weeks_recomputed == 8
    assert_equals_full_rebuild(con)


def test_removed_transactions_count_as_a_change(warehouse):
    con, purchases = warehouse
    in_week_7 = pd.to_datetime(purchases["purchase_date"]).dt.date.between(week(7), week(7) + timedelta(6))
    load_transactions(con, purchases[~(in_week_7 & (purchases["customer_id"] < 10))])
    stats = incremental_build(con)
    assert (stats.mode, stats.recomputed_from) == ("partial", str(week(6)))
    assert_equals_full_rebuild(con)


def test_customers_change_forces_a_full_build(warehouse):
    con, purchases = warehouse
    types = default_types() | {4: "MAYORISTA", 5: "MAYORISTA"}
    load_master_data(con, types)
    load_transactions(con, pd.concat([purchases, random_purchases(seed=3, weeks=range(12, 13))]))
    stats = incremental_build(con)
    assert stats.mode == "full" and "customers" in stats.reason
    assert_equals_full_rebuild(con)
    kinds = con.execute("SELECT DISTINCT customer_type FROM pair_features WHERE customer_id = 4").fetchall()
    assert kinds == [("MAYORISTA",)]


def test_definition_change_forces_a_full_build(warehouse):
    con, _ = warehouse
    stats = incremental_build(con, discovery_top_k=3)
    assert stats.mode == "full" and "definition" in stats.reason
    assert_equals_full_rebuild(con, discovery_top_k=3)


def test_nothing_changed_keeps_the_table(warehouse):
    con, _ = warehouse
    rows = con.execute("SELECT count(*) FROM pair_features").fetchall()[0][0]
    stats = incremental_build(con)
    assert (stats.mode, stats.weeks_recomputed, stats.rows) == ("unchanged", 0, rows)


def test_missing_state_or_table_means_a_full_build(warehouse):
    con, purchases = warehouse
    con.execute(f"DROP TABLE {STATE_TABLE}")
    assert incremental_build(con).mode == "full"
    con.execute("DROP VIEW pair_features")
    con.execute("DROP TABLE pair_feature_rows")
    load_transactions(con, pd.concat([purchases, random_purchases(seed=4, weeks=range(12, 13))]))
    assert incremental_build(con).mode == "full"
    assert_equals_full_rebuild(con)


def test_a_week_before_the_first_one_means_a_full_build(warehouse):
    con, purchases = warehouse
    early = pd.DataFrame([(2, 103, week(-2), 1.0)], columns=purchases.columns)
    load_transactions(con, pd.concat([early, purchases]))
    stats = incremental_build(con)
    assert stats.mode == "full" and stats.recomputed_from == str(week(-2))
    assert_equals_full_rebuild(con)


def test_a_failed_partial_build_leaves_table_and_state_as_they_were(warehouse):
    con, purchases = warehouse
    before = con.execute("SELECT count(*), max(week_start) FROM pair_features").fetchall()[0]
    state_query = (
        f"SELECT s.*, list(w.fingerprint ORDER BY w.week_start) FROM {STATE_TABLE} s "
        f"JOIN {STATE_WEEKS_TABLE} w USING (table_name) WHERE table_name = '{ROWS_TABLE}' GROUP BY ALL"
    )
    state = con.execute(state_query).fetchall()
    assert len(state) == 1
    load_transactions(con, pd.concat([purchases, random_purchases(seed=5, weeks=range(12, 13))]))
    build_weekly_purchases(con)
    con.execute("ALTER TABLE weekly_purchases RENAME COLUMN units TO quantity")  # the SELECT cannot bind
    with pytest.raises(duckdb.BinderException):
        build_pair_features(con, incremental=True)
    assert con.execute("SELECT count(*), max(week_start) FROM pair_features").fetchall()[0] == before
    assert con.execute(state_query).fetchall() == state
    con.execute("ALTER TABLE weekly_purchases RENAME COLUMN quantity TO units")
    stats = build_pair_features(con, incremental=True)
    assert stats.mode == "partial" and stats.newest_week == str(week(12))
    assert_equals_full_rebuild(con)


def test_incremental_weeks_do_not_leak_later_data():
    """Rows of weeks <= t built incrementally week by week equal those built when t was the newest week."""
    con = duckdb.connect()
    load_master_data(con, default_types())
    purchases = random_purchases(seed=6, weeks=range(16))
    day = pd.to_datetime(purchases["purchase_date"]).dt.date
    load_transactions(con, purchases[day < week(10)])
    incremental_build(con)
    columns = ", ".join(["customer_id", "product_id", "week_start", *FEATURE_COLUMNS])
    query = f"SELECT {columns}, label FROM pair_features WHERE week_start <= ? ORDER BY 3, 1, 2"
    at_cutoff = con.execute(query, [week(9)]).df()
    for last in range(10, 16):
        load_transactions(con, purchases[day < week(last + 1)])
        assert incremental_build(con).mode == "partial"
    later = con.execute(query, [week(9)]).df()
    features = [c for c in at_cutoff.columns if c != "label"]
    pd.testing.assert_frame_equal(at_cutoff[features], later[features])
    known = at_cutoff["week_start"] < pd.Timestamp(week(9))
    assert at_cutoff.loc[known, "label"].tolist() == later.loc[known, "label"].tolist()
    assert later["label"].notna().all()
    assert_equals_full_rebuild(con)
