"""Sensors and the schedule of the ML loop: retrain when monitoring says so, train the first model, refresh
predictions on a new champion (trained, or promoted by hand) or a new feature week, and retrain weekly as a
fallback.

They read Dagster's event log only (the latest materializations, observations and their metadata), never the
warehouse,
and decide retraining with `ovni_assets.monitoring.triggers.decide_retrain`, the same function `ovni run`
uses. Every requested training run carries its reason in the `ovni/retrain_reason` tag.

Materializations made by an `ovni run` cycle (runs tagged `ovni/trigger=cli`) are skipped: that cycle
decides, trains and predicts by itself, so the daemon would only repeat its work.
"""

import json

import dagster as dg

from ovni_assets.defs.jobs import predict_job, train_job
from ovni_assets.monitoring.triggers import (
    DRIFT_ASSET,
    QUALITY_ASSET,
    RETRAIN_REASON_TAG,
    decide_retrain,
    latest_champion_record,
    retrain_facts_from_instance,
)

FEATURES_ASSET = "pair_features"
NEWEST_WEEK_KEY = "newest_feature_week"  # pair_features metadata: the newest feature week (text)
CYCLE_TAG, CLI_CYCLE = "ovni/trigger", "cli"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def latest_materialization(instance: dg.DagsterInstance, asset: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records
    return records[0] if records else None


def made_by_cli_cycle(instance: dg.DagsterInstance, record: dg.EventLogRecord) -> bool:
    """Whether the materialization comes from an `ovni run` cycle (which handles its own follow-ups)."""
    run = instance.get_run_by_id(record.run_id) if record.run_id else None
    return run is not None and run.tags.get(CYCLE_TAG) == CLI_CYCLE


def training_in_flight(instance: dg.DagsterInstance) -> bool:
    """Whether a `train_job` run is queued or running (a second one would train on the same data)."""
    runs = instance.get_run_ids(dg.RunsFilter(job_name=train_job.name, statuses=IN_FLIGHT), limit=1)
    return bool(runs)


def _train_request(run_key: str | None, trigger: str, reason: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, tags={"ovni/trigger": trigger, RETRAIN_REASON_TAG: reason[:1000]})


@dg.sensor(
    job=train_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="On a new `drift_report` or `prediction_quality` materialization, asks `decide_retrain` "
    "(drift, realized F1 below validation F1, cooldown, age) and starts `train_job` when it says so.",
)
def retrain_on_monitoring_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    seen = json.loads(context.cursor) if context.cursor else {}
    records = {}
    for asset in (DRIFT_ASSET, QUALITY_ASSET):
        record = latest_materialization(context.instance, asset)
        if record is not None:
            records[asset] = record
    latest = {asset: record.storage_id for asset, record in records.items()}
    new = [record for asset, record in records.items() if record.storage_id > seen.get(asset, -1)]
    if not new:
        return dg.SkipReason("No new drift or quality report since the last evaluation.")
    cursor = json.dumps(latest, sort_keys=True)
    if all(made_by_cli_cycle(context.instance, record) for record in new):
        return dg.SensorResult(
            skip_reason="Reports come from an `ovni run` cycle, which decides itself.", cursor=cursor
        )
    facts = retrain_facts_from_instance(context.instance)
    if not facts.has_champion:
        return dg.SensorResult(
            skip_reason="No champion yet: no_champion_sensor starts the first training.", cursor=cursor
        )
    decision = decide_retrain(facts)
    context.log.info(f"decide_retrain: {decision}")
    if not decision.should_retrain:
        return dg.SensorResult(skip_reason=decision.reason, cursor=cursor)
    if training_in_flight(context.instance):
        return dg.SensorResult(
            skip_reason=f"A training run is already queued or running ({decision.reason}).", cursor=cursor
        )
    run_key = "monitoring-" + "-".join(str(latest[asset]) for asset in sorted(latest))
    return dg.SensorResult(
        run_requests=[_train_request(run_key, "monitoring", decision.reason)], cursor=cursor
    )


@dg.sensor(
    job=train_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When features are (re)built and there is no champion, starts `train_job` to train the first "
    "model (one attempt per feature build).",
)
def no_champion_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    features = latest_materialization(context.instance, FEATURES_ASSET)
    if features is None:
        return dg.SkipReason("No features yet: nothing to train on.")
    if context.cursor and features.storage_id <= int(context.cursor):
        return dg.SkipReason("No new feature build since the last evaluation.")
    cursor = str(features.storage_id)
    if made_by_cli_cycle(context.instance, features):
        return dg.SensorResult(
            skip_reason="Features come from an `ovni run` cycle, which trains itself.", cursor=cursor
        )
    facts = retrain_facts_from_instance(context.instance)
    decision = decide_retrain(facts)
    if facts.has_champion or not decision.should_retrain:
        return dg.SensorResult(skip_reason="A champion exists: the other triggers decide.", cursor=cursor)
    if training_in_flight(context.instance):
        return dg.SensorResult(skip_reason="A training run is already queued or running.", cursor=cursor)
    request = _train_request(f"no-champion-{features.storage_id}", "no_champion", decision.reason)
    return dg.SensorResult(run_requests=[request], cursor=cursor)


@dg.sensor(
    job=predict_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When the champion differs from the one last seen (a challenger won: `purchase_model` "
    "materialization; `ovni promote` moved the alias: `purchase_model` observation), starts `predict_job` to "
    "score next week with it and republish the snapshot.",
)
def new_champion_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    champion, record = latest_champion_record(context.instance)
    if record is None:
        return dg.SkipReason("No model trained yet.")
    if not champion:
        return dg.SkipReason("The latest training left no champion.")
    if champion == context.cursor:
        return dg.SkipReason(f"Champion v{champion} already seen.")
    if made_by_cli_cycle(context.instance, record):
        return dg.SensorResult(
            skip_reason=f"Champion v{champion} comes from an `ovni run` cycle, which predicts itself.",
            cursor=champion,
        )
    manual = record.asset_observation is not None
    request = dg.RunRequest(
        run_key=f"champion-v{champion}-{record.storage_id}",
        tags={
            "ovni/trigger": "manual_promotion" if manual else "new_champion",
            "ovni/champion_version": champion,
        },
    )
    return dg.SensorResult(run_requests=[request], cursor=champion)


@dg.sensor(
    job=predict_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When `pair_features` is rebuilt with a new `newest_feature_week` (a new week landed) and "
    "a champion exists, starts `predict_job` for the new target week.",
)
def new_week_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    features = latest_materialization(context.instance, FEATURES_ASSET)
    if features is None:
        return dg.SkipReason("No features yet.")
    seen = json.loads(context.cursor) if context.cursor else {"storage_id": -1, "week": None}
    if features.storage_id <= seen["storage_id"]:
        return dg.SkipReason("No new feature build since the last evaluation.")
    week_value = features.asset_materialization.metadata.get(NEWEST_WEEK_KEY)
    week = str(getattr(week_value, "value", "") or "") or None
    cursor = json.dumps({"storage_id": features.storage_id, "week": week})
    if week is not None and week == seen["week"]:
        return dg.SensorResult(
            skip_reason=f"Features rebuilt, but the newest week is still {week}.", cursor=cursor
        )
    if made_by_cli_cycle(context.instance, features):
        return dg.SensorResult(
            skip_reason="Features come from an `ovni run` cycle, which predicts itself.", cursor=cursor
        )
    if not retrain_facts_from_instance(context.instance).has_champion:
        return dg.SensorResult(
            skip_reason="No champion yet: predictions follow the first training.", cursor=cursor
        )
    request = dg.RunRequest(
        run_key=f"features-{features.storage_id}",
        tags={"ovni/trigger": "new_week", "ovni/feature_week": week or ""},
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor)


@dg.schedule(
    cron_schedule="0 3 * * 1",
    job=train_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Weekly fallback retrain (Mondays 03:00 UTC) unless a training happened within the cooldown.",
)
def retrain_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    decision = decide_retrain(retrain_facts_from_instance(context.instance, scheduled_tick=True))
    if not decision.should_retrain:
        return dg.SkipReason(decision.reason)
    if training_in_flight(context.instance):
        return dg.SkipReason(f"A training run is already queued or running ({decision.reason}).")
    return _train_request(None, "schedule", decision.reason)


ML_SENSORS = [retrain_on_monitoring_sensor, no_champion_sensor, new_champion_sensor, new_week_sensor]
ML_SCHEDULES = [retrain_schedule]
