"""Clean group: deduplicated, netted, referentially whole tables rebuilt from the raw tables in SQL."""

import dagster as dg

from ovni_assets.data import cleaning
from ovni_assets.defs.metadata import table_metadata
from ovni_assets.defs.resources import WarehouseResource


@dg.asset(
    group_name="clean",
    deps=["raw_customers", "raw_transactions"],
    kinds={"duckdb"},
    description="One row per customer, newest attributes win; coordinates fixed or nulled "
    "(`coordinates_status`); placeholder rows (`is_known = false`) for ids seen only in transactions.",
)
def customers(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        counts = cleaning.build_customers(con)
        return dg.MaterializeResult(
            metadata={**table_metadata(con, "customers"), **{k: v for k, v in counts.items() if k != "rows"}}
        )


@dg.asset(
    group_name="clean",
    deps=["raw_products", "raw_transactions"],
    kinds={"duckdb"},
    description="One row per product, newest attributes win; placeholder rows (`is_known = false`) for "
    "ids seen only in transactions.",
)
def products(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        counts = cleaning.build_products(con)
        return dg.MaterializeResult(
            metadata={**table_metadata(con, "products"), **{k: v for k, v in counts.items() if k != "rows"}}
        )


@dg.asset(
    group_name="clean",
    deps=["raw_transactions"],
    kinds={"duckdb"},
    description="Purchases: exact duplicate lines dropped, lines netted per (customer, product, order); "
    "only nets above zero are purchases. `week_start` is the ISO week's Monday.",
)
def transactions(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        stats = cleaning.build_transactions(con)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "transactions"),
                "duplicate_rows_dropped": stats.duplicate_rows,
                "return_lines": stats.return_lines,
                "orders_netted_to_no_purchase": stats.non_purchase_orders,
            }
        )
