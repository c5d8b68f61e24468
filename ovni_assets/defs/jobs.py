"""Jobs: what a run materializes. Every job runs in one process (see `WarehouseResource`)."""

import dagster as dg

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest", "clean"),
    description="Landed files → raw tables → clean tables (and their checks).",
)

ALL_JOBS = [ingest_job]
