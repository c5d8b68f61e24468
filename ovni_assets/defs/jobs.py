"""Jobs: what a run materializes (or checks). Every job runs in one process (see `WarehouseResource`)."""

import dagster as dg

from ovni_assets.keys import SERVED_WEEK_CHECK, SERVED_WEEK_JOB, SNAPSHOT_ASSET

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest", "clean", "features", "monitoring"),
    description="Landed files → raw → clean tables → features → drift and realized-quality monitoring.",
)

train_job = dg.define_asset_job(
    "train_job",
    selection=dg.AssetSelection.groups("model"),
    description="Train a challenger (HPO, threshold, MLflow run, registry version); promote it iff it wins.",
)

predict_job = dg.define_asset_job(
    "predict_job",
    selection=dg.AssetSelection.groups("predictions"),
    description="Score next week's candidate pairs with the champion and publish the serving snapshot.",
)

weekly_job = dg.define_asset_job(
    "weekly_job",
    selection=dg.AssetSelection.groups("ingest", "clean", "features", "monitoring", "predictions"),
    description="`ovni run`'s week in one run when no retrain can be due (the champion is within its "
    "cooldown): landed files → raw → clean → features → drift and quality → next week's predictions → "
    "snapshot.",
)

served_week_job = dg.define_asset_job(
    SERVED_WEEK_JOB,
    selection=dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey(SNAPSHOT_ASSET), SERVED_WEEK_CHECK)),
    description="Only the check `served_week_is_current`: whether the served week is still current. It "
    "materializes nothing, reads serving.duckdb read-only and needs no `warehouse` resource, so it never "
    "takes the run lock; `served_week_schedule` runs it every morning, since time passes without runs.",
)

ALL_JOBS = [ingest_job, train_job, predict_job, weekly_job, served_week_job]
