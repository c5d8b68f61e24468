"""pair_features: known answers on a hand-made history, and no leakage from later weeks."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.pair_features import (
    build_pair_features,
    build_weekly_purchases,
)

MONDAY = date(2024, 1, 1)


def week(n: int) -> date:
    return MONDAY + timedelta(days=7 * n)


def make_warehouse(
    purchases: list[tuple[int, int, date, float]], customers=None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB with the clean tables the features read: (customer, product, day, units) purchases."""
    con = duckdb.connect()
    tx = pd.DataFrame(purchases, columns=["customer_id", "product_id", "purchase_date", "items"])
    tx["order_id"] = np.arange(len(tx))
    tx["purchase_date"] = pd.to_datetime(tx["purchase_date"])
    con.register("tx", tx)
    con.execute(
        "CREATE TABLE transactions AS SELECT customer_id, product_id, order_id, purchase_date::DATE AS "
        "purchase_date, date_trunc('week', purchase_date)::DATE AS week_start, items FROM tx"
    )
    ids = sorted({p[0] for p in purchases})
    kinds = customers or dict.fromkeys(ids, "ABARROTES")
    con.execute(
        "CREATE TABLE customers AS SELECT * FROM (VALUES "
        + ", ".join(f"({c}, '{kinds[c]}', -33.4, -70.6, 3)" for c in ids)
        + ") AS t(customer_id, customer_type, latitude, longitude, num_deliver_per_week)"
    )
    products = sorted({p[1] for p in purchases})
    con.execute(
        "CREATE TABLE products AS SELECT * FROM (VALUES "
        + ", ".join(f"({p}, 'Brand {p}', 'BEBIDAS', 'GASEOSAS', 'HIGH', 'LATA', 0.35)" for p in products)
        + ") AS t(product_id, brand, category, sub_category, segment, package, size)"
    )
    build_weekly_purchases(con)
    build_pair_features(con)
    return con


def row(con, customer, product, feature_week) -> dict:
    frame = con.execute(
        "SELECT * FROM pair_features WHERE customer_id = ? AND product_id = ? AND week_start = ?",
        [customer, product, feature_week],
    ).df()
    assert len(frame) == 1, f"expected one row for ({customer}, {product}, {feature_week}), got {len(frame)}"
    return frame.iloc[0].to_dict()


@pytest.fixture
def small():
    # customer 1 buys product 10 in weeks 0, 1, 3 (on Tuesdays); customer 2 buys product 20 every week 0..4
    purchases = [(1, 10, week(n) + timedelta(days=1), 2.0) for n in (0, 1, 3)]
    purchases += [(2, 20, week(n) + timedelta(days=2), 1.0) for n in range(5)]
    purchases += [(1, 10, week(3) + timedelta(days=4), 1.0)]  # a second order in week 3
    return make_warehouse(purchases)


def test_weekly_purchases_sum_units_and_count_orders(small):
    units, orders = small.execute(
        "SELECT units, orders FROM weekly_purchases "
        "WHERE customer_id = 1 AND product_id = 10 AND week_start = ?",
        [week(3)],
    ).fetchall()[0]
    assert (units, orders) == (3.0, 2)


def test_history_features_have_known_values(small):
    r = row(small, 1, 10, week(3))
    assert r["bought_w1"] == 1 and r["bought_lag1"] == 0 and r["bought_lag2"] == 1 and r["bought_lag3"] == 1
    assert r["bought_w2"] == 1 and r["bought_w4"] == 3 and r["bought_total"] == 3
    assert r["weeks_since_last"] == 0 and r["weeks_since_first"] == 3
    assert r["mean_gap_weeks"] == pytest.approx(1.5)  # first week 0, last week 3, 3 purchase weeks
    assert r["units_w4"] == pytest.approx(7.0) and r["orders_w4"] == 4
    assert r["days_since_last"] == 2  # last purchase Friday of week 3, week ends Sunday
    assert r["is_discovery"] == "no"
    assert r["target_week_start"].date() == week(4)
    assert not r["label"]  # no purchase in week 4

    gap = row(small, 1, 10, week(2))
    assert gap["bought_w1"] == 0 and gap["weeks_since_last"] == 1 and gap["bought_w4"] == 2
    assert gap["label"]  # bought in week 3


def test_customer_and_product_level_features(small):
    r = row(small, 1, 10, week(3))
    assert r["cust_active_w4"] == 3 and r["cust_products_total"] == 1 and r["cust_weeks_since_last"] == 0
    assert r["prod_customers_w1"] == 1
    other = row(small, 2, 20, week(4))
    assert other["cust_active_w4"] == 4 and other["cust_activity_rate"] == pytest.approx(1.0)


def test_newest_week_has_rows_with_unknown_label(small):
    newest = small.execute("SELECT max(week_start) FROM pair_features").fetchall()[0][0]
    assert newest == week(4)
    labels = small.execute(
        "SELECT DISTINCT label FROM pair_features WHERE week_start = ?", [week(4)]
    ).fetchall()
    assert labels == [(None,)]
    assert row(small, 1, 10, week(4))["bought_w1"] == 0  # customer 1 still a candidate in the newest week


def test_discovery_offers_top_products_of_the_type_never_bought(small):
    d = row(small, 1, 20, week(3))  # customer 2 (same type) buys product 20, customer 1 never did
    assert d["is_discovery"] == "yes" and d["bought_total"] == 0 and d["type_share_w8"] > 0
    assert not d["label"]
    assert row(small, 2, 10, week(1))["is_discovery"] == "yes"
    # a pair stops being a discovery candidate once bought: it is a history pair then
    assert row(small, 2, 20, week(0))["is_discovery"] == "no"


