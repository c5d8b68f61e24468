"""Point-in-time features for (customer, product, week) in DuckDB SQL.

`weekly_purchases` aggregates `transactions` to customer × product × ISO week. `pair_features` has one row
per candidate pair and *feature week* t (`week_start`): every feature uses only weeks ≤ t, `label` says
whether the pair was bought in week t + 1 (`target_week_start`), NULL while that week has not landed.

Candidates for week t:
- history pairs: the customer bought the product in one of the last `HISTORY_WEEKS` weeks up to t;
- discovery pairs (never bought by the customer up to t): the `DISCOVERY_TOP_K` products most bought in the
  last 8 weeks by customers of the same `customer_type`, offered to customers active in the last 4 weeks.

Every window is over a dense pair × week (or customer × week, product × week) grid that starts at the first
purchase and ends at the row's own week, so a row's features never look past its own week and rows of week t
do not change when later weeks are appended (the label of the newest week is filled in then).

Storage: the rows are in `pair_feature_rows`; the view `pair_features` adds the customer and product
attributes and the ratios computed from a row alone (`PAIR_FEATURES_PROJECTION`). Readers use the view.

Both tables are built incrementally (`features.incremental`): one SELECT computes the rows of weeks >=
`since`, and the weekly run replaces only the weeks that changed transactions can change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import duckdb

from ovni_assets.features.incremental import EMPTY_FIRST_WEEK, BuildStats, build_table, text_hash
from ovni_assets.features.model_inputs import FEATURE_COLUMNS

HISTORY_WEEKS = 26
HISTORY_WINDOW_WEEKS = 26  # the longest window (bought_w26): how far back a feature week's rows look
DISCOVERY_TOP_K = 10

# The rows of weeks >= {since} (the first week in a full build).
WEEKLY_PURCHASES_SELECT = """
SELECT customer_id, product_id, week_start, round(sum(items), 9) AS units,
    count(DISTINCT order_id) AS orders,
    count(DISTINCT purchase_date) AS purchase_days,
    min(purchase_date) AS first_purchase_date, max(purchase_date) AS last_purchase_date
