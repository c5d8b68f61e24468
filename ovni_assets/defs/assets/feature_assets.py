"""Features group: weekly purchases and point-in-time pair features in DuckDB SQL (pair features are
rebuilt incrementally: only the weeks changed transactions can change)."""

import dagster as dg
from pydantic import Field

from ovni_assets.defs.metadata import table_metadata
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.features import pair_features as features
from ovni_assets.features.incremental import BuildStats
from ovni_assets.features.model_inputs import FEATURE_COLUMNS
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


class PairFeaturesConfig(dg.Config):
    """Which pairs are candidates (docs/model.md); the defaults are the product's. A change is a new feature
    definition: the next build is a full one."""

    history_weeks: int = Field(
        default=features.HISTORY_WEEKS,
        ge=1,
        description="A pair the customer bought in this many weeks up to the feature week is a candidate.",
    )
    discovery_top_k: int = Field(
        default=features.DISCOVERY_TOP_K,
        ge=0,
        description="Top products of the customer's type, never bought by the customer, added as candidates.",
    )


@dg.asset(
    group_name="features",
    deps=["weekly_purchases", "customers", "products"],
    kinds={"duckdb"},
    description="One row per candidate (customer, product, feature week t): features from weeks ≤ t only, "
    "`label` = bought in t + 1 (NULL for the newest week, whose rows next week's predictions score). "
    f"Candidates (the asset's config): pairs bought in the last {features.HISTORY_WEEKS} weeks plus the top "
    f"{features.DISCOVERY_TOP_K} products of the customer's type never bought. "
    "Incremental: replaces only the weeks from the one before the oldest changed transaction week; full "
    "rebuild when customers, products or the feature definition changed.",
)
def pair_features(
    context: dg.AssetExecutionContext, config: PairFeaturesConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        stats = features.build_pair_features(
            con, config.history_weeks, config.discovery_top_k, incremental=True
        )
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
                "feature_columns": dg.MetadataValue.json(FEATURE_COLUMNS),
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
