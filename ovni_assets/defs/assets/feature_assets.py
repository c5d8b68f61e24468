"""Features group: weekly purchases and point-in-time pair features in DuckDB SQL (pair features are
rebuilt incrementally: only the weeks changed transactions can change)."""

import dagster as dg

from ovni_assets.defs.metadata import table_metadata
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.features import pair_features as features
from ovni_assets.features.incremental import BuildStats
from ovni_assets.features.target_week import read_target_week
from ovni_assets.keys import DATA_THROUGH, NEWEST_FEATURE_WEEK, TARGET_WEEK


@dg.asset(
    group_name="features",
    deps=["transactions"],
    kinds={"duckdb"},
    description="Customer × product × ISO week: `units`, `orders` (distinct orders), purchase days. "
    "Incremental: replaces only the weeks whose transactions changed.",
)
def weekly_purchases(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        stats = features.build_weekly_purchases(con, incremental=True)
        context.log.info(f"weekly_purchases: {stats.mode} build ({stats.reason})")
        return dg.MaterializeResult(
            metadata={**table_metadata(con, "weekly_purchases"), **build_metadata(stats)}
        )


@dg.asset(
    group_name="features",
    deps=["weekly_purchases", "customers", "products"],
    kinds={"duckdb"},
    description="One row per candidate (customer, product, feature week t): features from weeks ≤ t only, "
    "`label` = bought in t + 1 (NULL for the newest week, whose rows next week's predictions score). "
    "Candidates: pairs bought in the last 26 weeks plus top products of the customer's type never bought. "
    "Incremental: replaces only the weeks from the one before the oldest changed transaction week; full "
    "rebuild when customers, products or the feature definition changed.",
)
def pair_features(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        stats = features.build_pair_features(con, incremental=True)
        context.log.info(
            f"pair_features: {stats.mode} build ({stats.reason}); "
            f"{stats.weeks_recomputed} week(s) recomputed from {stats.recomputed_from}"
        )
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "pair_features"),
                "weeks": stats.weeks,
                "history_rows": stats.history_rows,
                "discovery_rows": stats.discovery_rows,
                NEWEST_FEATURE_WEEK: stats.newest_week or "",
                TARGET_WEEK: str(target.target_week) if (target := read_target_week(con)) else "",
                DATA_THROUGH: str(target.data_through) if target else "",
                "feature_columns": dg.MetadataValue.json(features.FEATURE_COLUMNS),
                **build_metadata(stats),
            }
        )


def build_metadata(stats: BuildStats) -> dict[str, str | int]:
    """Which build ran (full / partial / unchanged), why, and the weeks it recomputed."""
    return {
        "build_mode": stats.mode,
        "build_reason": stats.reason,
        "recomputed_from_week": stats.recomputed_from or "",
        "weeks_recomputed": stats.weeks_recomputed,
    }
