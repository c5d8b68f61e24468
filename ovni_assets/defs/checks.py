"""Data checks on raw and clean tables: row counts, key uniqueness, referential integrity, date range."""

import dagster as dg

from ovni_assets.data.ingestion import EARLIEST_PLAUSIBLE_DATE
from ovni_assets.data.schema import SOURCE_TABLES
from ovni_assets.defs.resources import WarehouseResource


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


DATA_CHECKS = [
    *(_raw_rows_match_registry(kind) for kind in SOURCE_TABLES),
    raw_transactions_date_range,
    _unique_key("customers", ["customer_id"]),
    _unique_key("products", ["product_id"]),
    _unique_key("transactions", ["customer_id", "product_id", "order_id"]),
    transactions_referential_integrity,
    transactions_weeks_contiguous,
]
