"""The ML sensors and the retrain schedule, evaluated on a real Dagster instance whose event log holds the
materializations they react to."""

from __future__ import annotations

import json
import time
import uuid

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

from ovni_assets.defs.ml_sensors import (
    ML_SCHEDULES,
    ML_SENSORS,
    new_champion_sensor,
    new_week_sensor,
    no_champion_sensor,
    retrain_on_monitoring_sensor,
    retrain_schedule,
)
from ovni_assets.monitoring.triggers import (
    RETRAIN_REASON_TAG,
    report_manual_promotion,
    retrain_facts_from_instance,
)

DAY = 24 * 3600


def report(instance, asset, hours_ago: float = 0.0, **metadata):
    """Record a runless materialization of `asset`, optionally dated in the past (a training of yesterday)."""
    materialization = dg.AssetMaterialization(asset, metadata=metadata)
    if not hours_ago:
        instance.report_runless_asset_event(materialization)
        return
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        event_specific_data=StepMaterializationData(materialization),
        job_name=RUNLESS_JOB_NAME,
    )
    instance.report_dagster_event(event, run_id=RUNLESS_RUN_ID, timestamp=time.time() - hours_ago * 3600)


def materialize_in_run(instance, asset_name, tags, **metadata):
    """A real run (with tags) that materializes `asset_name` with the given metadata."""

    @dg.asset(name=asset_name)
    def stand_in() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=metadata)

    assert dg.materialize([stand_in], instance=instance, tags=tags).success


def evaluate(sensor, instance, cursor=None):
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_sensors_and_schedule_run_by_default_and_target_the_ml_jobs():
    assert {s.name: s.job_name for s in ML_SENSORS} == {
        "retrain_on_monitoring_sensor": "train_job",
        "no_champion_sensor": "train_job",
        "new_champion_sensor": "predict_job",
        "new_week_sensor": "predict_job",
    }
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in ML_SENSORS)
    assert [(s.name, s.job_name, s.cron_schedule) for s in ML_SCHEDULES] == [
        ("retrain_schedule", "train_job", "0 3 * * 1")
    ]
    assert retrain_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_retrain_on_drift_with_the_reason_in_the_run_tags():
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(retrain_on_monitoring_sensor, instance), dg.SkipReason)

        report(instance, "purchase_model", hours_ago=48, champion_version="2")
        report(
            instance, "drift_report", drifted_features=3, reference_model_version="2", week_start="2024-09-30"
        )
        result = evaluate(retrain_on_monitoring_sensor, instance)
        [request] = result.run_requests
        assert request.tags[RETRAIN_REASON_TAG] == "drift: 3 features drifted in week 2024-09-30"
        assert request.tags["ovni/trigger"] == "monitoring"

        # the same reports again: nothing new, no second run
        assert isinstance(evaluate(retrain_on_monitoring_sensor, instance, result.cursor), dg.SkipReason)

        # a new quality report below the champion's validation F1 asks again, with a new run key
        report(
            instance, "drift_report", drifted_features=0, reference_model_version="2", week_start="2024-10-07"
        )
        report(
            instance, "prediction_quality", latest_f1=0.40, latest_model_version="2", latest_model_val_f1=0.60
        )
        again = evaluate(retrain_on_monitoring_sensor, instance, result.cursor)
        [second] = again.run_requests
        assert second.tags[RETRAIN_REASON_TAG].startswith("degradation: realized F1 0.400")
        assert second.run_key != request.run_key
        assert set(json.loads(again.cursor)) == {"drift_report", "prediction_quality"}


def test_no_retrain_when_healthy_or_within_the_cooldown():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", hours_ago=48, champion_version="2")
        report(
            instance, "drift_report", drifted_features=0, reference_model_version="2", week_start="2024-09-30"
        )
        healthy = evaluate(retrain_on_monitoring_sensor, instance)
        assert not healthy.run_requests and "champion healthy" in healthy.skip_reason.skip_message

        report(instance, "purchase_model", hours_ago=1, champion_version="3")  # just retrained
        report(
            instance, "drift_report", drifted_features=4, reference_model_version="3", week_start="2024-10-07"
        )
        cooling = evaluate(retrain_on_monitoring_sensor, instance, healthy.cursor)
        assert not cooling.run_requests
        assert cooling.skip_reason.skip_message.startswith("cooldown")


def test_monitoring_sensor_leaves_the_first_training_to_the_no_champion_sensor():
    with dg.instance_for_test() as instance:
        report(
            instance, "drift_report", drifted_features=0, reference_model_version="", week_start="2024-09-30"
        )
        result = evaluate(retrain_on_monitoring_sensor, instance)
        assert not result.run_requests and "no_champion_sensor" in result.skip_reason.skip_message


def test_no_retrain_request_while_a_training_run_is_running():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", hours_ago=48, champion_version="2")
        report(
            instance, "drift_report", drifted_features=3, reference_model_version="2", week_start="2024-09-30"
        )
        instance.add_run(
            dg.DagsterRun(job_name="train_job", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED)
        )
        result = evaluate(retrain_on_monitoring_sensor, instance)
        assert not result.run_requests and "already queued" in result.skip_reason.skip_message


def test_reports_of_an_ovni_run_cycle_are_left_to_that_cycle():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", hours_ago=48, champion_version="2")
        materialize_in_run(
            instance,
            "drift_report",
            {"ovni/trigger": "cli"},
            drifted_features=3,
            reference_model_version="2",
            week_start="2024-09-30",
        )
        result = evaluate(retrain_on_monitoring_sensor, instance)
        assert not result.run_requests and "ovni run" in result.skip_reason.skip_message

        materialize_in_run(
            instance,
            "drift_report",
            {"ovni/trigger": "landing"},
            drifted_features=3,
            reference_model_version="2",
            week_start="2024-09-30",
        )
        daemon = evaluate(retrain_on_monitoring_sensor, instance, result.cursor)
        assert len(daemon.run_requests) == 1


