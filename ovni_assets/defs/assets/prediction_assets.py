"""Predictions group: next week's batch scored by the champion, then the atomically published snapshot."""

import dagster as dg

from ovni_assets.defs.metadata import table_metadata
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.features.target_week import read_target_week
from ovni_assets.keys import DATA_THROUGH
from ovni_assets.model import registry
from ovni_assets.prediction import batch as batches
from ovni_assets.prediction import snapshot
from ovni_assets.settings import OvniSettings


@dg.asset(
    group_name="predictions",
    deps=["pair_features", "purchase_model"],
    kinds={"duckdb", "sklearn"},
    description="Every candidate pair of the target week (the week after the newest landed week) scored "
    "by the champion: probability, `will_buy` by its threshold, rank per customer. Batches are appended; "
    "view `latest_predictions` shows the newest batch per week.",
)
def predictions(
    warehouse: WarehouseResource, settings: dg.ResourceParam[OvniSettings]
) -> dg.MaterializeResult:
    champion = registry.load_champion(settings)
    if champion is None:
        raise dg.Failure(description="no champion model yet: run the train job (ovni run trains one)")
    with warehouse.get_connection() as con:
        batch = batches.append_batch(con, champion)
        target = read_target_week(con)
        preview = con.execute(
            "SELECT * FROM predictions WHERE batch_id = ? ORDER BY probability DESC LIMIT 10",
            [batch.batch_id],
        ).df()
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "predictions", preview_rows=0),
                "batch_id": batch.batch_id,
                "target_week": str(batch.week_start),
                "feature_week": str(batch.feature_week),
                DATA_THROUGH: str(target.data_through) if target else "",
                "model_version": batch.model_version,
                "batch_rows": batch.rows,
                "predicted_buys": batch.predicted_buys,
                "customers": batch.customers,
                "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
            }
        )


@dg.asset(
    group_name="predictions",
    deps=["predictions", "drift_report", "prediction_quality"],
    kinds={"duckdb"},
    description="serving.duckdb for the API and `ovni sql`: predictions, latest_predictions, "
    "next_week_features, customers, products, model_versions, drift_reports, prediction_quality, lineage, "
    "snapshot_info; written to a temp file and published by atomic rename.",
)
def serving_snapshot(
    warehouse: WarehouseResource, settings: dg.ResourceParam[OvniSettings]
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        # model_versions from the registry as it is now: a training killed after registering its version
        # never wrote the table, and the snapshot must still list every complete version.
        registry.write_model_versions(con, registry.client_for(settings))
        info = snapshot.publish_snapshot(con, settings.serving_path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(info.path)),
            "target_week": info.target_week or "",
            "batch_id": info.batch_id or "",
            "model_version": info.model_version or "",
            "tables": dg.MetadataValue.json(info.tables),
        }
    )
