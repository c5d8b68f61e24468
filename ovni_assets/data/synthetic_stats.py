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


def dataset_statistics(folder: Path) -> dict[str, float]:
    """Named shape statistics of the three tables in `folder` (see the module docstring)."""
    con = duckdb.connect()
    try:
        _load(con, Path(folder))
        stats: dict[str, float] = {}
        n_weeks = _scalar(con, "SELECT count(*) FROM weeks")
        stats["weeks"] = n_weeks
        stats["customers"] = _scalar(con, "SELECT count(*) FROM clients")
        for name, share in con.execute(
            "SELECT customer_type, count(*) / sum(count(*)) OVER () FROM clients GROUP BY 1"
        ).fetchall():
            stats[f"customer_type_share[{name}]"] = share
        for deliveries, share in con.execute(
            "SELECT num_deliver_per_week, count(*) / sum(count(*)) OVER () FROM clients GROUP BY 1"
        ).fetchall():
            stats[f"deliveries_share[{deliveries}]"] = share
        stats["coordinates_missing"] = _scalar(
            con, 'SELECT count(*) FROM clients WHERE "X" IS NULL OR "Y" IS NULL'
        )
        stats["coordinates_swapped"] = _scalar(con, 'SELECT count(*) FROM clients WHERE "Y" < -90')
        stats["catalogue_products"] = _scalar(con, "SELECT count(*) FROM catalogue")
        stats["catalogue_brands"] = _scalar(con, "SELECT count(DISTINCT brand) FROM catalogue")
        stats["catalogue_sizes"] = _scalar(con, "SELECT count(DISTINCT size) FROM catalogue")
        stats["sold_products"] = _scalar(con, "SELECT count(DISTINCT product_id) FROM lines")
        stats["sold_share_premium"] = _scalar(
            con,
            "SELECT avg((segment = 'PREMIUM')::INT) FROM catalogue "
            "WHERE product_id IN (SELECT product_id FROM lines)",
        )
        buying = _scalar(con, "SELECT count(DISTINCT customer_id) FROM lines")
        stats["never_buying_share"] = _scalar(
            con, "SELECT avg((customer_id NOT IN (SELECT customer_id FROM lines))::INT) FROM clients"
        )
        stats["active_week_share"] = _scalar(con, "SELECT count(*) FROM customer_weeks") / (buying * n_weeks)
        stats["active_next_week_given_active"] = _scalar(
            con,
            """SELECT avg((n.customer_id IS NOT NULL)::INT) FROM customer_weeks c
            LEFT JOIN customer_weeks n ON n.customer_id = c.customer_id AND n.week = c.week + INTERVAL 7 DAY
            WHERE c.week < (SELECT max(week) FROM weeks)""",
        )
        stats["orders_per_active_week"] = _scalar(con, "SELECT avg(orders) FROM customer_weeks")
        stats["lines_per_order"] = _scalar(con, "SELECT count(*) / count(DISTINCT order_id) FROM raw_lines")
        stats["products_per_buying_customer"] = _scalar(
            con,
            "SELECT avg(n) FROM (SELECT customer_id, count(DISTINCT product_id) AS n "
            "FROM purchases GROUP BY 1)",
        )
        ever_bought = _scalar(con, "SELECT count(DISTINCT (customer_id, product_id)) FROM purchases")
        pair_weeks = _scalar(con, "SELECT count(*) FROM purchases")
        stats["pairs_bought_in_one_week_share"] = _scalar(
            con,
            "SELECT avg((n = 1)::INT) FROM (SELECT count(*) AS n FROM purchases "
            "GROUP BY customer_id, product_id)",
        )
        stats["positive_rate_ever_bought_pairs"] = pair_weeks / (ever_bought * n_weeks)
        stats["positive_rate_grid"] = pair_weeks / (buying * stats["sold_products"] * n_weeks)
        stats["pair_bought_again_next_active_week"] = _scalar(
            con,
            """SELECT avg((b.customer_id IS NOT NULL)::INT) FROM purchases p
            JOIN customer_weeks n ON n.customer_id = p.customer_id AND n.week = p.week + INTERVAL 7 DAY
            LEFT JOIN purchases b ON b.customer_id = p.customer_id AND b.product_id = p.product_id
                AND b.week = n.week""",
        )
        stats["new_pair_share_last_8_weeks"] = _scalar(
            con,
            f"""WITH first AS (
                SELECT customer_id, product_id, min(week) AS first_week FROM purchases GROUP BY ALL)
            SELECT avg((p.week = f.first_week)::INT)
            FROM purchases p JOIN first f USING (customer_id, product_id)
            WHERE p.week IN (SELECT week FROM weeks ORDER BY week DESC LIMIT {RULE_TARGET_WEEKS})""",
        )
        stats["return_line_share"] = _scalar(con, "SELECT avg((items < 0)::INT) FROM raw_lines")
        stats["returns_with_purchase_in_same_order_share"] = _scalar(
            con,
            """SELECT avg((EXISTS (SELECT 1 FROM raw_lines p WHERE p.order_id = r.order_id
                AND p.product_id = r.product_id AND p.items > 0))::INT) FROM raw_lines r WHERE r.items < 0""",
        )
        stats["return_of_at_most_one_unit_share"] = _scalar(
            con, "SELECT avg((items >= -1)::INT) FROM raw_lines WHERE items < 0"
        )
        stats["duplicate_line_share"] = 1 - _scalar(con, "SELECT count(*) FROM lines") / _scalar(
            con, "SELECT count(*) FROM raw_lines"
        )
        stats["lines_in_thirds_share"] = _scalar(
            con, "SELECT avg((abs(items * 3 - round(items * 3)) < 1e-6)::INT) FROM raw_lines"
        )
        stats["fractional_line_share"] = _scalar(
            con, "SELECT avg((abs(items - round(items)) > 1e-6)::INT) FROM raw_lines"
        )
        stats["median_units_per_purchase_line"] = _scalar(
            con, "SELECT median(items) FROM raw_lines WHERE items > 0"
        )
        stats["mean_units_per_purchase_line"] = _scalar(
            con, "SELECT avg(items) FROM raw_lines WHERE items > 0"
        )
        stats["weekly_lines_cv"] = _scalar(
            con,
            "SELECT stddev_pop(n) / avg(n) FROM (SELECT date_trunc('week', day) AS w, count(*) AS n "
            "FROM raw_lines GROUP BY 1)",
        )
        stats["sunday_line_share"] = _scalar(con, "SELECT avg((dayofweek(day) = 0)::INT) FROM raw_lines")
        stats["rule_f1_bought_last_week"] = rule_f1(con, 1, 1)
        stats["rule_f1_3_of_last_8_weeks"] = rule_f1(con, 3, 8)
        return stats
    finally:
        con.close()
