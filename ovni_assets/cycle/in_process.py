"""Jobs of the code location executed in this process, as Dagster runs on the OVNI instance (visible in
the Dagster UI): what `ovni run` and `ovni retract` use."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from ovni_assets.defs.errors import one_line_reason
from ovni_assets.settings import OvniSettings

# `ovni run` prints its own summary and the one-line reason of a failure; every event stays in the instance.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class RunFailed(Exception):
    """A pipeline run failed; the message is the one-line reason."""


def failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """The first step failure's reason, in one line (falls back to a pointer at the Dagster UI)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            return one_line_reason(event.step_failure_data.error)
    return "the run failed (see the Dagster UI for the logs)"


def execute_job(
    job_name: str,
    instance: dg.DagsterInstance,
    settings: OvniSettings,
    tags: dict[str, str] | None = None,
    quiet: bool = False,
    assets: tuple[str, ...] | None = None,
) -> dg.ExecuteInProcessResult:
    """Run one job of the code location in this process, recorded in the OVNI Dagster instance.

    `quiet` keeps the console to warnings (every event still lands in the instance's event log); `assets`
    runs only those assets of the job. A failed run is recorded (`record_failed_run`) as the daemon's are.
    """
    from ovni_assets.definitions import build_definitions
    from ovni_assets.monitoring.run_failures import record_failed_run

    job = build_definitions().resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags=tags or {},
        run_config=QUIET_CONSOLE if quiet else None,
        asset_selection=[dg.AssetKey(asset) for asset in assets] if assets else None,
    )
    if not result.success:
        reason = failure_reason(result)
        record_failed_run(instance, settings, result.dagster_run, reason)
        raise RunFailed(reason)
    return result


@contextlib.contextmanager
def open_stores(settings: OvniSettings) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance of the cycle, with it and the MLflow store and experiment created under the run
    lock: two processes creating a SQLite store at once (Dagster's or MLflow's) race on its schema."""
    from ovni_assets.model.registry import ensure_experiment
    from ovni_assets.warehouse import run_lock

    with run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds):
        ensure_experiment(settings)
        instance = dg.DagsterInstance.get()
    with instance:
        yield instance
