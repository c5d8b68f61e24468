"""A run whose process died never stays in flight: its liveness lock tells, on real processes killed -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.launcher import WorkerStatus

from ovni_assets.cycle import liveness
from ovni_assets.cycle.facts import runs_in_flight
from ovni_assets.defs.run_launcher import OvniRunLauncher, fail_dead_runs, why_dead
from ovni_assets.keys import FAILURE_REASON_TAG
from ovni_assets.monitoring.run_failures import recent_run_failures

HOLD = "import sys, time; from pathlib import Path; from ovni_assets.cycle.liveness import hold_liveness\n"


def test_the_lock_tells_a_live_process_from_a_killed_one(tmp_path):
    code = (
        HOLD + "with hold_liveness(Path(sys.argv[1]), 'r1'):\n    print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert liveness.is_alive(tmp_path, "r1") is True
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert liveness.is_alive(tmp_path, "r1") is False  # the file stayed, the kernel dropped the lock
    liveness.forget(tmp_path, "r1")
    assert liveness.is_alive(tmp_path, "r1") is None

    with liveness.hold_liveness(tmp_path, "r2"):
        assert liveness.is_alive(tmp_path, "r2") is True
    assert liveness.is_alive(tmp_path, "r2") is None  # a normal end leaves no file behind


RUN_A_JOB = textwrap.dedent(
    """
    import time
    import dagster as dg
    from ovni_assets.settings import get_settings
    from ovni_assets.defs.resources import warehouse_resource

    @dg.asset(required_resource_keys={"warehouse"})
    def slow_step(context):
        print("running", flush=True)
        time.sleep(120)

    job = dg.define_asset_job("stand_in_job", selection=[slow_step])
    defs = dg.Definitions(
        assets=[slow_step], jobs=[job], resources={"warehouse": warehouse_resource(get_settings())}
    )
    with dg.DagsterInstance.get() as instance:
        defs.resolve_job_def("stand_in_job").execute_in_process(instance=instance)
    """
)


def kill_a_run_mid_step(settings) -> None:
    """Start a real run on the home's instance and kill -9 its process inside its step."""
    worker = subprocess.Popen(
        [sys.executable, "-c", RUN_A_JOB],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OVNI_HOME": str(settings.home), "DAGSTER_HOME": str(settings.dagster_home)},
    )
    try:
        assert worker.stdout.readline().strip() == "running"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


@pytest.mark.slow
def test_a_killed_run_is_failed_by_ovni_run_and_by_run_monitoring(ovni_home):
    """A run killed -9 mid-step stays STARTED; `fail_dead_runs` (what `ovni run` does first) and the run
    launcher's health check (what the daemon's run monitoring asks) both see it dead."""
    kill_a_run_mid_step(ovni_home)
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.STARTED  # nobody recorded the death
        assert runs_in_flight(instance) == (run.run_id,)  # it would block the cycle for good

        launcher = OvniRunLauncher()
        launcher.register_instance(instance)
        health = launcher.check_run_worker_health(run)
        assert health.status == WorkerStatus.FAILED and "process died" in health.msg
        assert not (ovni_home.run_liveness_dir / f"{run.run_id}.lock").exists()

    with dg.DagsterInstance.get() as instance:  # the lock file is gone now: the start grace decides
        assert fail_dead_runs(instance, ovni_home) == []  # within the grace: maybe alive
        record = instance.get_run_record_by_id(run.run_id)
        later = (record.start_time or 0) + 10_000
        assert "no process has held its liveness lock" in why_dead(record, ovni_home.run_liveness_dir, later)


@pytest.mark.slow
def test_ovni_run_fails_the_dead_run_before_it_starts(ovni_home):
    kill_a_run_mid_step(ovni_home)
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        assert fail_dead_runs(instance, ovni_home) == [run.run_id]
        failed = instance.get_run_by_id(run.run_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        assert runs_in_flight(instance) == ()
        assert not list(Path(ovni_home.run_liveness_dir).iterdir())
        [recorded] = recent_run_failures(ovni_home)  # as the daemon's failure sensor records its failures
        assert recorded["run_id"] == run.run_id and "process died" in recorded["reason"]
        assert "process died" in failed.tags[FAILURE_REASON_TAG]
