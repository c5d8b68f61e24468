"""Cleaning rules, each shown on a small hand-made drop."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ovni_assets.data import cleaning
from ovni_assets.data.ingestion import ingest_landing


def customer(customer_id, y=-46.0, x=-108.0, customer_type="ABARROTES", deliveries=3):
    return {
        "customer_id": customer_id,
        "region_id": 80,
        "zone_id": 5148,
        "customer_type": customer_type,
        "Y": y,
        "X": x,
        "num_deliver_per_week": deliveries,
        "num_visit_per_week": 1,
    }


def product(product_id, brand="Brand 1", segment="PREMIUM"):
    return {
        "product_id": product_id,
        "brand": brand,
        "category": "BEBIDAS CARBONATADAS",
        "sub_category": "GASEOSAS",
        "segment": segment,
        "package": "BOTELLA",
        "size": 0.5,
    }


def line(customer_id, product_id, order_id, day, items):
    return {
        "customer_id": customer_id,
        "product_id": product_id,
        "order_id": order_id,
        "purchase_date": pd.Timestamp(day),
        "items": items,
    }


class Warehouse:
    """A DuckDB file fed through the real landing → raw → clean path."""

    def __init__(self, root: Path):
        self.landing = root / "landing"
        self.quarantine = root / "quarantine"
        self.landing.mkdir(parents=True)
        self.con = duckdb.connect(str(root / "warehouse.duckdb"))
        self.drops = 0

    def drop(self, transactions=(), customers=(), products=()):
        self.drops += 1
        for prefix, rows in (
            ("transacciones", transactions),
            ("clientes", customers),
            ("productos", products),
        ):
            if rows:
                pd.DataFrame(list(rows)).to_parquet(self.landing / f"{prefix}_{self.drops}.parquet")
        ingest_landing(self.con, self.landing, self.quarantine)

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()


@pytest.fixture
def warehouse(tmp_path):
    wh = Warehouse(tmp_path)
    yield wh
    wh.con.close()


def test_exact_duplicate_lines_count_once(warehouse):
    purchase = line(1, 10, 100, "2024-01-02", 2.0)
    warehouse.drop([purchase, purchase, purchase], [customer(1)], [product(10)])
    stats = cleaning.build_transactions(warehouse.con)
    assert stats.duplicate_rows == 2
    assert warehouse.query("SELECT items, line_count FROM transactions") == [(2.0, 1)]


def test_returns_are_netted_per_customer_product_order(warehouse):
    warehouse.drop(
        [
            line(1, 10, 100, "2024-01-02", 3.0),
            line(1, 10, 100, "2024-01-02", -1.0),  # partial return: net 2
            line(1, 11, 100, "2024-01-02", 1 / 3),
            line(1, 11, 100, "2024-01-03", -1 / 3),  # fully returned: not a purchase
            line(1, 12, 101, "2024-01-04", -2.0),  # return without purchase: not a purchase
            line(1, 12, 102, "2024-01-05", 0.0),  # zero units: not a purchase
        ],
        [customer(1)],
        [product(10), product(11), product(12)],
    )
    stats = cleaning.build_transactions(warehouse.con)
    rows = warehouse.query(
        "SELECT product_id, order_id, items, gross_items, returned_items, week_start::VARCHAR "
        "FROM transactions"
    )
    assert rows == [(10, 100, 2.0, 3.0, 1.0, "2024-01-01")]
    assert stats.return_lines == 3
    assert stats.non_purchase_orders == 3


def test_week_start_is_the_iso_monday(warehouse):
    warehouse.drop(
        [line(1, 10, 1, "2024-01-07", 1.0), line(1, 10, 2, "2024-01-08", 1.0)], [customer(1)], [product(10)]
    )
    cleaning.build_transactions(warehouse.con)
    weeks = warehouse.query("SELECT purchase_date::VARCHAR, week_start::VARCHAR FROM transactions ORDER BY 1")
    assert weeks == [("2024-01-07", "2024-01-01"), ("2024-01-08", "2024-01-08")]


def test_unknown_ids_are_kept_and_reported_as_placeholders(warehouse):
    warehouse.drop(
        [line(1, 10, 1, "2024-01-02", 1.0), line(99, 77, 2, "2024-01-02", 1.0)], [customer(1)], [product(10)]
    )
    customers = cleaning.build_customers(warehouse.con)
    products = cleaning.build_products(warehouse.con)
    cleaning.build_transactions(warehouse.con)

    assert customers["unknown_ids"] == 1 and products["unknown_ids"] == 1
    assert warehouse.query("SELECT count(*) FROM transactions") == [(2,)]
    assert warehouse.query("SELECT customer_type, is_known FROM customers WHERE customer_id = 99") == [
        ("DESCONOCIDO", False)
    ]
    assert warehouse.query("SELECT brand, is_known FROM products WHERE product_id = 77") == [(None, False)]


def test_coordinates_swapped_missing_and_impossible(warehouse):
    warehouse.drop(
        [],
        [
            customer(1, y=-46.1, x=-108.0),
            customer(2, y=-108.2, x=-46.3),  # swapped
            customer(3, y=None, x=-108.0),  # missing
            customer(4, y=-300.0, x=-200.0),  # impossible
        ],
        [product(10)],
    )
    counts = cleaning.build_customers(warehouse.con)
    rows = warehouse.query(
        "SELECT customer_id, latitude, longitude, coordinates_status FROM customers ORDER BY 1"
    )
    assert rows == [
        (1, -46.1, -108.0, "ok"),
        (2, -46.3, -108.2, "swapped"),
        (3, None, None, "missing"),
        (4, None, None, "invalid"),
    ]
    assert counts["swapped_coordinates"] == 1 and counts["missing_coordinates"] == 2


def test_newest_attributes_win_and_raw_keeps_history(warehouse):
    warehouse.drop([], [customer(1, deliveries=2), customer(2)], [product(10, segment="LOW")])
    warehouse.drop([], [customer(1, deliveries=5, customer_type="MAYORISTA")], [product(10, segment="HIGH")])
    cleaning.build_customers(warehouse.con)
    cleaning.build_products(warehouse.con)

    assert warehouse.query(
        "SELECT num_deliver_per_week, customer_type FROM customers WHERE customer_id = 1"
    ) == [(5, "MAYORISTA")]
    assert warehouse.query("SELECT count(*) FROM customers") == [(2,)]
    assert warehouse.query("SELECT segment FROM products") == [("HIGH",)]
    assert warehouse.query("SELECT count(*) FROM raw_customers WHERE customer_id = 1") == [(2,)]


def test_real_data_quirks_match_the_data_readme(warehouse, sodai_dir):
    import shutil

    for path in sodai_dir.glob("*.parquet"):
        shutil.copy(path, warehouse.landing / path.name)
    ingest_landing(warehouse.con, warehouse.landing, warehouse.quarantine)
    stats = cleaning.build_transactions(warehouse.con)
    customers = cleaning.build_customers(warehouse.con)
    products = cleaning.build_products(warehouse.con)

    assert stats.duplicate_rows == 611
    assert stats.return_lines == 6_166
    assert customers["unknown_ids"] == 0 and products["unknown_ids"] == 0
    assert customers["missing_coordinates"] == 1
    assert customers["swapped_coordinates"] >= 1
    assert warehouse.query(
        "SELECT count(DISTINCT customer_id), count(DISTINCT product_id) FROM transactions"
    ) == [(1_423, 100)]
    assert warehouse.query("SELECT count(DISTINCT week_start) FROM transactions") == [(40,)]
