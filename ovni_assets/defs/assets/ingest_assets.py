"""Ingest group: landed files → append-only raw tables (one batch per file, identified by its hash)."""

import math

import dagster as dg

from ovni_assets.data.ingestion import IngestReport, RejectedFile, ingest_landing, wait_until_settled
from ovni_assets.data.schema import SOURCE_TABLES, table_for_file_name
from ovni_assets.data.week_checks import WeekCheckThresholds
from ovni_assets.defs.metadata import table_metadata
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.monitoring.alerts import held_file_alert, send_alert
from ovni_assets.settings import OvniSettings
from ovni_assets.warehouse import row_count

RAW_ASSET_KEYS = {kind: dg.AssetKey(table.raw_table) for kind, table in SOURCE_TABLES.items()}


def week_check_thresholds(settings: OvniSettings) -> WeekCheckThresholds:
    """The thresholds of the checks against the data's own weeks, as the settings say."""
    return WeekCheckThresholds(
        min_history_weeks=settings.week_checks_min_history_weeks,
        reference_weeks=settings.week_checks_reference_weeks,
        reexported_lines_max_share=settings.reexported_lines_max_share,
        week_volume_max_factor=settings.week_volume_max_factor,
        top_customer_share_max_factor=settings.top_customer_share_max_factor,
        units_per_line_max_factor=settings.units_per_line_max_factor,
        units_per_line_max_share_change=settings.units_per_line_max_share_change,
        weekday_spread_max_shift_ratio=settings.weekday_spread_max_shift_ratio,
        changed_ids_max_share=settings.changed_ids_max_share,
    )


def week_checks_metadata(report: IngestReport, kind: str) -> dict[str, dg.MetadataValue]:
    """What the checks against the data's own weeks measured in the files of `kind` just ingested:
    `{week or kind: {check.metric: value}}`, values rounded (an infinite factor, possible with its check
    off, as text); nothing when no file was judged."""
    measured = {
        key: {
            metric: round(value, 3) if math.isfinite(value) else str(value)
            for metric, value in values.items()
        }
        for file_name, by_key in report.week_checks.items()
        if table_for_file_name(file_name).kind == kind
        for key, values in by_key.items()
    }
    return {"week_checks": dg.MetadataValue.json(measured)} if measured else {}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="ingest",
            description=f"Append-only copy of every landed `{SOURCE_TABLES[kind].landing_prefix}*` file, "
            "with batch id, file name, file hash, row number and ingestion time on every row.",
            kinds={"duckdb"},
        )
        for kind, key in RAW_ASSET_KEYS.items()
    ],
    can_subset=False,
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
)
def raw_tables(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: dg.ResourceParam[OvniSettings]
):
    """Wait (bounded) for landing files still being written, validate every new settled one, quarantine a
    bad one (the run fails, no table changes), else append them all in one transaction. Files ingested
    before (same bytes) are skipped; files still moving after the wait are left for a later run."""
    moving = wait_until_settled(
        settings.landing_dir, settings.landing_settle_seconds, settings.landing_settle_max_wait_seconds
    )
    if moving:
        context.log.warning(
            f"Still being written after {settings.landing_settle_max_wait_seconds:.0f} s, left for a later "
            "run: " + ", ".join(p.name for p in moving)
        )
    with warehouse.get_connection() as con:
        try:
            report = ingest_landing(
                con,
                settings.landing_dir,
                settings.quarantine_dir,
                settle_seconds=settings.landing_settle_seconds,
                week_checks=week_check_thresholds(settings),
            )
        except RejectedFile as rejected:
            file = rejected.file
            held = held_file_alert(
                settings, context.run_id, file.name, rejected.reason, file.sha256, rejected.check
            )
            send_alert(settings, held)
            raise dg.Failure(
                description=f"{rejected} (moved to quarantine/{rejected.file.name}; no table changed)",
                metadata={
                    "file": rejected.file.name,
                    "reason": rejected.reason,
                    "check": rejected.check or "",
                    "sha256": rejected.file.sha256,
                },
                allow_retries=False,
            ) from None
        if report.skipped_known:
            context.log.info(
                "Already ingested (same bytes): " + ", ".join(f.name for f in report.skipped_known)
            )
        for kind, key in RAW_ASSET_KEYS.items():
            table = SOURCE_TABLES[kind].raw_table
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    **table_metadata(con, table),
                    "rows_added": dg.MetadataValue.int(report.rows_for(kind)),
                    "files_added": dg.MetadataValue.json(report.files_for(kind)),
                    "files_released": dg.MetadataValue.json(report.released_for(kind)),
                    "files_already_ingested": dg.MetadataValue.int(
                        sum(1 for f in report.skipped_known if f.table.kind == kind)
                    ),
                    "files_still_being_written": dg.MetadataValue.json(
                        [p.name for p in report.unsettled if table_for_file_name(p.name).kind == kind]
                    ),
                    **week_checks_metadata(report, kind),
                },
                data_version=dg.DataVersion(str(row_count(con, table))),
            )
