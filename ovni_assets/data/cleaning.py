"""Raw tables → clean tables `customers`, `products`, `transactions`, rebuilt in DuckDB SQL.

Rules (README "Cleaning rules" says the same for users):
- Exact duplicate transaction lines (same customer, product, order, date and items) count once.
- Returns: lines are netted per (customer, product, order). A net of zero or less is not a purchase and
  is left out of `transactions` (the raw lines stay in `raw_transactions`).
- Unknown ids: a transaction whose customer or product is not in the master data is kept; a placeholder
  row (`is_known = false`) is added to `customers`/`products` so referential integrity holds and the
  count is reported.
- Coordinates: a latitude outside [-90, 90] whose longitude would be a valid latitude is swapped back;
  missing or impossible coordinates become NULL. `coordinates_status` says which rule applied.
- Newest attributes win: for each id, the row of the most recently ingested file (last row in that file).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

CUSTOMERS_SQL = """
CREATE OR REPLACE TABLE customers AS
WITH newest AS (
    SELECT * FROM raw_customers
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY ingested_at DESC, source_row DESC) = 1
), located AS (
    SELECT *,
        CASE
            WHEN "Y" IS NULL OR "X" IS NULL THEN 'missing'
            WHEN "Y" BETWEEN -90 AND 90 AND "X" BETWEEN -180 AND 180 THEN 'ok'
            WHEN "X" BETWEEN -90 AND 90 AND "Y" BETWEEN -180 AND 180 THEN 'swapped'
            ELSE 'invalid'
        END AS coordinates_status
    FROM newest
), known AS (
    SELECT customer_id, region_id, zone_id,
        coalesce(nullif(trim(customer_type), ''), 'DESCONOCIDO') AS customer_type,
        CASE coordinates_status WHEN 'ok' THEN "Y" WHEN 'swapped' THEN "X" END AS latitude,
        CASE coordinates_status WHEN 'ok' THEN "X" WHEN 'swapped' THEN "Y" END AS longitude,
        coordinates_status,
        num_deliver_per_week, num_visit_per_week,
        true AS is_known, batch_id, ingested_at
    FROM located
), unknown AS (
    SELECT DISTINCT t.customer_id FROM raw_transactions t ANTI JOIN known k USING (customer_id)
)
SELECT * FROM known
UNION ALL BY NAME
SELECT customer_id, 'DESCONOCIDO' AS customer_type, 'missing' AS coordinates_status, false AS is_known
FROM unknown
ORDER BY customer_id
"""

PRODUCTS_SQL = """
CREATE OR REPLACE TABLE products AS
WITH known AS (
    SELECT product_id, brand, category, sub_category, segment, package, size,
        true AS is_known, batch_id, ingested_at
    FROM raw_products
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY ingested_at DESC, source_row DESC) = 1
), unknown AS (
    SELECT DISTINCT t.product_id FROM raw_transactions t ANTI JOIN known k USING (product_id)
)
SELECT * FROM known
UNION ALL BY NAME
SELECT product_id, false AS is_known FROM unknown
ORDER BY product_id
"""

TRANSACTIONS_SQL = """
CREATE OR REPLACE TABLE transactions AS
WITH lines AS (
    SELECT DISTINCT customer_id, product_id, order_id, purchase_date::DATE AS purchase_date, items
    FROM raw_transactions
), netted AS (
    SELECT customer_id, product_id, order_id,
        min(purchase_date) AS purchase_date,
        round(sum(items), 9) AS items,  -- rounded: a sum of doubles depends on the order threads add them
        round(coalesce(sum(items) FILTER (WHERE items > 0), 0), 9) AS gross_items,
        round(coalesce(-sum(items) FILTER (WHERE items < 0), 0), 9) AS returned_items,
        count(*) AS line_count
    FROM lines
    GROUP BY customer_id, product_id, order_id
)
SELECT customer_id, product_id, order_id, purchase_date,
    date_trunc('week', purchase_date)::DATE AS week_start,
    items, gross_items, returned_items, line_count
FROM netted
WHERE items > 0
ORDER BY purchase_date, customer_id, product_id, order_id
"""


@dataclass(frozen=True)
class CleaningStats:
    raw_rows: int
    duplicate_rows: int
    return_lines: int
    non_purchase_orders: int  # (customer, product, order) whose net units are <= 0
    rows: int


def build_customers(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    con.execute(CUSTOMERS_SQL)
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT is_known), "
        "count(*) FILTER (WHERE coordinates_status = 'swapped'), "
        "count(*) FILTER (WHERE coordinates_status IN ('missing', 'invalid') AND is_known) FROM customers"
    ).fetchone()
    return dict(
        zip(["rows", "unknown_ids", "swapped_coordinates", "missing_coordinates"], counts, strict=True)
    )


def build_products(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    con.execute(PRODUCTS_SQL)
    counts = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT is_known) FROM products").fetchone()
    return dict(zip(["rows", "unknown_ids"], counts, strict=True))


def build_transactions(con: duckdb.DuckDBPyConnection) -> CleaningStats:
    raw_rows, distinct_rows, return_lines = con.execute(
        """SELECT (SELECT count(*) FROM raw_transactions),
                  (SELECT count(*) FROM (SELECT DISTINCT customer_id, product_id, order_id,
                                          purchase_date::DATE, items FROM raw_transactions)),
                  (SELECT count(*) FROM raw_transactions WHERE items < 0)"""
    ).fetchone()
    con.execute(TRANSACTIONS_SQL)
    orders = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT customer_id, product_id, order_id FROM raw_transactions)"
    ).fetchone()[0]
    rows = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
    return CleaningStats(
        raw_rows=raw_rows,
        duplicate_rows=raw_rows - distinct_rows,
        return_lines=return_lines,
        non_purchase_orders=orders - rows,
        rows=rows,
    )