def test_pairs_silent_for_26_weeks_drop_out_of_history_candidates():
    purchases = [(1, 10, week(0), 1.0)] + [(2, 20, week(n), 1.0) for n in range(30)]
    con = make_warehouse(purchases, customers={1: "ABARROTES", 2: "MAYORISTA"})
    weeks = [
        r[0]
        for r in con.execute(
            "SELECT week_start FROM pair_features WHERE customer_id = 1 AND product_id = 10 ORDER BY 1"
        ).fetchall()
    ]
    assert weeks == [week(n) for n in range(26)]


def random_purchases(seed: int, weeks: int) -> list[tuple[int, int, date, float]]:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.02, 0.6, size=(25, 8))
    out = []
    for n in range(weeks):
        bought = rng.random(rates.shape) < rates
        for c, p in zip(*np.nonzero(bought), strict=True):
            out.append((int(c) + 1, int(p) + 100, week(n) + timedelta(days=int(rng.integers(0, 6))), 1.0))
    return out


def test_features_of_week_t_do_not_change_when_later_weeks_arrive():
    purchases = random_purchases(seed=3, weeks=14)
    types = {c: ("ABARROTES" if c % 3 else "MAYORISTA") for c in range(1, 26)}
    cutoff = week(9)
    early = make_warehouse([p for p in purchases if p[2] < cutoff + timedelta(days=7)], customers=types)
    full = make_warehouse(purchases, customers=types)

    keys = ["customer_id", "product_id", "week_start"]
    query = (
        f"SELECT {', '.join(keys + FEATURE_COLUMNS)}, label FROM pair_features "
        "WHERE week_start <= ? ORDER BY week_start, customer_id, product_id"
    )
    before = early.execute(query, [cutoff]).df()
    after = full.execute(query, [cutoff]).df()
    assert len(before) > 500
    pd.testing.assert_frame_equal(before[keys + FEATURE_COLUMNS], after[keys + FEATURE_COLUMNS])
    # labels: equal where known; the cut-off week's labels were unknown and are filled in now
    known = before["week_start"] < pd.Timestamp(cutoff)
    assert before.loc[known, "label"].tolist() == after.loc[known, "label"].tolist()
    assert before.loc[~known, "label"].isna().all() and after.loc[~known, "label"].notna().all()


def test_label_matches_next_week_purchases():
    con = make_warehouse(random_purchases(seed=5, weeks=10))
    mismatches = con.execute(
        """SELECT count(*) FROM pair_features f
           LEFT JOIN weekly_purchases w ON w.customer_id = f.customer_id AND w.product_id = f.product_id
                AND w.week_start = f.target_week_start
           WHERE f.label IS NOT NULL AND f.label <> (w.units IS NOT NULL)"""
    ).fetchall()[0][0]
    assert mismatches == 0


def test_ratios_are_finite_when_a_pair_is_bought_twice_in_its_only_week():
    purchases = [(1, 10, week(0), 1.0), (1, 10, week(0) + timedelta(days=3), 1.0), (1, 11, week(1), 1.0)]
    con = make_warehouse(purchases)
    r = row(con, 1, 10, week(1))
    assert r["mean_gap_days"] == pytest.approx(3.0)  # two purchase days, three days apart
    infinite = con.execute(
        "SELECT count(*) FROM pair_features WHERE isinf(day_gap_ratio) OR isinf(gap_ratio)"
    ).fetchall()[0][0]
    assert infinite == 0


def test_a_build_gives_the_same_bits_whatever_the_threads():
    """Units in thirds (as in the real data) summed by parallel threads: the features, and so the model
    trained on them, must not depend on the order DuckDB adds them in."""
    rng = np.random.default_rng(11)
    n = 400_000  # several row groups, so the GROUP BYs run on several threads
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 60, n),
            "product_id": rng.integers(100, 110, n),
            "order_id": np.arange(n),
            "purchase_date": pd.Timestamp(MONDAY) + pd.to_timedelta(rng.integers(0, 7 * 12, n), unit="D"),
            "items": rng.integers(1, 40, n) / 3,
        }
    )
    built = []
    for threads in (1, 4):
        con = duckdb.connect(config={"threads": threads})
        con.register("tx", tx)
        con.execute(
            "CREATE TABLE transactions AS SELECT customer_id, product_id, order_id, purchase_date::DATE AS "
            "purchase_date, date_trunc('week', purchase_date)::DATE AS week_start, items FROM tx"
        )
        con.execute(
            "CREATE TABLE customers AS SELECT DISTINCT customer_id, 'ABARROTES' AS customer_type, -33.4 AS "
            "latitude, -70.6 AS longitude, 3 AS num_deliver_per_week FROM tx"
        )
        con.execute(
            "CREATE TABLE products AS SELECT DISTINCT product_id, 'B' AS brand, 'BEBIDAS' AS category, "
            "'GASEOSAS' AS sub_category, 'HIGH' AS segment, 'LATA' AS package, 0.35 AS size FROM tx"
        )
        build_weekly_purchases(con)
        build_pair_features(con)
        query = "SELECT * FROM pair_features ORDER BY customer_id, product_id, week_start"
        built.append(con.execute(query).df())
    pd.testing.assert_frame_equal(built[0], built[1], check_exact=True)
