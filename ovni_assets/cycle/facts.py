"""The facts the weekly cycle's plan reads, gathered one way for `ovni run` and the daemon's sensors.

- the Dagster event log: the newest materializations of the raw tables, `pair_features`, the monitoring
  reports, `purchase_model` and `predictions` (their metadata, keys in `ovni_assets.keys`), and the runs
  in flight;
- the MLflow registry: the champion and the complete registered versions;
- the landing zone: files whose bytes are not in `ingested_files` yet;
- the served snapshot `serving.duckdb`: the batch and model versions it holds.

The warehouse is read only for the hashes of ingested files, read-only: `ovni run` waits for the run lock;
a sensor tick makes one attempt and, when a run holds the warehouse, sees that run in flight anyway.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb

from ovni_assets.cycle.plan import CycleFacts, LatestBatch
from ovni_assets.keys import (
    BATCH_ID,
    BUILT_FROM_RAW,
    DATA_THROUGH,
    DRIFT_ASSET,
    FEATURES_ASSET,
    MODEL_ASSET,
    MODEL_VERSION,
    NEWEST_FEATURE_WEEK,
    PREDICTIONS_ASSET,
    QUALITY_ASSET,
    RAW_ASSETS,
    TARGET_WEEK,
)
from ovni_assets.settings import OvniSettings

if TYPE_CHECKING:
    from dagster import DagsterInstance, EventLogRecord

IN_FLIGHT_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")


class WarehouseBusy(Exception):
    """A run holds the warehouse: a sensor tick does not wait for it."""


def _newest(instance: DagsterInstance, asset: str) -> EventLogRecord | None:
    from dagster import AssetKey

    records = instance.fetch_materializations(AssetKey(asset), limit=1).records
    return records[0] if records else None


def _metadata(record: EventLogRecord | None) -> dict[str, Any]:
    if record is None or record.asset_materialization is None:
        return {}
    return {
        key: getattr(value, "value", value) for key, value in record.asset_materialization.metadata.items()
    }


def _iso_date(text: Any) -> date | None:
    return date.fromisoformat(str(text)) if text not in (None, "") else None


def _target_week_of(features: dict[str, Any]) -> date | None:
    """The target week `pair_features` metadata names (older runs reported only the newest feature week)."""
    target_week = _iso_date(features.get(TARGET_WEEK))
    if target_week is None and (newest := _iso_date(features.get(NEWEST_FEATURE_WEEK))) is not None:
        target_week = newest + timedelta(days=7)
    return target_week


def pipeline_target_week(instance: DagsterInstance) -> date | None:
    """The target week of the newest features the pipeline built (event log), None before any."""
    return _target_week_of(_metadata(_newest(instance, FEATURES_ASSET)))


def ingested_hashes(settings: OvniSettings, wait: bool) -> set[str]:
    """sha256 of every ingested file. `wait=False` raises WarehouseBusy instead of waiting for a run."""
    from ovni_assets.data.ingestion import known_hashes
    from ovni_assets.warehouse import run_lock

    if not settings.warehouse_path.exists():
        return set()
    if not wait:
        try:
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                return known_hashes(con)
        except duckdb.IOException as busy:
            raise WarehouseBusy(str(busy)) from None
    with (
        run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds),
        duckdb.connect(str(settings.warehouse_path), read_only=True) as con,
    ):
        return known_hashes(con)


def new_landed_files(settings: OvniSettings, wait: bool) -> tuple[tuple[str, str], ...]:
    """(name, sha256) of the settled landed files whose bytes are not ingested yet, oldest first (a file
    modified within the settle time may still be being written: it waits for a later step)."""
    from ovni_assets.data.ingestion import scan_landing

    landed = scan_landing(settings.landing_dir, settings.landing_settle_seconds)
    if not landed:
        return ()
    known = ingested_hashes(settings, wait)
    return tuple((f.name, f.sha256) for f in landed if f.sha256 not in known)


def registry_facts(settings: OvniSettings) -> tuple[str | None, list[str]]:
    """(champion version, complete registered versions) from the MLflow registry."""
    if settings.mlflow_tracking_uri is None and not settings.mlflow_db_path.exists():
        return None, []
    from ovni_assets.model.registry import champion_version, client_for, registered_versions

    client = client_for(settings)
    champion = champion_version(client)
    return (str(champion.version) if champion else None), [
        str(v.version) for v in registered_versions(client)
    ]


def runs_in_flight(instance: DagsterInstance, exclude: str | None = None) -> tuple[str, ...]:
    from dagster import DagsterRunStatus, RunsFilter

    statuses = [DagsterRunStatus(status) for status in IN_FLIGHT_STATUSES]
    return tuple(
        run_id for run_id in instance.get_run_ids(RunsFilter(statuses=statuses)) if run_id != exclude
    )


def read_cycle_facts(
    instance: DagsterInstance,
    settings: OvniSettings,
    *,
    wait_for_warehouse: bool,
    forced: bool = False,
    scheduled_tick: bool = False,
    exclude_run: str | None = None,
    now: datetime | None = None,
) -> CycleFacts:
    """The facts of `plan_next_step`. `exclude_run`: the run asking (a sensor's own run is none)."""
    from ovni_assets.monitoring.triggers import retrain_facts_from_instance
    from ovni_assets.prediction.snapshot import published_batch_id, published_model_versions

    in_flight = runs_in_flight(instance, exclude_run)
    try:
        new_files = new_landed_files(settings, wait_for_warehouse)
    except WarehouseBusy:
        new_files = ()
        in_flight = in_flight or ("warehouse-writer",)
    champion, versions = registry_facts(settings)
    retrain = retrain_facts_from_instance(
        instance, champion, forced=forced, scheduled_tick=scheduled_tick, now=now
    )

    raw = [record.storage_id for asset in RAW_ASSETS if (record := _newest(instance, asset))]
    built = [_newest(instance, asset) for asset in BUILT_FROM_RAW]
    features = _metadata(built[0])
    target_week = _target_week_of(features)

    batch = _metadata(_newest(instance, PREDICTIONS_ASSET))
    latest_batch = None
    if batch.get(BATCH_ID):
        latest_batch = LatestBatch(
            str(batch[BATCH_ID]),
            _iso_date(batch.get(TARGET_WEEK)),
            str(batch.get(MODEL_VERSION) or ""),
            _iso_date(batch.get(DATA_THROUGH)),
        )

    published = published_model_versions(settings.serving_path)
    unpublished = tuple(v for v in versions if published is not None and v not in published)
    evidence = "/".join(
        str(record.storage_id if record else "-")
        for record in (_newest(instance, asset) for asset in (FEATURES_ASSET, DRIFT_ASSET, QUALITY_ASSET))
    )
    model = _newest(instance, MODEL_ASSET)
    return CycleFacts(
        retrain=retrain,
        champion_version=champion,
        new_files=new_files,
        raw_event=max(raw) if raw else None,
        built_event=None if any(r is None for r in built) else min(r.storage_id for r in built),
        target_week=target_week,
        data_through=_iso_date(features.get(DATA_THROUGH)),
        latest_batch=latest_batch,
        published_batch_id=published_batch_id(settings.serving_path),
        unpublished_versions=unpublished,
        runs_in_flight=in_flight,
        evidence=f"{evidence}/{model.storage_id if model else '-'}/{champion or '-'}",
    )


def with_forced(facts: CycleFacts, forced: bool) -> CycleFacts:
    """The same facts with the `--retrain` flag set or cleared (it holds until one training ran)."""
    return dataclasses.replace(facts, retrain=dataclasses.replace(facts.retrain, forced=forced))
