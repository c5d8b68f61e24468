"""Dead runs never block the queue: the run launcher tells Dagster's run monitoring whether a run's process
is alive, and `ovni run` fails the dead runs of its instance before it starts. Either way the failure is
recorded by `record_failed_run`, which also ends the MLflow run of a dead training (KILLED), so the MLflow UI
does not show it running for good: by `ovni run` here, on the daemon by the run failure sensor.

Both ask the same question of the run's liveness lock (`ovni_assets.cycle.liveness`), which its process
holds while it executes. Both instance configs (`OVNI_HOME/dagster/dagster.yaml` and `deploy/dagster.yaml`)
name `OvniRunLauncher` and switch run monitoring on.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import RunRecord

from ovni_assets.cycle import liveness
from ovni_assets.monitoring.run_failures import record_failed_run
from ovni_assets.settings import OvniSettings, get_settings

# A run that is STARTED but whose process never took its lock within this time never reached its execution.
START_GRACE_SECONDS = 120.0
UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def why_dead(record: RunRecord, liveness_dir: Path, now: float | None = None) -> str | None:
    """Why the run's process is gone, or None while it may be alive."""
    run_id = record.dagster_run.run_id
    alive = liveness.is_alive(liveness_dir, run_id)
    if alive:
        return None
    if alive is False:
        return "its process died: it released its liveness lock without ending the run"
    started = record.start_time or record.create_timestamp.timestamp()
    if (now or time.time()) - started > START_GRACE_SECONDS:
        return f"no process has held its liveness lock in the {START_GRACE_SECONDS:.0f} s since it started"
    return None


def fail_dead_runs(instance: dg.DagsterInstance, settings: OvniSettings) -> list[str]:
    """Mark every unfinished run whose process is gone as failed (freeing the queue) and record it (no
    failure sensor runs without the daemon); their ids."""
    liveness_dir = settings.run_liveness_dir
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED)):
        reason = why_dead(record, liveness_dir)
        if reason is None:
            continue
        time.sleep(1.0)  # a run that just ended normally drops its lock a moment before its status moves
        run = instance.get_run_by_id(record.dagster_run.run_id)
        if run is None or run.status != record.dagster_run.status:  # it moved on meanwhile
            continue
        message = f"Marked failed by OVNI: {reason}."
        instance.report_run_failed(run, message)
        liveness.forget(liveness_dir, run.run_id)
        record_failed_run(instance, settings, run, message)
        failed.append(run.run_id)
    return failed


def forget_finished_runs(instance: dg.DagsterInstance, liveness_dir: Path) -> None:
    """Remove the lock files left by runs that are finished (e.g. marked failed by the code server)."""
    if not liveness_dir.exists():
        return
    for lock in liveness_dir.glob("*.lock"):
        run = instance.get_run_by_id(lock.stem)
        if (run is None or run.is_finished) and liveness.is_alive(liveness_dir, lock.stem) is not True:
            liveness.forget(liveness_dir, lock.stem)


class OvniRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher (runs start as subprocesses of the code server) that can answer run
    monitoring's health check from the run's liveness lock."""

    @functools.cached_property
    def liveness_dir(self) -> Path:
        """Where runs hold their liveness locks: from the settings of the process run monitoring is in."""
        return get_settings().run_liveness_dir

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        record = self._instance.get_run_record_by_id(run.run_id) if self._instance else None
        if record is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "run not found")
        reason = why_dead(record, self.liveness_dir)
        if reason is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        time.sleep(1.0)  # a run that just ended normally drops its lock a moment before its status moves
        latest = self._instance.get_run_by_id(run.run_id)
        if latest is not None and latest.is_finished:
            return CheckRunHealthResult(WorkerStatus.SUCCESS)
        liveness.forget(self.liveness_dir, run.run_id)
        # the run failure sensor ends the training's MLflow run once monitoring has failed the run
        return CheckRunHealthResult(WorkerStatus.FAILED, reason)
