"""`cycle_sensor` and the retrain schedule on a real Dagster instance, a real MLflow registry, a real
landing zone and warehouse: each tick takes the plan's one step."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import dagster as dg
import duckdb
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
from mlflow import MlflowClient

from ovni_assets.data.ingestion import ingest_landing
from ovni_assets.defs.cycle_sensors import (
    CYCLE_SCHEDULES,
    MAX_ATTEMPTS,
    cycle_sensor_every,
    retrain_schedule,
)
from ovni_assets.keys import REQUIRED_VERSION_TAGS, STEP_KEY_TAG
from ovni_assets.model.registry import ensure_experiment
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, get_settings


def report(instance, asset, hours_ago: float = 0.0, **metadata):
    """A materialization of `asset` in the event log, optionally dated in the past."""
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        event_specific_data=StepMaterializationData(dg.AssetMaterialization(asset, metadata=metadata)),
        job_name=RUNLESS_JOB_NAME,
    )
    instance.report_dagster_event(event, run_id=RUNLESS_RUN_ID, timestamp=time.time() - hours_ago * 3600)


def ingested(instance, newest_week="2024-09-30", hours_ago=0.0):
    """The event log of a completed ingest: raw tables, then features and monitoring built from them."""
    for asset in ("raw_transactions", "raw_customers", "raw_products"):
        report(instance, asset, hours_ago)
    report(instance, "pair_features", hours_ago, newest_feature_week=newest_week)
    report(instance, "drift_report", hours_ago, drifted_features=0, reference_model_version="")
    report(instance, "prediction_quality", hours_ago, latest_model_version="")


def register_champion(settings, champion=True) -> str:
    """A complete registered version in the real MLflow registry (a training's tags, a stand-in source)."""
    ensure_experiment(settings)
    client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
    if not client.search_registered_models(f"name = '{MODEL_NAME}'"):
        client.create_registered_model(MODEL_NAME)
    version = client.create_model_version(MODEL_NAME, settings.mlartifacts_dir.as_uri(), run_id=None)
    for tag in REQUIRED_VERSION_TAGS:
        client.set_model_version_tag(MODEL_NAME, version.version, tag, "{}" if "weekly" in tag else "0.5")
    if champion:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version.version)
    return str(version.version)


def served_a_day_ago(instance, settings) -> str:
    """A champion trained 30 hours ago (past the cooldown) that scored the target week; its version."""
    ingested(instance, hours_ago=30)
    version = register_champion(settings)
    report(instance, "purchase_model", hours_ago=30, champion_version=version, model_version=version)
    report(instance, "predictions", batch_id="b1", target_week="2024-10-07", model_version=version)
    return version


cycle_sensor = cycle_sensor_every(30)


def tick(instance):
    return cycle_sensor(dg.build_sensor_context(instance=instance, resources={"settings": get_settings()}))


def test_the_sensor_and_the_schedule_run_by_default_and_start_the_cycle_jobs():
    assert cycle_sensor.name == "cycle_sensor" and cycle_sensor.minimum_interval_seconds == 30
    assert cycle_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert {target.job_name for target in cycle_sensor.targets} == {
        "ingest_job",
        "weekly_job",
        "train_job",
        "predict_job",
    }
    assert [s.name for s in CYCLE_SCHEDULES] == ["retrain_schedule"]
    assert retrain_schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_fresh_home_waits_for_data_and_new_files_start_an_ingest(ovni_home, small_landing):
    with dg.instance_for_test() as instance:
        assert "no data yet" in tick(instance).skip_message
        shutil.copy(small_landing / "clientes.parquet", ovni_home.landing_dir / "clientes.parquet")
        (ovni_home.landing_dir / "readme.txt").write_text("not a data file")
        request = tick(instance)
        assert request.job_name == "ingest_job"
        assert request.tags["ovni/step"] == "ingest" and request.tags["ovni/trigger"] == "sensor"
        assert "new data (clientes.parquet)" in request.tags["ovni/step_reason"]
        assert tick(instance).run_key == request.run_key  # the daemon launches it once


def test_files_whose_bytes_are_ingested_are_not_new(ovni_home, small_landing):
    shutil.copy(small_landing / "clientes.parquet", ovni_home.landing_dir / "clientes.parquet")
    with duckdb.connect(str(ovni_home.warehouse_path)) as con:
        ingest_landing(con, ovni_home.landing_dir, ovni_home.quarantine_dir)
    shutil.copy(small_landing / "clientes.parquet", ovni_home.landing_dir / "clientes_copy.parquet")
    with dg.instance_for_test() as instance:
        ingested(instance)
        register_champion(ovni_home)
        step = tick(instance)
        assert step.job_name == "predict_job"  # not an ingest: both files hold ingested bytes


