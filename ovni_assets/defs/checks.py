"""Asset checks. Raw and clean tables: row counts, key uniqueness, referential integrity, date range.
Features, predictions and the model: every active customer has candidates and predictions, features are
present where they are defined, probabilities are probabilities, the model beats the simple rule. The
served snapshot: its week is still the current one (read from serving.duckdb, never the warehouse)."""

from datetime import date, timedelta

import dagster as dg
import duckdb

from ovni_assets.backtest import RULE_MIN_WEEKS
from ovni_assets.cycle.facts import pipeline_target_week
from ovni_assets.data.ingestion import EARLIEST_PLAUSIBLE_DATE
from ovni_assets.data.schema import SOURCE_TABLES
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.keys import SERVED_WEEK_CHECK, SNAPSHOT_ASSET
from ovni_assets.model.metrics import f1_from_counts
from ovni_assets.model.rows import actual_purchases
from ovni_assets.monitoring.alerts import send_alert, stale_data_alert
from ovni_assets.monitoring.freshness import freshness_for, where_the_delay_is
from ovni_assets.prediction.snapshot import published_target_week
from ovni_assets.settings import OvniSettings
from ovni_assets.warehouse import table_exists

# Features that are undefined for some rows, and for which rows: discovery pairs were never bought (no
# last purchase, no units); a gap needs two purchases; coordinates are NULL when missing or impossible.
UNDEFINED_FOR_DISCOVERY = ["weeks_since_last", "weeks_since_first", "mean_units", "days_since_last"]
UNDEFINED_WITHOUT_TWO_PURCHASES = ["mean_gap_weeks", "gap_ratio", "mean_gap_days", "day_gap_ratio"]
UNDEFINED_WITHOUT_COORDINATES = ["latitude", "longitude"]
ALWAYS_DEFINED = [
    c
    for c in FEATURE_COLUMNS
    if c not in UNDEFINED_FOR_DISCOVERY + UNDEFINED_WITHOUT_TWO_PURCHASES + UNDEFINED_WITHOUT_COORDINATES
]
ACTIVE_WEEKS = 4  # a customer is active in week t when it bought in t-3..t (it then gets candidates)