def test_no_champion_sensor_trains_once_per_feature_build():
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(no_champion_sensor, instance), dg.SkipReason)

        report(instance, "pair_features")
        first = evaluate(no_champion_sensor, instance)
        [request] = first.run_requests
        assert request.tags[RETRAIN_REASON_TAG].startswith("no champion")
        assert isinstance(evaluate(no_champion_sensor, instance, first.cursor), dg.SkipReason)

        # the training lost nothing but produced no champion: the next feature build tries again
        report(instance, "purchase_model", champion_version="")
        report(instance, "pair_features")
        second = evaluate(no_champion_sensor, instance, first.cursor)
        assert len(second.run_requests) == 1 and second.run_requests[0].run_key != request.run_key

        report(instance, "purchase_model", champion_version="1")
        report(instance, "pair_features")
        third = evaluate(no_champion_sensor, instance, second.cursor)
        assert not third.run_requests and "champion exists" in third.skip_reason.skip_message


def test_new_champion_refreshes_predictions_once():
    with dg.instance_for_test() as instance:
        assert isinstance(evaluate(new_champion_sensor, instance), dg.SkipReason)
        report(instance, "purchase_model", champion_version="1")
        first = evaluate(new_champion_sensor, instance)
        [request] = first.run_requests
        assert request.tags == {"ovni/trigger": "new_champion", "ovni/champion_version": "1"}
        assert first.cursor == "1"

        report(instance, "purchase_model", champion_version="1")  # challenger 2 lost: champion unchanged
        assert isinstance(evaluate(new_champion_sensor, instance, first.cursor), dg.SkipReason)

        report(instance, "purchase_model", champion_version="3")
        second = evaluate(new_champion_sensor, instance, first.cursor)
        assert [r.tags["ovni/champion_version"] for r in second.run_requests] == ["3"]


def test_a_manual_promotion_refreshes_predictions_and_becomes_the_champion_of_the_facts():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", hours_ago=30, champion_version="2")
        report(instance, "drift_report", drifted_features=0, reference_model_version="2", week_start="w")
        first = evaluate(new_champion_sensor, instance)
        assert [r.tags["ovni/champion_version"] for r in first.run_requests] == ["2"]

        report_manual_promotion(instance, "1", previous="2")  # what `ovni promote 1` records
        rollback = evaluate(new_champion_sensor, instance, first.cursor)
        [request] = rollback.run_requests
        assert request.tags == {"ovni/trigger": "manual_promotion", "ovni/champion_version": "1"}
        assert request.run_key != first.run_requests[0].run_key and rollback.cursor == "1"
        assert isinstance(evaluate(new_champion_sensor, instance, rollback.cursor), dg.SkipReason)

        facts = retrain_facts_from_instance(instance)
        assert facts.has_champion
        assert facts.drifted_features is None  # the drift report was about v2, no longer the champion
        assert facts.time_since_training.total_seconds() > 29 * 3600  # a promotion is not a training

        report(instance, "purchase_model", champion_version="1")  # a later training kept v1: nothing new
        assert isinstance(evaluate(new_champion_sensor, instance, rollback.cursor), dg.SkipReason)
        report_manual_promotion(instance, "2", previous="1")  # and forward again
        forward = evaluate(new_champion_sensor, instance, rollback.cursor)
        assert [r.tags["ovni/champion_version"] for r in forward.run_requests] == ["2"]


def test_new_week_predicts_only_with_a_champion_and_a_newer_week():
    with dg.instance_for_test() as instance:
        report(instance, "pair_features", newest_feature_week="2024-09-23")
        waiting = evaluate(new_week_sensor, instance)
        assert not waiting.run_requests and "No champion" in waiting.skip_reason.skip_message

        report(instance, "purchase_model", champion_version="1")
        assert isinstance(evaluate(new_week_sensor, instance, waiting.cursor), dg.SkipReason)
        report(instance, "pair_features", newest_feature_week="2024-09-30")
        week = evaluate(new_week_sensor, instance, waiting.cursor)
        [request] = week.run_requests
        assert request.tags == {"ovni/trigger": "new_week", "ovni/feature_week": "2024-09-30"}

        # a rebuild without a new week (say a new customers file) does not score again
        report(instance, "pair_features", newest_feature_week="2024-09-30")
        same = evaluate(new_week_sensor, instance, week.cursor)
        assert not same.run_requests and "still 2024-09-30" in same.skip_reason.skip_message
        report(instance, "pair_features", newest_feature_week="2024-10-07")
        assert len(evaluate(new_week_sensor, instance, same.cursor).run_requests) == 1


def test_weekly_schedule_retrains_unless_within_the_cooldown():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", hours_ago=1, champion_version="1")
        skipped = retrain_schedule(dg.build_schedule_context(instance=instance))
        assert isinstance(skipped, dg.SkipReason) and skipped.skip_message.startswith("cooldown")

        report(instance, "purchase_model", hours_ago=7 * 24, champion_version="1")
        request = retrain_schedule(dg.build_schedule_context(instance=instance))
        assert request.tags[RETRAIN_REASON_TAG] == "weekly schedule (fallback retrain)"
        assert request.tags["ovni/trigger"] == "schedule"