def test_a_busy_warehouse_or_a_run_in_flight_makes_the_tick_wait(ovni_home, small_landing):
    shutil.copy(small_landing / "clientes.parquet", ovni_home.landing_dir / "clientes.parquet")
    with duckdb.connect(str(ovni_home.warehouse_path)) as con:
        ingest_landing(con, ovni_home.landing_dir, ovni_home.quarantine_dir)
    shutil.copy(small_landing / "productos.parquet", ovni_home.landing_dir / "productos.parquet")
    holder = subprocess.Popen(  # another process (a run) holds the warehouse open for writing
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "time.sleep(60)",
            str(ovni_home.warehouse_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with dg.instance_for_test() as instance:
            assert tick(instance).skip_message.startswith("wait:")
    finally:
        holder.kill()
        holder.wait()
    with dg.instance_for_test() as instance:
        assert tick(instance).job_name == "ingest_job"
        instance.add_run(DagsterRun(job_name="train_job", run_id="r" * 32, status=DagsterRunStatus.STARTED))
        assert "rrrrrrrr in flight" in tick(instance).skip_message


def test_first_model_then_the_target_week_then_nothing(ovni_home):
    with dg.instance_for_test() as instance:
        ingested(instance)
        train = tick(instance)
        assert train.job_name == "train_job"
        assert train.tags["ovni/retrain_reason"].startswith("no champion")

        register_champion(ovni_home)
        report(instance, "purchase_model", champion_version="1", model_version="1")
        predict = tick(instance)
        assert predict.job_name == "predict_job" and predict.asset_selection is None
        assert "new target week 2024-10-07" in predict.tags["ovni/step_reason"]

        report(instance, "predictions", batch_id="b1", target_week="2024-10-07", model_version="1")
        republish = tick(instance)  # the batch is in the warehouse but serving.duckdb was never written
        assert republish.asset_selection == [dg.AssetKey("serving_snapshot")]
        with duckdb.connect(str(ovni_home.serving_path)) as con:
            con.execute("CREATE TABLE snapshot_info AS SELECT 'b1' AS batch_id")
            con.execute("CREATE TABLE model_versions AS SELECT '1' AS model_version")
        assert "are current (champion v1)" in tick(instance).skip_message

        register_champion(ovni_home, champion=False)  # a challenger that lost
        assert "does not list model version(s) v2" in tick(instance).tags["ovni/step_reason"]


def test_a_manual_promotion_is_scored_because_the_registry_says_so(ovni_home):
    with dg.instance_for_test() as instance:
        first = served_a_day_ago(instance, ovni_home)
        second = register_champion(ovni_home)  # `ovni promote` moves the alias: no training happened
        request = tick(instance)
        assert request.job_name == "predict_job"
        assert f"new champion v{second} (batch was v{first})" in request.tags["ovni/step_reason"]


def test_drift_retrains_once_per_report_and_a_failing_step_stops_after_its_attempts(ovni_home):
    with dg.instance_for_test() as instance:
        version = served_a_day_ago(instance, ovni_home)
        report(instance, "drift_report", drifted_features=3, reference_model_version=version, week_start="x")
        request = tick(instance)
        assert request.job_name == "train_job" and request.tags["ovni/retrain_reason"].startswith("drift")

        key = request.tags[STEP_KEY_TAG]
        for attempt in range(MAX_ATTEMPTS):
            assert tick(instance).run_key == f"{key}#{attempt}"  # each failure lets one more attempt go
            instance.add_run(
                DagsterRun(job_name="train_job", tags={STEP_KEY_TAG: key}, status=DagsterRunStatus.FAILURE)
            )
        stopped = tick(instance)
        assert f"failed {MAX_ATTEMPTS} times on the same facts" in stopped.skip_message

        # The training answered the report: the same drift no longer asks for one.
        report(instance, "purchase_model", champion_version=version, model_version="2")
        assert getattr(tick(instance), "job_name", None) != "train_job"


def test_the_weekly_schedule_retrains_unless_within_the_cooldown(ovni_home):
    with dg.instance_for_test() as instance:
        version = served_a_day_ago(instance, ovni_home)
        settings = {"settings": get_settings()}
        with dg.build_schedule_context(
            instance=instance, resources=settings
        ) as context:  # closes the instance
            request = retrain_schedule(context)
        assert request.tags["ovni/retrain_reason"] == "weekly schedule (fallback retrain)"
        assert request.tags["ovni/trigger"] == "schedule"

        report(instance, "purchase_model", champion_version=version, model_version="2")
        with dg.build_schedule_context(instance=instance, resources=settings) as context:
            skipped = retrain_schedule(context)
        assert "not a training" in skipped.skip_message


def test_a_file_still_being_written_waits_for_a_later_tick(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_LANDING_SETTLE_SECONDS", "60")
    landing = ovni_home.landing_dir
    with dg.instance_for_test() as instance:
        growing = landing / "transacciones_w40.csv"
        growing.write_text("customer_id,product_id\n1,")
        (landing / "transacciones_w41.csv.part").write_text("customer_id\n")
        (landing / ".transacciones_w42.csv").write_text("customer_id\n")
        assert "no data yet" in tick(instance).skip_message

        # Untouched for the settle time: the next tick takes it (never the partial or hidden names).
        old = growing.stat().st_mtime_ns - 61 * 10**9
        os.utime(growing, ns=(old, old))
        request = tick(instance)
        assert request.job_name == "ingest_job"
        assert request.tags["ovni/step_reason"] == "new data (transacciones_w40.csv)"
