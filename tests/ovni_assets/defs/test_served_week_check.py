"""`served_week_is_current` on the published snapshot, and the daily job and schedule that run it alone: the
check reads serving.duckdb and the event log, never the warehouse, so its job runs while another run holds
the warehouse lock."""

from __future__ import annotations

import time
from datetime import date

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

from ovni_assets.defs.checks import served_week_is_current
from ovni_assets.defs.schedules import served_week_schedule_in
from ovni_assets.settings import OvniSettings, get_settings
from ovni_assets.warehouse import run_lock
from tests.webhook import Receiver

SERVED = date(2024, 10, 7)


def publish(settings: OvniSettings, target_week: date) -> None:
    """A serving.duckdb whose snapshot_info names `target_week` (all the check reads)."""
    settings.serving_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.serving_path)) as con:
        con.execute(
            "CREATE TABLE snapshot_info AS SELECT ?::DATE AS target_week, 'b1' AS batch_id", [target_week]
        )


def features_built(instance: dg.DagsterInstance, target_week: date) -> None:
    """A `pair_features` materialization in the event log naming its target week."""
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        event_specific_data=StepMaterializationData(
            dg.AssetMaterialization("pair_features", metadata={"target_week": str(target_week)})
        ),
        job_name=RUNLESS_JOB_NAME,
    )
    instance.report_dagster_event(event, run_id=RUNLESS_RUN_ID, timestamp=time.time())


def evaluate(settings: OvniSettings, instance: dg.DagsterInstance) -> tuple[dg.AssetCheckEvaluation, dict]:
    """The check run alone in a job, as `served_week_job` runs it, on these settings."""
    job = dg.define_asset_job("check_alone", selection=dg.AssetSelection.checks(served_week_is_current))
    defs = dg.Definitions(asset_checks=[served_week_is_current], jobs=[job], resources={"settings": settings})
    (evaluation,) = (
        defs.resolve_job_def("check_alone")
        .execute_in_process(instance=instance)
        .get_asset_check_evaluations()
    )
    return evaluation, {key: getattr(value, "value", value) for key, value in evaluation.metadata.items()}


def pinned(settings: OvniSettings, today: date) -> OvniSettings:
    return settings.model_copy(update={"freshness_today": today})


def test_the_served_week_passes_until_the_grace_is_over(ovni_home):
    publish(ovni_home, SERVED)
    with dg.instance_for_test() as instance:
        result, metadata = evaluate(pinned(ovni_home, date(2024, 10, 15)), instance)
    assert result.passed
    assert metadata["served_target_week"] == "2024-10-07" and metadata["days_late"] == 0
    assert metadata["fresh_until"] == "2024-10-15" and metadata["grace_days"] == 2


def test_a_stale_week_warns_with_the_days_late_and_where_the_delay_is(ovni_home):
    publish(ovni_home, SERVED)
    with dg.instance_for_test() as instance:
        result, metadata = evaluate(pinned(ovni_home, date(2024, 10, 18)), instance)
        assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
        assert metadata == {
            "served_target_week": "2024-10-07",
            "today": "2024-10-18",
            "timezone": "America/Santiago",
            "days_late": 3,
            "grace_days": 2,
            "fresh_until": "2024-10-15",
            "reason": metadata["reason"],
            "pipeline_target_week": "",
        }
        assert "is 3 days late on 2024-10-18" in metadata["reason"]
        assert "check that the week's transactions file has landed" in result.description

        features_built(instance, date(2024, 10, 14))  # the data is in; its batch is not served
        _result, metadata = evaluate(pinned(ovni_home, date(2024, 10, 18)), instance)
    assert metadata["pipeline_target_week"] == "2024-10-14"
    assert "the batch for it is not published yet" in metadata["reason"]


def test_nothing_served_is_a_warning_too(ovni_home):
    with dg.instance_for_test() as instance:
        result, metadata = evaluate(ovni_home, instance)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert metadata["reason"] == "no readable serving snapshot"


def test_the_job_runs_the_check_alone_while_another_run_holds_the_warehouse(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_FRESHNESS_TODAY", "2024-10-20")
    monkeypatch.setenv("OVNI_RUN_LOCK_TIMEOUT_SECONDS", "1")  # a job taking the lock would fail at once
    publish(ovni_home, SERVED)
    from ovni_assets.definitions import build_definitions

    job = build_definitions().resolve_job_def("served_week_job")
    settings = get_settings()
    with run_lock(settings.run_lock_path, 5), dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    assert result.get_asset_materialization_events() == []
    evaluations = result.get_asset_check_evaluations()
    assert [(e.asset_key.to_user_string(), e.check_name) for e in evaluations] == [
        ("serving_snapshot", "served_week_is_current")
    ]
    assert not evaluations[0].passed and evaluations[0].metadata["days_late"].value == 5


@pytest.mark.parametrize("timezone", ["America/Santiago", "UTC"])
def test_the_schedule_runs_the_job_every_morning_in_the_configured_time_zone(timezone):
    schedule = served_week_schedule_in(timezone)
    assert schedule.name == "served_week_schedule" and schedule.job_name == "served_week_job"
    assert schedule.cron_schedule == "0 6 * * *" and schedule.execution_timezone == timezone
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING  # cheap: on by default
    with dg.instance_for_test() as instance:
        requests = schedule.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests
    assert len(requests) == 1


def test_the_code_location_schedules_it_in_ovni_timezone(monkeypatch, ovni_home):
    monkeypatch.setenv("OVNI_TIMEZONE", "Europe/Madrid")
    from ovni_assets.definitions import build_definitions

    schedule = build_definitions().resolve_schedule_def("served_week_schedule")
    assert schedule.execution_timezone == "Europe/Madrid"


def test_a_stale_week_alerts_once_within_the_cooldown(ovni_home, monkeypatch):
    publish(ovni_home, SERVED)
    from ovni_assets.definitions import build_definitions

    receiver = Receiver()
    monkeypatch.setenv("OVNI_ALERT_WEBHOOK_URL", receiver.url)
    try:
        with dg.instance_for_test() as instance:
            for today in ("2024-10-18", "2024-10-18", "2024-10-15"):  # the second within the cooldown; fresh
                monkeypatch.setenv("OVNI_FRESHNESS_TODAY", today)
                job = build_definitions().resolve_job_def("served_week_job")
                assert job.execute_in_process(instance=instance).success
    finally:
        receiver.close()
    (alert,) = receiver.bodies
    assert alert["event"] == "data_stale" and alert["served_week"] == "2024-10-07"
    assert "3 days late" in alert["text"] and alert["run_id"] in alert["dagster_run"]
