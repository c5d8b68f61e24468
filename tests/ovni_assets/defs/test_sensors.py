"""The landing sensor and the run-failure recorder, evaluated on a real ephemeral Dagster instance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import dagster as dg
import duckdb

from ovni_assets.data.ingestion import ingest_landing
from ovni_assets.defs.sensors import landing_sensor, run_failure_recorder
from ovni_assets.monitoring.run_failures import recent_run_failures


def evaluate(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return landing_sensor(context), context


def test_landing_sensor_requests_one_run_per_new_or_changed_file(ovni_home):
    landing = ovni_home.landing_dir
    with dg.instance_for_test() as instance:
        result, _ = evaluate(instance)
        assert isinstance(result, dg.SkipReason)

        (landing / "transacciones_w1.parquet").write_bytes(b"one")
        (landing / "readme.txt").write_text("not a data file")
        first, _ = evaluate(instance)
        assert [r.tags["ovni/files"] for r in first.run_requests] == ["transacciones_w1.parquet"]
        assert first.run_requests[0].job_name in (None, "ingest_job")

        again, _ = evaluate(instance, cursor=first.cursor)
        assert isinstance(again, dg.SkipReason)

        (landing / "clientes.csv").write_text("customer_id\n1\n")
        second, _ = evaluate(instance, cursor=first.cursor)
        assert [r.tags["ovni/files"] for r in second.run_requests] == ["clientes.csv"]
        assert second.run_requests[0].run_key != first.run_requests[0].run_key

        # The same name with new bytes counts as new (ingestion then decides by content hash).
        path = landing / "clientes.csv"
        path.write_text("customer_id\n1\n2\n")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        third, _ = evaluate(instance, cursor=second.cursor)
        assert [r.tags["ovni/files"] for r in third.run_requests] == ["clientes.csv"]
        assert set(json.loads(third.cursor)) == {"transacciones_w1.parquet", "clientes.csv"}


def ingest_into_warehouse(settings):
    """What `ovni run`'s ingest does to the landing zone (the real ingestion into the real warehouse)."""
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        return ingest_landing(con, settings.landing_dir, settings.quarantine_dir)
    finally:
        con.close()


def test_first_tick_skips_files_an_ovni_run_already_ingested(ovni_home, small_landing):
    for name in ("clientes.parquet", "productos.parquet", "transacciones.parquet"):
        shutil.copy(small_landing / name, ovni_home.landing_dir / name)
    assert len(ingest_into_warehouse(ovni_home).ingested) == 3
    with dg.instance_for_test() as instance:
        first, _ = evaluate(instance)  # the daemon's first tick: no cursor yet
        assert not first.run_requests
        assert "already ingested" in first.skip_reason.skip_message
        assert set(json.loads(first.cursor)) == {
            "clientes.parquet",
            "productos.parquet",
            "transacciones.parquet",
        }

        # a copy of ingested bytes under a new name is not new either; a file with new bytes is
        shutil.copy(small_landing / "clientes.parquet", ovni_home.landing_dir / "clientes_copy.parquet")
        (ovni_home.landing_dir / "transacciones_w2.csv").write_text("customer_id\n1\n")
        second, _ = evaluate(instance, cursor=first.cursor)
        assert [r.tags["ovni/files"] for r in second.run_requests] == ["transacciones_w2.csv"]
        assert "clientes_copy.parquet" in json.loads(second.cursor)


def test_a_busy_warehouse_falls_back_to_requesting_the_run(ovni_home, small_landing):
    shutil.copy(small_landing / "clientes.parquet", ovni_home.landing_dir / "clientes.parquet")
    ingest_into_warehouse(ovni_home)
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
            result, _ = evaluate(instance)
        assert [r.tags["ovni/files"] for r in result.run_requests] == ["clientes.parquet"]
    finally:
        holder.kill()
        holder.wait()


@dg.op
def explode():
    raise dg.Failure(description="rejected transacciones_x.csv: the file has no rows")


@dg.job
def failing_job():
    explode()


def test_run_failure_recorder_tags_the_run_and_writes_the_reason(ovni_home):
    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        failure_event = next(
            e.dagster_event
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
        )
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_recorder",
            dagster_event=failure_event,
            dagster_instance=instance,
            dagster_run=run,
        ).for_run_failure()

        run_failure_recorder(context)

        reason = instance.get_run_by_id(result.run_id).tags["ovni/failure_reason"]
        assert reason == "rejected transacciones_x.csv: the file has no rows"
        recorded = recent_run_failures(ovni_home)
        assert recorded[-1]["run_id"] == result.run_id
        assert recorded[-1]["job"] == "failing_job"
        assert "the file has no rows" in recorded[-1]["reason"]


def test_landing_sensor_skips_a_file_until_it_has_settled(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_LANDING_SETTLE_SECONDS", "60")
    landing = ovni_home.landing_dir
    with dg.instance_for_test() as instance:
        growing = landing / "transacciones_w40.csv"
        growing.write_text("customer_id,product_id\n1,")
        (landing / "transacciones_w41.csv.part").write_text("customer_id\n")
        (landing / ".transacciones_w42.csv").write_text("customer_id\n")
        first, _ = evaluate(instance)
        assert isinstance(first, dg.SkipReason)

        # Untouched for the settle time: the next tick takes it.
        old = growing.stat().st_mtime_ns - 61 * 10**9
        os.utime(growing, ns=(old, old))
        second, _ = evaluate(instance)
        assert [r.tags["ovni/files"] for r in second.run_requests] == ["transacciones_w40.csv"]
        assert set(json.loads(second.cursor)) == {"transacciones_w40.csv"}
