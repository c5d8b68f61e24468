"""Point-in-time features for (customer, product, week) in DuckDB SQL.

`weekly_purchases` aggregates `transactions` to customer × product × ISO week. `pair_features` has one row
per candidate pair and *feature week* t (`week_start`): every feature uses only weeks ≤ t, `label` says
whether the pair was bought in week t + 1 (`target_week_start`), NULL while that week has not landed.

Candidates for week t:
- history pairs: the customer bought the product in one of the last `HISTORY_WEEKS` weeks up to t;
- discovery pairs (never bought by the customer up to t): the `DISCOVERY_TOP_K` products most bought in the
  last 8 weeks by customers of the same `customer_type`, offered to customers active in the last 4 weeks.

Every window is a `ROWS` frame over a dense pair × week (or customer × week, product × week) grid that
starts at the first purchase, so a row's features never look past its own week and rows of week t do not
change when later weeks are appended (the label of the newest week is filled in then).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

HISTORY_WEEKS = 26
DISCOVERY_TOP_K = 10

# Model inputs, in the order the model sees them.
NUMERIC_FEATURES = [
    "weeks_since_last",
    "weeks_since_first",
    "bought_w1",
    "bought_w2",
    "bought_w4",
    "bought_w8",
    "bought_w12",
    "bought_w26",
    "bought_total",
    "units_w4",
    "units_w12",
    "orders_w4",
    "mean_units",
    "mean_gap_weeks",
    "gap_ratio",
    "bought_lag1",
    "bought_lag2",
    "bought_lag3",
    "days_since_last",
    "mean_gap_days",
    "day_gap_ratio",
    "cust_days_since_last",
    "cust_order_days_per_week",
    "pair_share_w8",
    "pair_share_total",
    "cust_activity_rate",
    "cust_active_w1",
    "cust_active_w4",
    "cust_active_w12",
    "cust_weeks_since_last",
    "cust_products_w1",
    "cust_products_w4",
    "cust_units_w4",
    "cust_products_total",
    "prod_customers_w1",
    "prod_customers_w4",
    "prod_trend",
    "type_share_w8",
    "num_deliver_per_week",
    "latitude",
    "longitude",
    "size",
]
CATEGORICAL_FEATURES = [
    "customer_type",
    "brand",
    "category",
    "sub_category",
    "segment",
    "package",
    "is_discovery",
]
FEATURE_COLUMNS = NUMERIC_FEATURES + CATEGORICAL_FEATURES
KEY_COLUMNS = ["customer_id", "product_id", "week_start"]

WEEKLY_PURCHASES_SQL = """
CREATE OR REPLACE TABLE weekly_purchases AS
SELECT customer_id, product_id, week_start, sum(items) AS units, count(DISTINCT order_id) AS orders,
    count(DISTINCT purchase_date) AS purchase_days,
    min(purchase_date) AS first_purchase_date, max(purchase_date) AS last_purchase_date