def _raw_rows_match_registry(kind: str) -> dg.AssetChecksDefinition:
    table = SOURCE_TABLES[kind].raw_table

    @dg.asset_check(
        asset=table,
        name="rows_match_ingested_files",
        description=f"`{table}` holds exactly the rows of the files recorded in `ingested_files`, and some.",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            actual, expected, files = con.execute(
                f"SELECT (SELECT count(*) FROM {table}), "
                f"(SELECT coalesce(sum(row_count), 0) FROM ingested_files WHERE kind = ?), "
                f"(SELECT count(*) FROM ingested_files WHERE kind = ?)",
                [kind, kind],
            ).fetchone()
        return dg.AssetCheckResult(
            passed=bool(actual == expected and actual > 0),
            metadata={"rows": int(actual), "rows_in_registry": int(expected), "files": int(files)},
        )

    return check


def _unique_key(asset: str, columns: list[str]) -> dg.AssetChecksDefinition:
    key = ", ".join(columns)

    @dg.asset_check(asset=asset, name="key_unique", description=f"({key}) identifies one row of `{asset}`.")
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            rows, duplicated = con.execute(
                f"SELECT (SELECT count(*) FROM {asset}), "
                f"(SELECT count(*) FROM (SELECT {key} FROM {asset} GROUP BY {key} HAVING count(*) > 1))"
            ).fetchone()
        return dg.AssetCheckResult(
            passed=bool(duplicated == 0 and rows > 0),
            metadata={"rows": int(rows), "duplicated_keys": int(duplicated), "key": key},
        )

    return check


@dg.asset_check(
    asset="raw_transactions",
    name="purchase_dates_plausible",
    description=f"Every purchase date lies between {EARLIEST_PLAUSIBLE_DATE} and a year from now.",
)
def raw_transactions_date_range(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        low, high, bad = con.execute(
            f"SELECT min(purchase_date), max(purchase_date), count(*) FILTER (WHERE purchase_date < "
            f"TIMESTAMP '{EARLIEST_PLAUSIBLE_DATE}' OR purchase_date > now()::TIMESTAMP + INTERVAL 400 DAY) "
            "FROM raw_transactions"
        ).fetchone()
    return dg.AssetCheckResult(
        passed=bool(bad == 0 and low is not None),
        metadata={"first_date": str(low), "last_date": str(high), "implausible_dates": int(bad)},
    )


@dg.asset_check(
    asset="transactions",
    name="ids_reference_master_data",
    additional_deps=["customers", "products"],
    description="Every transaction's customer and product exist in `customers`/`products`. Placeholder "
    "rows for ids missing from the master data are reported (warning) rather than dropped.",
)
def transactions_referential_integrity(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        orphans, unknown_customers, unknown_products = con.execute(
            """SELECT
                (SELECT count(*) FROM transactions t
                   WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = t.customer_id)
                      OR NOT EXISTS (SELECT 1 FROM products p WHERE p.product_id = t.product_id)),
                (SELECT count(*) FROM customers WHERE NOT is_known),
                (SELECT count(*) FROM products WHERE NOT is_known)"""
        ).fetchone()
    placeholders = unknown_customers + unknown_products
    return dg.AssetCheckResult(
        passed=bool(orphans == 0 and placeholders == 0),
        severity=dg.AssetCheckSeverity.ERROR if orphans else dg.AssetCheckSeverity.WARN,
        metadata={
            "orphan_transactions": int(orphans),
            "customers_missing_from_master_data": int(unknown_customers),
            "products_missing_from_master_data": int(unknown_products),
        },
    )


@dg.asset_check(
    asset="transactions",
    name="weeks_contiguous",
    description="Purchases span at least one week and no week between the first and the last is empty.",
)
def transactions_weeks_contiguous(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        first, last, weeks = con.execute(
            "SELECT min(week_start), max(week_start), count(DISTINCT week_start) FROM transactions"
        ).fetchone()
    expected = ((last - first).days // 7 + 1) if first else 0
    return dg.AssetCheckResult(
        passed=bool(weeks > 0 and weeks == expected),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "first_week": str(first),
            "last_week": str(last),
            "weeks": int(weeks),
            "missing_weeks": expected - weeks,
        },
    )


def _active_customers_missing(con: duckdb.DuckDBPyConnection, feature_week, covered_sql: str) -> tuple:
    """(active customers of `feature_week`, how many of them `covered_sql` (customer ids) lacks)."""
    first_day = feature_week - timedelta(weeks=ACTIVE_WEEKS - 1)
    return con.execute(
        f"""WITH active AS (
                SELECT DISTINCT customer_id FROM transactions
                WHERE week_start BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
            )
            SELECT count(*), count(*) FILTER (WHERE customer_id NOT IN ({covered_sql})) FROM active""",
        [first_day, feature_week],
    ).fetchone()


@dg.asset_check(
    asset="pair_features",
    name="active_customers_have_candidates",
    additional_deps=["transactions"],
    description=f"Every customer who bought in the {ACTIVE_WEEKS} weeks up to the newest feature week has "
    "candidate rows in that week (else nobody scores them next week).",
)
def pair_features_cover_active_customers(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        newest = con.execute("SELECT max(week_start) FROM pair_features").fetchone()[0]
        if newest is None:
            return dg.AssetCheckResult(passed=False, metadata={"reason": "pair_features is empty"})
        active, missing = _active_customers_missing(
            con, newest, f"SELECT customer_id FROM pair_features WHERE week_start = DATE '{newest}'"
        )
    return dg.AssetCheckResult(
        passed=bool(active > 0 and missing == 0),
        metadata={
            "feature_week": str(newest),
            "active_customers": int(active),
            "active_customers_without_candidates": int(missing),
        },
    )


@dg.asset_check(
    asset="pair_features",
    name="features_present",
    description="In the newest feature week (the one next week's predictions score) no feature is NULL "
    "where it is defined: NULL only for never-bought discovery pairs (weeks/days since last, mean units), "
    "pairs bought fewer than twice (gaps) and customers without valid coordinates.",
)
def pair_features_present(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    counts = [f'count(*) FILTER (WHERE "{c}" IS NULL) AS "{c}"' for c in ALWAYS_DEFINED]
    counts += [
        f'count(*) FILTER (WHERE "{c}" IS NULL AND is_discovery = \'no\') AS "{c}"'
        for c in UNDEFINED_FOR_DISCOVERY
    ]
    with warehouse.get_connection() as con:
        frame = con.execute(
            f"SELECT count(*) AS rows, {', '.join(counts)} FROM pair_features "
            "WHERE week_start = (SELECT max(week_start) FROM pair_features)"
        ).df()
    rows = int(frame.pop("rows").iloc[0])
    nulls = {column: int(n) for column, n in frame.iloc[0].items() if n}
    return dg.AssetCheckResult(
        passed=bool(rows > 0 and not nulls),
        metadata={
            "rows": rows,
            "columns_checked": len(ALWAYS_DEFINED) + len(UNDEFINED_FOR_DISCOVERY),
            "null_features": dg.MetadataValue.json(nulls),
        },
    )


def _latest_batch(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """(batch_id, feature_week, threshold) of the newest prediction batch, or None."""
    if not table_exists(con, "prediction_batches"):
        return None
    return con.execute(
        "SELECT batch_id, feature_week, threshold FROM prediction_batches ORDER BY created_at DESC LIMIT 1"
    ).fetchone()


@dg.asset_check(
    asset="predictions",
    name="probabilities_valid",
    description="In the newest batch every probability lies in [0, 1] and `will_buy` is exactly "
    "probability ≥ the batch's threshold.",
)
def predictions_probabilities_valid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        batch = _latest_batch(con)
        if batch is None:
            return dg.AssetCheckResult(passed=False, metadata={"reason": "no prediction batch"})
        batch_id, _, threshold = batch
        rows, invalid, inconsistent, low, high = con.execute(
            """SELECT count(*),
                count(*) FILTER (WHERE probability IS NULL OR isnan(probability)
                                 OR probability < 0 OR probability > 1),
                count(*) FILTER (WHERE will_buy IS DISTINCT FROM (probability >= ?)),
                min(probability), max(probability)
            FROM predictions WHERE batch_id = ?""",
            [threshold, batch_id],
        ).fetchone()
    return dg.AssetCheckResult(
        passed=bool(rows > 0 and invalid == 0 and inconsistent == 0),
        metadata={
            "batch_id": batch_id,
            "rows": int(rows),
            "probabilities_outside_0_1": int(invalid),
            "will_buy_not_matching_threshold": int(inconsistent),
            "threshold": float(threshold),
            "min_probability": float(low) if low is not None else float("nan"),
            "max_probability": float(high) if high is not None else float("nan"),
        },
    )


@dg.asset_check(
    asset="predictions",
    name="active_customers_predicted",
    additional_deps=["transactions"],
    description=f"Every customer who bought in the {ACTIVE_WEEKS} weeks up to the batch's feature week has "
    "predictions in the newest batch.",
)
def predictions_cover_active_customers(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        batch = _latest_batch(con)
        if batch is None:
            return dg.AssetCheckResult(passed=False, metadata={"reason": "no prediction batch"})
        batch_id, feature_week, _ = batch
        active, missing = _active_customers_missing(
            con, feature_week, f"SELECT customer_id FROM predictions WHERE batch_id = '{batch_id}'"
        )
    return dg.AssetCheckResult(
        passed=bool(active > 0 and missing == 0),
        metadata={
            "batch_id": batch_id,
            "feature_week": str(feature_week),
            "active_customers": int(active),
            "active_customers_without_predictions": int(missing),
        },
    )


def rule_f1(con: duckdb.DuckDBPyConnection, weeks: list[date]) -> dict[date, float]:
    """{feature week: F1 of the rule "bought in ≥ 3 of the last 8 weeks"} over all real purchases of the
    target week, the way the model's validation F1 counts them."""
    rows = con.execute(
        f"""SELECT week_start, count(*) FILTER (WHERE bought_w8 >= {RULE_MIN_WEEKS}),
                count(*) FILTER (WHERE bought_w8 >= {RULE_MIN_WEEKS} AND label)
            FROM pair_features WHERE week_start IN (SELECT unnest(?::DATE[])) GROUP BY week_start""",
        [weeks],
    ).fetchall()
    actual = actual_purchases(con, weeks)
    counts = {week: (predicted, tp) for week, predicted, tp in rows}
    f1 = {}
    for week in weeks:
        predicted, tp = counts.get(week, (0, 0))
        f1[week] = f1_from_counts(tp, predicted, actual[week])
    return f1


@dg.asset_check(
    asset="purchase_model",
    name="beats_the_simple_rule",
    additional_deps=["pair_features"],
    description=f"The newest model version's mean validation F1 is above the rule \"bought in ≥ "
    f'{RULE_MIN_WEEKS} of the last 8 weeks" on the same validation weeks (else a rule would serve better).',
)
def purchase_model_beats_the_rule(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        newest = (
            con.execute(
                "SELECT model_version, val_f1, val_weeks FROM model_versions "
                "ORDER BY CAST(model_version AS INTEGER) DESC LIMIT 1"
            ).fetchone()
            if table_exists(con, "model_versions")
            else None
        )
        if newest is None or not newest[2]:
            return dg.AssetCheckResult(passed=False, metadata={"reason": "no registered model version"})
        version, val_f1, val_weeks = newest
        weeks = [date.fromisoformat(text.strip()) for text in val_weeks.split(",")]
        by_week = rule_f1(con, weeks)
    rule = sum(by_week.values()) / len(by_week)
    return dg.AssetCheckResult(
        passed=bool(val_f1 is not None and val_f1 > rule),
        metadata={
            "model_version": version,
            "val_f1": float(val_f1) if val_f1 is not None else float("nan"),
            "rule_f1": float(rule),
            "margin": float(val_f1 - rule) if val_f1 is not None else float("nan"),
            "val_weeks": val_weeks,
        },
    )


@dg.asset_check(
    asset=SNAPSHOT_ASSET,
    name=SERVED_WEEK_CHECK,
    description="The week the published serving.duckdb predicts is still the current one: today (in "
    "OVNI_TIMEZONE) is before its target week + 7 days + OVNI_FRESHNESS_GRACE_DAYS. Warns when it is "
    "not (a stale batch is still served) and says whether the pipeline already has newer data. Reads the "
    "snapshot read-only and the event log, never the warehouse; `served_week_schedule` runs it daily.",
)
def served_week_is_current(
    context: dg.AssetCheckExecutionContext, settings: dg.ResourceParam[OvniSettings]
) -> dg.AssetCheckResult:
    served = published_target_week(settings.serving_path)
    pipeline_week = pipeline_target_week(context.instance)
    pipeline = {"pipeline_target_week": str(pipeline_week) if pipeline_week else ""}
    if served is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="nothing is served: no readable serving.duckdb yet",
            metadata={"reason": "no readable serving snapshot", **pipeline},
        )
    freshness = freshness_for(served, settings)
    reason = (
        f"{freshness.reason}; {where_the_delay_is(freshness, pipeline_week)}"
        if not freshness.fresh
        else f"current until {freshness.fresh_until}"
    )
    if not freshness.fresh:
        alert = stale_data_alert(settings, context.run.run_id, str(freshness.target_week), reason)
        send_alert(settings, alert)
    return dg.AssetCheckResult(
        passed=freshness.fresh,
        severity=dg.AssetCheckSeverity.WARN,
        description=reason,
        metadata={
            "served_target_week": str(freshness.target_week),
            "today": str(freshness.today),
            "timezone": settings.timezone,
            "days_late": freshness.days_late,
            "grace_days": freshness.grace_days,
            "fresh_until": str(freshness.fresh_until),
            "reason": reason,
            **pipeline,
        },
    )


DATA_CHECKS = [
    *(_raw_rows_match_registry(kind) for kind in SOURCE_TABLES),
    raw_transactions_date_range,
    _unique_key("customers", ["customer_id"]),
    _unique_key("products", ["product_id"]),
    _unique_key("transactions", ["customer_id", "product_id", "order_id"]),
    transactions_referential_integrity,
    transactions_weeks_contiguous,
]
ML_CHECKS = [
    pair_features_cover_active_customers,
    pair_features_present,
    predictions_probabilities_valid,
    predictions_cover_active_customers,
    purchase_model_beats_the_rule,
]
SERVING_CHECKS = [served_week_is_current]
