"""The shape statistics of a SodAI-style dataset, computed the same way for real and synthetic data.

`dataset_statistics(folder)` reads `transacciones.parquet`, `clientes.parquet` and `productos.parquet` from a
folder with DuckDB and returns named numbers; the calibration test and `docs/synthetic-data.md` compare
them between `../shared/data/sodai` and generated data. A purchase is a (customer, product, ISO week) with
a positive net of units in some order, after exact duplicate lines are dropped (the cleaning policy).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

RULE_TARGET_WEEKS = 8  # the "≥ 3 of the last 8 weeks" rule is scored on the last 8 weeks of the data


def _load(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    def source(name: str) -> str:
        return "read_parquet('" + str(folder / f"{name}.parquet").replace("'", "''") + "')"

    con.execute(
        f"""CREATE TEMP TABLE raw_lines AS
        SELECT customer_id, product_id, order_id, purchase_date::DATE AS day, items
        FROM {source("transacciones")}"""
    )
    con.execute(f"CREATE TEMP TABLE clients AS SELECT * FROM {source('clientes')}")
    con.execute(f"CREATE TEMP TABLE catalogue AS SELECT * FROM {source('productos')}")
    con.execute("CREATE TEMP TABLE lines AS SELECT DISTINCT * FROM raw_lines")
    con.execute(
        """CREATE TEMP TABLE purchases AS
        SELECT DISTINCT customer_id, product_id, date_trunc('week', day)::DATE AS week
        FROM (SELECT customer_id, product_id, order_id, min(day) AS day FROM lines
              GROUP BY ALL HAVING sum(items) > 0)"""
    )
    con.execute(
        """CREATE TEMP TABLE customer_weeks AS
        SELECT customer_id, week, count(DISTINCT order_id) AS orders
        FROM (SELECT customer_id, order_id, date_trunc('week', day)::DATE AS week FROM lines) GROUP BY ALL"""
    )
    con.execute("CREATE TEMP TABLE weeks AS SELECT DISTINCT week FROM purchases")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    value = con.execute(sql).fetchone()[0]
    return float(value) if value is not None else float("nan")


def rule_f1(con: duckdb.DuckDBPyConnection, min_weeks: int, window: int) -> float:
    """Mean F1 over the last RULE_TARGET_WEEKS weeks of "bought in ≥ min_weeks of the last `window` weeks"."""
    return _scalar(
        con,
        f"""WITH targets AS (SELECT week FROM weeks ORDER BY week DESC LIMIT {RULE_TARGET_WEEKS}),
        predicted AS (
            SELECT t.week, p.customer_id, p.product_id FROM targets t JOIN purchases p
              ON p.week < t.week AND p.week >= t.week - INTERVAL {7 * window} DAY
            GROUP BY ALL HAVING count(*) >= {min_weeks}),
        actual AS (SELECT t.week, p.customer_id, p.product_id FROM targets t JOIN purchases p USING (week)),
        scored AS (
            SELECT week,
                count(*) FILTER (WHERE a.customer_id IS NOT NULL AND p.customer_id IS NOT NULL) AS hits,
                count(p.customer_id) AS predicted, count(a.customer_id) AS actual
            FROM predicted p FULL JOIN actual a USING (week, customer_id, product_id) GROUP BY week)
        SELECT avg(2 * hits / nullif(predicted + actual, 0)) FROM scored""",
    )


# Statistics that are one query each, by the part of the data they describe.
_CUSTOMER_QUERIES = {
    "customers": "SELECT count(*) FROM clients",
    "coordinates_missing": 'SELECT count(*) FROM clients WHERE "X" IS NULL OR "Y" IS NULL',
    "coordinates_swapped": 'SELECT count(*) FROM clients WHERE "Y" < -90',
}
_CATALOGUE_QUERIES = {
    "catalogue_products": "SELECT count(*) FROM catalogue",
    "catalogue_brands": "SELECT count(DISTINCT brand) FROM catalogue",
    "catalogue_sizes": "SELECT count(DISTINCT size) FROM catalogue",
    "sold_products": "SELECT count(DISTINCT product_id) FROM lines",
    "sold_share_premium": "SELECT avg((segment = 'PREMIUM')::INT) FROM catalogue "
    "WHERE product_id IN (SELECT product_id FROM lines)",
}
_ACTIVITY_QUERIES = {
    "never_buying_share": "SELECT avg((customer_id NOT IN (SELECT customer_id FROM lines))::INT) "
    "FROM clients",
    "active_next_week_given_active": """SELECT avg((n.customer_id IS NOT NULL)::INT) FROM customer_weeks c
        LEFT JOIN customer_weeks n ON n.customer_id = c.customer_id AND n.week = c.week + INTERVAL 7 DAY
        WHERE c.week < (SELECT max(week) FROM weeks)""",
    "orders_per_active_week": "SELECT avg(orders) FROM customer_weeks",
    "lines_per_order": "SELECT count(*) / count(DISTINCT order_id) FROM raw_lines",
}
_PAIR_QUERIES = {
    "products_per_buying_customer": "SELECT avg(n) FROM (SELECT customer_id, count(DISTINCT product_id) AS n "
    "FROM purchases GROUP BY 1)",
    "pairs_bought_in_one_week_share": "SELECT avg((n = 1)::INT) FROM (SELECT count(*) AS n FROM purchases "
    "GROUP BY customer_id, product_id)",
    "pair_bought_again_next_active_week": """SELECT avg((b.customer_id IS NOT NULL)::INT) FROM purchases p
        JOIN customer_weeks n ON n.customer_id = p.customer_id AND n.week = p.week + INTERVAL 7 DAY
        LEFT JOIN purchases b ON b.customer_id = p.customer_id AND b.product_id = p.product_id
            AND b.week = n.week""",
    "new_pair_share_last_8_weeks": f"""WITH first AS (
            SELECT customer_id, product_id, min(week) AS first_week FROM purchases GROUP BY ALL)
        SELECT avg((p.week = f.first_week)::INT)
        FROM purchases p JOIN first f USING (customer_id, product_id)
        WHERE p.week IN (SELECT week FROM weeks ORDER BY week DESC LIMIT {RULE_TARGET_WEEKS})""",
}
_LINE_QUERIES = {
    "return_line_share": "SELECT avg((items < 0)::INT) FROM raw_lines",
    "returns_with_purchase_in_same_order_share": """SELECT avg((EXISTS (SELECT 1 FROM raw_lines p
        WHERE p.order_id = r.order_id AND p.product_id = r.product_id AND p.items > 0))::INT)
        FROM raw_lines r WHERE r.items < 0""",
    "return_of_at_most_one_unit_share": "SELECT avg((items >= -1)::INT) FROM raw_lines WHERE items < 0",
    "lines_in_thirds_share": "SELECT avg((abs(items * 3 - round(items * 3)) < 1e-6)::INT) FROM raw_lines",
    "fractional_line_share": "SELECT avg((abs(items - round(items)) > 1e-6)::INT) FROM raw_lines",
    "median_units_per_purchase_line": "SELECT median(items) FROM raw_lines WHERE items > 0",
    "mean_units_per_purchase_line": "SELECT avg(items) FROM raw_lines WHERE items > 0",
    "weekly_lines_cv": "SELECT stddev_pop(n) / avg(n) FROM "
    "(SELECT date_trunc('week', day) AS w, count(*) AS n FROM raw_lines GROUP BY 1)",
    "sunday_line_share": "SELECT avg((dayofweek(day) = 0)::INT) FROM raw_lines",
}


def _scalars(con: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> dict[str, float]:
    return {name: _scalar(con, sql) for name, sql in queries.items()}


def _client_shares(con: duckdb.DuckDBPyConnection, column: str, name: str) -> dict[str, float]:
    """The share of customers with each value of `column`, as `name[value]`."""
    rows = con.execute(
        f"SELECT {column}, count(*) / sum(count(*)) OVER () FROM clients GROUP BY 1"
    ).fetchall()
    return {f"{name}[{value}]": share for value, share in rows}


def _customer_statistics(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return {
        **_scalars(con, _CUSTOMER_QUERIES),
        **_client_shares(con, "customer_type", "customer_type_share"),
        **_client_shares(con, "num_deliver_per_week", "deliveries_share"),
    }


def _pair_statistics(
    con: duckdb.DuckDBPyConnection, buying: float, n_weeks: float, sold_products: float
) -> dict[str, float]:
    """How often pairs are bought: per ever-bought pair and per cell of the buying customer × sold product
    grid, besides the single-query statistics."""
    ever_bought = _scalar(con, "SELECT count(DISTINCT (customer_id, product_id)) FROM purchases")
    pair_weeks = _scalar(con, "SELECT count(*) FROM purchases")
    return {
        **_scalars(con, _PAIR_QUERIES),
        "positive_rate_ever_bought_pairs": pair_weeks / (ever_bought * n_weeks),
        "positive_rate_grid": pair_weeks / (buying * sold_products * n_weeks),
    }


def dataset_statistics(folder: Path) -> dict[str, float]:
    """Named shape statistics of the three tables in `folder` (see the module docstring)."""
    con = duckdb.connect()
    try:
        _load(con, Path(folder))
        n_weeks = _scalar(con, "SELECT count(*) FROM weeks")
        buying = _scalar(con, "SELECT count(DISTINCT customer_id) FROM lines")
        stats = {"weeks": n_weeks, **_customer_statistics(con), **_scalars(con, _CATALOGUE_QUERIES)}
        stats |= _scalars(con, _ACTIVITY_QUERIES)
        stats["active_week_share"] = _scalar(con, "SELECT count(*) FROM customer_weeks") / (buying * n_weeks)
        stats |= _pair_statistics(con, buying, n_weeks, stats["sold_products"])
        stats |= _scalars(con, _LINE_QUERIES)
        stats["duplicate_line_share"] = 1 - _scalar(con, "SELECT count(*) FROM lines") / _scalar(
            con, "SELECT count(*) FROM raw_lines"
        )
        stats["rule_f1_bought_last_week"] = rule_f1(con, 1, 1)
        stats["rule_f1_3_of_last_8_weeks"] = rule_f1(con, 3, 8)
        return stats
    finally:
        con.close()