FROM transactions
GROUP BY customer_id, product_id, week_start
ORDER BY week_start, customer_id, product_id
"""

PAIR_FEATURES_SQL = """
CREATE OR REPLACE TABLE pair_features AS
WITH bounds AS (
    SELECT min(week_start) AS first_week, max(week_start) AS last_week FROM weekly_purchases
), weeks AS (
    SELECT CAST(w AS DATE) AS week_start
    FROM bounds, range(bounds.first_week, bounds.last_week + INTERVAL 7 DAY, INTERVAL 7 DAY) AS t(w)
),
-- pair level: dense grid from the pair's first purchase to the newest week
pairs AS (
    SELECT customer_id, product_id, min(week_start) AS first_week FROM weekly_purchases GROUP BY ALL
), pair_grid AS (
    SELECT p.customer_id, p.product_id, w.week_start, p.first_week,
        coalesce(wp.units, 0) AS units, coalesce(wp.orders, 0) AS orders,
        coalesce(wp.purchase_days, 0) AS purchase_days, wp.first_purchase_date, wp.last_purchase_date,
        (wp.units IS NOT NULL)::INTEGER AS bought
    FROM pairs p
    JOIN weeks w ON w.week_start >= p.first_week
    LEFT JOIN weekly_purchases wp USING (customer_id, product_id, week_start)
), pair_windows AS (
    SELECT customer_id, product_id, week_start, first_week,
        max(CASE WHEN bought = 1 THEN week_start END) OVER (w ROWS UNBOUNDED PRECEDING)
            AS last_bought_week,
        max(last_purchase_date) OVER (w ROWS UNBOUNDED PRECEDING) AS last_date,
        min(first_purchase_date) OVER (w ROWS UNBOUNDED PRECEDING) AS first_date,
        sum(purchase_days) OVER (w ROWS UNBOUNDED PRECEDING) AS days_total,
        bought AS bought_w1,
        lag(bought, 1, 0) OVER w AS bought_lag1,
        lag(bought, 2, 0) OVER w AS bought_lag2,
        lag(bought, 3, 0) OVER w AS bought_lag3,
        sum(bought) OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS bought_w2,
        sum(bought) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS bought_w4,
        sum(bought) OVER (w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS bought_w8,
        sum(bought) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS bought_w12,
        sum(bought) OVER (w ROWS BETWEEN 25 PRECEDING AND CURRENT ROW) AS bought_w26,
        sum(bought) OVER (w ROWS UNBOUNDED PRECEDING) AS bought_total,
        sum(units) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS units_w4,
        sum(units) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS units_w12,
        sum(orders) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS orders_w4,
        sum(units) OVER (w ROWS UNBOUNDED PRECEDING) AS units_total,
        lead(bought) OVER (PARTITION BY customer_id, product_id ORDER BY week_start) AS label
    FROM pair_grid
    WINDOW w AS (PARTITION BY customer_id, product_id ORDER BY week_start)
), history AS (
    SELECT customer_id, product_id, week_start,
        date_diff('day', last_bought_week, week_start) // 7 AS weeks_since_last,
        date_diff('day', first_week, week_start) // 7 AS weeks_since_first,
        bought_w1, bought_lag1, bought_lag2, bought_lag3,
        bought_w2, bought_w4, bought_w8, bought_w12, bought_w26, bought_total,
        units_w4, units_w12, orders_w4,
        units_total / bought_total AS mean_units,
        date_diff('day', last_date, week_start + 6) AS days_since_last,
        CASE WHEN days_total > 1 THEN date_diff('day', first_date, last_date) / (days_total - 1) END
            AS mean_gap_days,
        CASE WHEN bought_total > 1
             THEN (date_diff('day', first_week, last_bought_week) // 7) / (bought_total - 1) END
            AS mean_gap_weeks,
        label, false AS is_discovery
    FROM pair_windows
    WHERE date_diff('day', last_bought_week, week_start) // 7 < {history_weeks}
),
-- customer level: dense grid from the customer's first purchase
customer_weeks AS (
    SELECT customer_id, week_start, count(*) AS products, sum(units) AS units,
        max(last_purchase_date) AS last_purchase_date
    FROM weekly_purchases GROUP BY ALL
), customer_days AS (
    SELECT customer_id, week_start, count(DISTINCT purchase_date) AS order_days
    FROM transactions GROUP BY ALL
), customer_new_pairs AS (
    SELECT customer_id, first_week AS week_start, count(*) AS new_products FROM pairs GROUP BY ALL
), customer_first AS (
    SELECT customer_id, min(week_start) AS first_week FROM customer_weeks GROUP BY ALL
), customer_grid AS (
    SELECT c.customer_id, w.week_start,
        coalesce(cw.products, 0) AS products, coalesce(cw.units, 0) AS units,
        (cw.products IS NOT NULL)::INTEGER AS active, coalesce(np.new_products, 0) AS new_products,
        cw.last_purchase_date, coalesce(cd.order_days, 0) AS order_days, c.first_week
    FROM customer_first c
    JOIN weeks w ON w.week_start >= c.first_week
    LEFT JOIN customer_weeks cw USING (customer_id, week_start)
    LEFT JOIN customer_new_pairs np USING (customer_id, week_start)
    LEFT JOIN customer_days cd USING (customer_id, week_start)
), customer_features AS (
    SELECT customer_id, week_start, first_week,
        active AS cust_active_w1,
        sum(active) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cust_active_w4,
        sum(active) OVER (w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS cust_active_w8,
        sum(active) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS cust_active_w12,
        sum(active) OVER (w ROWS UNBOUNDED PRECEDING) AS cust_active_total,
        date_diff('day', max(CASE WHEN active = 1 THEN week_start END) OVER (w ROWS UNBOUNDED PRECEDING),
                  week_start) // 7 AS cust_weeks_since_last,
        products AS cust_products_w1,
        sum(products) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cust_products_w4,
        sum(units) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cust_units_w4,
        sum(new_products) OVER (w ROWS UNBOUNDED PRECEDING) AS cust_products_total,
        date_diff('day', max(last_purchase_date) OVER (w ROWS UNBOUNDED PRECEDING),
                  week_start + 6) AS cust_days_since_last,
        sum(order_days) OVER (w ROWS UNBOUNDED PRECEDING)
            / (date_diff('day', first_week, week_start) // 7 + 1) AS cust_order_days_per_week
    FROM customer_grid
    WINDOW w AS (PARTITION BY customer_id ORDER BY week_start)
),
-- product level
product_weeks AS (
    SELECT product_id, week_start, count(*) AS customers FROM weekly_purchases GROUP BY ALL
), product_grid AS (
    SELECT p.product_id, w.week_start, coalesce(pw.customers, 0) AS customers
    FROM (SELECT product_id, min(week_start) AS first_week FROM product_weeks GROUP BY ALL) p
    JOIN weeks w ON w.week_start >= p.first_week
    LEFT JOIN product_weeks pw USING (product_id, week_start)
), product_features AS (
    SELECT product_id, week_start,
        customers AS prod_customers_w1,
        avg(customers) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS prod_customers_w4,
        avg(customers) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
            / (1 + avg(customers) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW)) AS prod_trend
    FROM product_grid
    WINDOW w AS (PARTITION BY product_id ORDER BY week_start)
),
-- customer-type level: share of active customers of the type who bought the product in the last 8 weeks
type_active AS (
    SELECT c.customer_type, cf.week_start, count(*) FILTER (WHERE cf.cust_active_w4 > 0) AS active_customers
    FROM customer_features cf JOIN customers c USING (customer_id)
    GROUP BY ALL
), type_buyers AS (
    SELECT c.customer_type, pw.product_id, pw.week_start,
        count(*) FILTER (WHERE pw.bought_w8 > 0) AS buyers
    FROM pair_windows pw JOIN customers c USING (customer_id)
    GROUP BY ALL
), type_share AS (
    SELECT tb.customer_type, tb.product_id, tb.week_start,
        tb.buyers / greatest(ta.active_customers, 1) AS type_share_w8
    FROM type_buyers tb JOIN type_active ta USING (customer_type, week_start)
), type_top AS (
    SELECT * FROM type_share
    QUALIFY row_number() OVER (PARTITION BY customer_type, week_start
                               ORDER BY type_share_w8 DESC, product_id) <= {discovery_top_k}
),
-- discovery candidates: top products of the customer's type that the customer never bought up to t
discovery AS (
    SELECT cf.customer_id, tt.product_id, cf.week_start, true AS is_discovery
    FROM customer_features cf
    JOIN customers c USING (customer_id)
    JOIN type_top tt ON tt.customer_type = c.customer_type AND tt.week_start = cf.week_start
    WHERE cf.cust_active_w4 > 0
      AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.customer_id = cf.customer_id
                      AND p.product_id = tt.product_id AND p.first_week <= cf.week_start)
), discovery_labelled AS (
    SELECT d.*, CASE WHEN d.week_start < (SELECT last_week FROM bounds)
                     THEN (wp.units IS NOT NULL)::INTEGER END AS label
    FROM discovery d
    LEFT JOIN weekly_purchases wp ON wp.customer_id = d.customer_id AND wp.product_id = d.product_id
        AND wp.week_start = d.week_start + INTERVAL 7 DAY
), candidates AS (
    SELECT * FROM history
    UNION ALL BY NAME
    SELECT customer_id, product_id, week_start, 0 AS bought_w1, 0 AS bought_w2, 0 AS bought_w4,
        0 AS bought_w8, 0 AS bought_w12, 0 AS bought_w26, 0 AS bought_total, 0 AS units_w4, 0 AS units_w12,
        0 AS orders_w4, 0 AS bought_lag1, 0 AS bought_lag2, 0 AS bought_lag3, label, is_discovery
    FROM discovery_labelled
)
SELECT k.customer_id, k.product_id, k.week_start,
    CAST(k.week_start + INTERVAL 7 DAY AS DATE) AS target_week_start,
    k.weeks_since_last, k.weeks_since_first,
    k.bought_w1, k.bought_w2, k.bought_w4, k.bought_w8, k.bought_w12, k.bought_w26, k.bought_total,
    k.units_w4, k.units_w12, k.orders_w4, k.mean_units, k.mean_gap_weeks,
    k.weeks_since_last / nullif(k.mean_gap_weeks, 0) AS gap_ratio,
    k.bought_lag1, k.bought_lag2, k.bought_lag3, k.days_since_last, k.mean_gap_days,
    k.days_since_last / nullif(k.mean_gap_days, 0) AS day_gap_ratio,
    cf.cust_days_since_last, cf.cust_order_days_per_week,
    k.bought_w8 / greatest(cf.cust_active_w8, 1) AS pair_share_w8,
    k.bought_total / greatest(cf.cust_active_total, 1) AS pair_share_total,
    cf.cust_active_total / (date_diff('day', cf.first_week, k.week_start) // 7 + 1) AS cust_activity_rate,
    cf.cust_active_w1, cf.cust_active_w4, cf.cust_active_w12, cf.cust_weeks_since_last,
    cf.cust_products_w1, cf.cust_products_w4, cf.cust_units_w4,
    cf.cust_products_total,
    coalesce(pf.prod_customers_w1, 0) AS prod_customers_w1,
    coalesce(pf.prod_customers_w4, 0) AS prod_customers_w4,
    coalesce(pf.prod_trend, 0) AS prod_trend,
    coalesce(ts.type_share_w8, 0) AS type_share_w8,
    c.num_deliver_per_week, c.latitude, c.longitude, p.size,
    c.customer_type, p.brand, p.category, p.sub_category, p.segment, p.package,
    CASE WHEN k.is_discovery THEN 'yes' ELSE 'no' END AS is_discovery,
    k.label::BOOLEAN AS label
FROM candidates k
JOIN customer_features cf USING (customer_id, week_start)
LEFT JOIN product_features pf USING (product_id, week_start)
LEFT JOIN customers c USING (customer_id)
LEFT JOIN products p USING (product_id)
LEFT JOIN type_share ts ON ts.customer_type = c.customer_type AND ts.product_id = k.product_id
    AND ts.week_start = k.week_start
ORDER BY k.week_start, k.customer_id, k.product_id
"""


@dataclass(frozen=True)
class FeatureStats:
    rows: int
    weeks: int
    history_rows: int
    discovery_rows: int
    newest_week: str | None


def build_weekly_purchases(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build `weekly_purchases` from `transactions`; returns its row count."""
    con.execute(WEEKLY_PURCHASES_SQL)
    return con.execute("SELECT count(*) FROM weekly_purchases").fetchone()[0]


def build_pair_features(
    con: duckdb.DuckDBPyConnection,
    history_weeks: int = HISTORY_WEEKS,
    discovery_top_k: int = DISCOVERY_TOP_K,
) -> FeatureStats:
    """(Re)build `pair_features` from `weekly_purchases`, `customers` and `products`."""
    con.execute("SET enable_progress_bar = false")
    con.execute(
        PAIR_FEATURES_SQL.format(history_weeks=int(history_weeks), discovery_top_k=int(discovery_top_k))
    )
    rows, weeks, discovery, newest = con.execute(
        "SELECT count(*), count(DISTINCT week_start), count(*) FILTER (WHERE is_discovery = 'yes'), "
        "max(week_start)::VARCHAR FROM pair_features"
    ).fetchone()
    return FeatureStats(
        rows=rows, weeks=weeks, history_rows=rows - discovery, discovery_rows=discovery, newest_week=newest
    )