FROM transactions
WHERE week_start >= DATE '{since}'
GROUP BY customer_id, product_id, week_start
"""

# The SELECT of the stored rows (`pair_feature_rows`) of feature weeks >= {since}. A full build has
# since = the first week; a partial build (the weekly run) recomputes the weeks new data can change. Every
# window reaches at most 25 weeks back, so the pair, customer and product grids start at {grid_start} =
# since - 25 weeks (or the first week); all-history aggregates (totals, first purchase, distinct products)
# add a prefix from the weeks before it. Each grid is sorted once (one window spec per grid); the pair grid
# is expanded from the purchase weeks, which carry the pair-level constants (first purchase, prefix totals),
# so its window needs only lags. Sums of units in a GROUP BY are rounded to 9 decimals: DuckDB adds doubles
# in whatever order its threads meet them, so unrounded sums could differ in the last bits between two
# builds of the same data (and the model's histogram bins with them). Counts are cast to INTEGER: DuckDB's
# sum() gives HUGEINT, which makes joins and the table write slower. Add a pair feature: a column in
# `pair_windows`, then `history`, then the final SELECT and PAIR_FEATURES_PROJECTION (and FEATURE_COLUMNS).
PAIR_FEATURE_ROWS_SELECT = """
WITH weeks AS (
    SELECT CAST(w AS DATE) AS week_start
    FROM range(DATE '{grid_start}', DATE '{last_week}' + INTERVAL 7 DAY, INTERVAL 7 DAY) AS t(w)
), recent_purchases AS (
    SELECT * FROM weekly_purchases WHERE week_start >= DATE '{grid_start}'
),
-- all-history pairs: first week and day (discovery skips pairs bought up to t; customers count them)
pairs AS (
    SELECT customer_id, product_id, min(week_start) AS first_week, min(first_purchase_date) AS first_date
    FROM weekly_purchases GROUP BY ALL
),
-- pair level: all-history totals of the weeks before grid_start
pair_prefix AS (
    SELECT customer_id, product_id, count(*) AS bought, round(sum(units), 9) AS units,
        sum(purchase_days) AS days
    FROM weekly_purchases WHERE week_start < DATE '{grid_start}' GROUP BY ALL
),
-- each purchase week since grid_start, with the pair's running totals, spans the weeks up to the pair's next
-- purchase: expanded, they give the dense pair × week grid with the last purchase at or before each week,
-- and the windowed counts and sums are differences of running totals (lags over the grid)
pair_purchases AS (
    SELECT wp.customer_id, wp.product_id, wp.week_start, wp.last_purchase_date, p.first_week, p.first_date,
        coalesce(pp.bought, 0)::INTEGER AS prefix_bought, coalesce(pp.units, 0) AS prefix_units,
        coalesce(pp.days, 0)::INTEGER AS prefix_days,
        CAST(row_number() OVER w AS INTEGER) AS run_bought,
        sum(wp.units) OVER w AS run_units,
        CAST(sum(wp.orders) OVER w AS INTEGER) AS run_orders,
        CAST(sum(wp.purchase_days) OVER w AS INTEGER) AS run_days,
        lead(wp.week_start, 1, DATE '{last_week}' + 7) OVER w AS next_week
    FROM recent_purchases wp
    JOIN pairs p USING (customer_id, product_id)
    LEFT JOIN pair_prefix pp USING (customer_id, product_id)
    WINDOW w AS (PARTITION BY wp.customer_id, wp.product_id ORDER BY wp.week_start ROWS UNBOUNDED PRECEDING)
), pair_grid AS (
    SELECT pp.customer_id, pp.product_id, w.week_start, pp.first_week, pp.first_date,
        pp.prefix_bought, pp.prefix_units, pp.prefix_days,
        pp.week_start AS last_bought_week, pp.last_purchase_date AS last_date,
        pp.run_bought, pp.run_units, pp.run_orders, pp.run_days,
        (w.week_start = pp.week_start)::INTEGER AS bought
    FROM pair_purchases pp JOIN weeks w ON w.week_start >= pp.week_start AND w.week_start < pp.next_week
), pair_windows AS (
    SELECT customer_id, product_id, week_start, first_week, first_date, prefix_bought, prefix_units,
        prefix_days, last_bought_week, last_date, run_days, run_bought, run_units,
        bought AS bought_w1,
        lag(bought, 1, 0) OVER w AS bought_lag1,
        lag(bought, 2, 0) OVER w AS bought_lag2,
        lag(bought, 3, 0) OVER w AS bought_lag3,
        run_bought - lag(run_bought, 8, 0) OVER w AS bought_w8,
        run_bought - lag(run_bought, 12, 0) OVER w AS bought_w12,
        run_bought - lag(run_bought, 26, 0) OVER w AS bought_w26,
        run_units - lag(run_units, 4, 0) OVER w AS units_w4,
        run_units - lag(run_units, 12, 0) OVER w AS units_w12,
        run_orders - lag(run_orders, 4, 0) OVER w AS orders_w4,
        lead(bought) OVER w AS label
    FROM pair_grid
    WINDOW w AS (PARTITION BY customer_id, product_id ORDER BY week_start)
), pair_current AS (
    SELECT * FROM pair_windows WHERE week_start >= DATE '{since}'
), history AS (
    SELECT pw.customer_id, pw.product_id, pw.week_start,
        date_diff('day', pw.last_bought_week, pw.week_start) // 7 AS weeks_since_last,
        date_diff('day', pw.first_week, pw.week_start) // 7 AS weeks_since_first,
        pw.bought_w1, pw.bought_lag1, pw.bought_lag2, pw.bought_lag3,
        pw.bought_w8, pw.bought_w12, pw.bought_w26,
        pw.prefix_bought + pw.run_bought AS bought_total,
        pw.units_w4, pw.units_w12, pw.orders_w4,
        (pw.prefix_units + pw.run_units) / (pw.prefix_bought + pw.run_bought) AS mean_units,
        date_diff('day', pw.last_date, pw.week_start + 6) AS days_since_last,
        CASE WHEN pw.prefix_days + pw.run_days > 1
             THEN date_diff('day', pw.first_date, pw.last_date) / (pw.prefix_days + pw.run_days - 1)
        END AS mean_gap_days,
        CASE WHEN pw.prefix_bought + pw.run_bought > 1
             THEN (date_diff('day', pw.first_week, pw.last_bought_week) // 7)
                  / (pw.prefix_bought + pw.run_bought - 1)
        END AS mean_gap_weeks,
        pw.label, false AS is_discovery
    FROM pair_current pw
    WHERE date_diff('day', pw.last_bought_week, pw.week_start) // 7 < {history_weeks}
),
-- customer level: customers active since grid_start, dense from their first active week in the grid
customer_weeks AS (
    SELECT customer_id, week_start, count(*) AS products, round(sum(units), 9) AS units,
        max(last_purchase_date) AS last_purchase_date
    FROM recent_purchases GROUP BY ALL
), customer_days AS (
    SELECT customer_id, week_start, count(DISTINCT purchase_date) AS order_days
    FROM transactions WHERE week_start >= DATE '{grid_start}' GROUP BY ALL
), customer_prefix AS (
    SELECT customer_id, count(DISTINCT week_start) AS active_weeks,
        count(DISTINCT purchase_date) AS order_days_before
    FROM transactions WHERE week_start < DATE '{grid_start}' GROUP BY ALL
), customer_pairs AS (
    SELECT customer_id, min(first_week) AS first_week,
        count(*) FILTER (WHERE first_week < DATE '{grid_start}') AS products_before
    FROM pairs GROUP BY ALL
), customer_new_pairs AS (
    SELECT customer_id, first_week AS week_start, count(*) AS new_products
    FROM pairs WHERE first_week >= DATE '{grid_start}' GROUP BY ALL
), customer_grid AS (
    SELECT c.customer_id, w.week_start,
        coalesce(cw.products, 0) AS products, coalesce(cw.units, 0) AS units,
        (cw.products IS NOT NULL)::INTEGER AS active, coalesce(np.new_products, 0) AS new_products,
        cw.last_purchase_date, coalesce(cd.order_days, 0) AS order_days
    FROM (SELECT customer_id, min(week_start) AS grid_first FROM customer_weeks GROUP BY ALL) c
    JOIN weeks w ON w.week_start >= c.grid_first
    LEFT JOIN customer_weeks cw USING (customer_id, week_start)
    LEFT JOIN customer_new_pairs np USING (customer_id, week_start)
    LEFT JOIN customer_days cd USING (customer_id, week_start)
), customer_running AS (
    SELECT customer_id, week_start, cp.first_week,
        active AS cust_active_w1,
        sum(active) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cust_active_w4,
        sum(active) OVER (w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS cust_active_w8,
        sum(active) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS cust_active_w12,
        coalesce(pre.active_weeks, 0) + sum(active) OVER (w ROWS UNBOUNDED PRECEDING) AS cust_active_total,
        date_diff('day', max(CASE WHEN active = 1 THEN week_start END) OVER (w ROWS UNBOUNDED PRECEDING),
                  week_start) // 7 AS cust_weeks_since_last,
        products AS cust_products_w1,
        sum(products) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cust_products_w4,
        sum(units) OVER (w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cust_units_w4,
        cp.products_before + sum(new_products) OVER (w ROWS UNBOUNDED PRECEDING) AS cust_products_total,
        date_diff('day', max(last_purchase_date) OVER (w ROWS UNBOUNDED PRECEDING),
                  week_start + 6) AS cust_days_since_last,
        (coalesce(pre.order_days_before, 0) + sum(order_days) OVER (w ROWS UNBOUNDED PRECEDING))
            / (date_diff('day', cp.first_week, week_start) // 7 + 1) AS cust_order_days_per_week
    FROM customer_grid
    JOIN customer_pairs cp USING (customer_id)
    LEFT JOIN customer_prefix pre USING (customer_id)
    WINDOW w AS (PARTITION BY customer_id ORDER BY week_start)
), customer_features AS (
    SELECT * FROM customer_running WHERE week_start >= DATE '{since}'
),
-- product level: dense from the product's first week (or grid_start)
product_weeks AS (
    SELECT product_id, week_start, count(*) AS customers FROM recent_purchases GROUP BY ALL
), product_grid AS (
    SELECT p.product_id, w.week_start, coalesce(pw.customers, 0) AS customers
    FROM (SELECT product_id, min(first_week) AS first_week FROM pairs GROUP BY ALL) p
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
-- customer-type level: share of active customers of the type who bought the product in the last 8 weeks,
-- for every product someone of the type bought up to t (zero shares included: they can fill the top k)
type_active AS (
    SELECT c.customer_type, cf.week_start, count(*) AS active_customers
    FROM customer_features cf JOIN customers c USING (customer_id)
    WHERE cf.cust_active_w4 > 0
    GROUP BY ALL
), type_buyers AS (
    SELECT c.customer_type, pc.product_id, pc.week_start, count(*) AS buyers
    FROM pair_current pc JOIN customers c USING (customer_id)
    WHERE pc.bought_w8 > 0
    GROUP BY ALL
), type_products AS (
    SELECT c.customer_type, p.product_id, min(p.first_week) AS first_week
    FROM pairs p JOIN customers c USING (customer_id)
    GROUP BY ALL
), type_share AS (
    SELECT tp.customer_type, tp.product_id, w.week_start,
        coalesce(tb.buyers, 0) / greatest(coalesce(ta.active_customers, 0), 1) AS type_share_w8
    FROM type_products tp
    JOIN weeks w ON w.week_start >= tp.first_week AND w.week_start >= DATE '{since}'
    LEFT JOIN type_buyers tb USING (customer_type, product_id, week_start)
    LEFT JOIN type_active ta USING (customer_type, week_start)
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
    LEFT JOIN pairs p ON p.customer_id = cf.customer_id AND p.product_id = tt.product_id
    WHERE cf.cust_active_w4 > 0 AND (p.first_week IS NULL OR p.first_week > cf.week_start)
), discovery_labelled AS (
    SELECT d.*, CASE WHEN d.week_start < DATE '{last_week}' THEN (wp.units IS NOT NULL)::INTEGER END AS label
    FROM discovery d
    LEFT JOIN recent_purchases wp ON wp.customer_id = d.customer_id AND wp.product_id = d.product_id
        AND wp.week_start = d.week_start + 7
), candidates AS (
    SELECT * FROM history
    UNION ALL BY NAME
    SELECT customer_id, product_id, week_start, 0 AS bought_w1, 0 AS bought_w8, 0 AS bought_w12,
        0 AS bought_w26, 0 AS bought_total, 0 AS units_w4, 0 AS units_w12, 0 AS orders_w4,
        0 AS bought_lag1, 0 AS bought_lag2, 0 AS bought_lag3, label, is_discovery
    FROM discovery_labelled
)
SELECT k.customer_id, k.product_id, k.week_start,
    k.weeks_since_last::INTEGER AS weeks_since_last, k.weeks_since_first::INTEGER AS weeks_since_first,
    k.bought_w1::INTEGER AS bought_w1, k.bought_w8::INTEGER AS bought_w8, k.bought_w12::INTEGER AS bought_w12,
    k.bought_w26::INTEGER AS bought_w26, k.bought_total::INTEGER AS bought_total,
    k.units_w4, k.units_w12, k.orders_w4::INTEGER AS orders_w4, k.mean_units, k.mean_gap_weeks,
    k.bought_lag1::INTEGER AS bought_lag1, k.bought_lag2::INTEGER AS bought_lag2,
    k.bought_lag3::INTEGER AS bought_lag3, k.days_since_last::INTEGER AS days_since_last, k.mean_gap_days,
    cf.cust_days_since_last::INTEGER AS cust_days_since_last, cf.cust_order_days_per_week,
    k.bought_w8 / greatest(cf.cust_active_w8, 1) AS pair_share_w8,
    k.bought_total / greatest(cf.cust_active_total, 1) AS pair_share_total,
    cf.cust_active_total / (date_diff('day', cf.first_week, k.week_start) // 7 + 1) AS cust_activity_rate,
    cf.cust_active_w1::INTEGER AS cust_active_w1, cf.cust_active_w4::INTEGER AS cust_active_w4,
    cf.cust_active_w12::INTEGER AS cust_active_w12,
    cf.cust_weeks_since_last::INTEGER AS cust_weeks_since_last,
    cf.cust_products_w1::INTEGER AS cust_products_w1, cf.cust_products_w4::INTEGER AS cust_products_w4,
    cf.cust_units_w4, cf.cust_products_total::INTEGER AS cust_products_total,
    coalesce(pf.prod_customers_w1, 0)::INTEGER AS prod_customers_w1,
    coalesce(pf.prod_customers_w4, 0) AS prod_customers_w4,
    coalesce(pf.prod_trend, 0) AS prod_trend,
    coalesce(ts.type_share_w8, 0) AS type_share_w8,
    k.is_discovery,
    k.label::BOOLEAN AS label
FROM candidates k
JOIN customer_features cf USING (customer_id, week_start)
LEFT JOIN product_features pf USING (product_id, week_start)
LEFT JOIN customers c USING (customer_id)
LEFT JOIN type_share ts ON ts.customer_type = c.customer_type AND ts.product_id = k.product_id
    AND ts.week_start = k.week_start
"""


# `pair_features` as readers see it: the stored rows ({rows}) with the columns computed from a row alone and
# the customer and product attributes. They are joined here rather than stored because writing them on every
# row makes the build's table write much slower, while a reader pays for them only on the rows it reads
# (filters on the keys reach the stored table).
PAIR_FEATURES_PROJECTION = """
SELECT r.customer_id, r.product_id, r.week_start,
    CAST(r.week_start + INTERVAL 7 DAY AS DATE) AS target_week_start,
    r.weeks_since_last, r.weeks_since_first, r.bought_w1,
    r.bought_w1 + r.bought_lag1 AS bought_w2,
    r.bought_w1 + r.bought_lag1 + r.bought_lag2 + r.bought_lag3 AS bought_w4,
    r.bought_w8, r.bought_w12, r.bought_w26, r.bought_total, r.units_w4, r.units_w12, r.orders_w4,
    r.mean_units, r.mean_gap_weeks,
    r.weeks_since_last / nullif(r.mean_gap_weeks, 0) AS gap_ratio,
    r.bought_lag1, r.bought_lag2, r.bought_lag3, r.days_since_last, r.mean_gap_days,
    r.days_since_last / nullif(r.mean_gap_days, 0) AS day_gap_ratio,
    r.cust_days_since_last, r.cust_order_days_per_week, r.pair_share_w8, r.pair_share_total,
    r.cust_activity_rate, r.cust_active_w1, r.cust_active_w4, r.cust_active_w12, r.cust_weeks_since_last,
    r.cust_products_w1, r.cust_products_w4, r.cust_units_w4, r.cust_products_total,
    r.prod_customers_w1, r.prod_customers_w4, r.prod_trend, r.type_share_w8,
    c.num_deliver_per_week::INTEGER AS num_deliver_per_week, c.latitude, c.longitude, p.size,
    c.customer_type, p.brand, p.category, p.sub_category, p.segment, p.package,
    CASE WHEN r.is_discovery THEN 'yes' ELSE 'no' END AS is_discovery,
    r.label
FROM {rows} r
LEFT JOIN customers c USING (customer_id)
LEFT JOIN products p USING (product_id)
"""
ROWS_TABLE = "pair_feature_rows"
PAIR_FEATURES_VIEW = "CREATE OR REPLACE VIEW pair_features AS " + PAIR_FEATURES_PROJECTION.format(
    rows=ROWS_TABLE
)


@dataclass(frozen=True)
class PairFeatureStats(BuildStats):
    """A pair features build, with how many of the rows are history and discovery candidates."""

    history_rows: int
    discovery_rows: int


def _week_bounds(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    first, last = con.execute("SELECT min(week_start), max(week_start) FROM weekly_purchases").fetchall()[0]
    return first, last


def pair_feature_rows_select(
    con: duckdb.DuckDBPyConnection,
    since: date | None = None,
    history_weeks: int = HISTORY_WEEKS,
    discovery_top_k: int = DISCOVERY_TOP_K,
) -> str:
    """The SELECT of the stored `pair_feature_rows` of feature weeks >= `since` (all weeks when None)."""
    first, last = _week_bounds(con)
    if first is None:  # no purchases: an empty table of the right shape
        first = last = EMPTY_FIRST_WEEK
    since = max(since or first, first)
    reach = max(HISTORY_WINDOW_WEEKS, int(history_weeks))  # windows and the candidate rule look back
    grid_start = max(first, since - timedelta(weeks=reach - 1))
    return PAIR_FEATURE_ROWS_SELECT.format(
        since=since,
        grid_start=grid_start,
        last_week=last,
        history_weeks=int(history_weeks),
        discovery_top_k=int(discovery_top_k),
    )


def pair_features_select(
    con: duckdb.DuckDBPyConnection,
    since: date | None = None,
    history_weeks: int = HISTORY_WEEKS,
    discovery_top_k: int = DISCOVERY_TOP_K,
) -> str:
    """The rows the `pair_features` view shows for feature weeks >= `since`, computed from scratch."""
    rows = pair_feature_rows_select(con, since, history_weeks, discovery_top_k)
    return PAIR_FEATURES_PROJECTION.format(rows=f"({rows})")


def definition_hash(history_weeks: int = HISTORY_WEEKS, discovery_top_k: int = DISCOVERY_TOP_K) -> str:
    """Changes whenever the feature SQL, its parameters or the feature list change (forces a full build)."""
    return text_hash(
        WEEKLY_PURCHASES_SELECT,
        PAIR_FEATURE_ROWS_SELECT,
        PAIR_FEATURES_PROJECTION,
        str(history_weeks),
        str(discovery_top_k),
        *FEATURE_COLUMNS,
    )


def build_weekly_purchases(con: duckdb.DuckDBPyConnection, incremental: bool = False) -> BuildStats:
    """Build `weekly_purchases` from `transactions`: in full, or (`incremental`) only the weeks whose
    transactions changed since the last build, replaced in one transaction."""
    first = con.execute("SELECT min(week_start) FROM transactions").fetchall()[0][0]
    return build_table(
        con,
        "weekly_purchases",
        text_hash(WEEKLY_PURCHASES_SELECT),
        WEEKLY_PURCHASES_SELECT.format,
        first,
        incremental=incremental,
        label_lag_weeks=0,
        master_data=False,
    )


def build_pair_features(
    con: duckdb.DuckDBPyConnection,
    history_weeks: int = HISTORY_WEEKS,
    discovery_top_k: int = DISCOVERY_TOP_K,
    incremental: bool = False,
) -> PairFeatureStats:
    """Build `pair_features` from `weekly_purchases`, `transactions`, `customers` and `products`: the rows
    are stored in `pair_feature_rows`, the `pair_features` view adds the attributes and row-level ratios.

    Full build by default. With `incremental`, only the feature weeks that changed transactions can change
    are replaced (from the week before the oldest changed week: its label changes), in one transaction;
    a full build when the table or its recorded state is missing, customers or products changed, or the
    feature definition changed. Both paths run the same SELECT, so they give the same table.
    """
    con.execute("SET enable_progress_bar = false")
    first, _ = _week_bounds(con)
    stats = build_table(
        con,
        ROWS_TABLE,
        definition_hash(history_weeks, discovery_top_k),
        lambda since: pair_feature_rows_select(con, since, history_weeks, discovery_top_k),
        first,
        incremental=incremental,
        label_lag_weeks=1,
        also=[PAIR_FEATURES_VIEW],
    )
    discovery = con.execute(f"SELECT count(*) FROM {ROWS_TABLE} WHERE is_discovery").fetchall()[0][0]
    return PairFeatureStats(**asdict(stats), history_rows=stats.rows - discovery, discovery_rows=discovery)
