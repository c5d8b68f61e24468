"""The OVNI code location: every asset, check, job, sensor, schedule and resource."""

from __future__ import annotations

import dagster as dg

from ovni_assets.defs import backup, checks, cycle_sensors, jobs, release, schedules, sensors
from ovni_assets.defs.assets import (
    clean_assets,
    feature_assets,
    ingest_assets,
    model_assets,
    monitoring_assets,
    prediction_assets,
)
from ovni_assets.defs.resources import resources_for
from ovni_assets.settings import get_settings

ASSET_MODULES = [
    ingest_assets,
    clean_assets,
    feature_assets,
    monitoring_assets,
    model_assets,
    prediction_assets,
]


def build_definitions() -> dg.Definitions:
    settings = get_settings()
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=[
            *checks.DATA_CHECKS,
            *checks.ML_CHECKS,
            *checks.SERVING_CHECKS,
            *dg.load_asset_checks_from_modules(ASSET_MODULES),
        ],
        jobs=[*jobs.ALL_JOBS, backup.backup_job, release.release_job],
        sensors=[*sensors.ALL_SENSORS, cycle_sensors.cycle_sensor_every(settings.cycle_interval_seconds)],
        schedules=[
            *cycle_sensors.CYCLE_SCHEDULES,
            schedules.served_week_schedule_in(settings.timezone),
            *backup.backup_schedules(settings),
        ],
        resources=resources_for(settings),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
