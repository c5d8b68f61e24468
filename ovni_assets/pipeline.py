"""`ovni run`: the weekly cycle, executed as Dagster runs on the OVNI instance (visible in the Dagster UI)."""

from __future__ import annotations

import sys

import dagster as dg

from ovni_assets.settings import OvniSettings, get_settings


class RunFailed(Exception):
    """A pipeline run failed; the message is the one-line reason."""


def failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """The first step failure's message, in one line (falls back to the run failure event)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            # dg.Failure carries its description as the message's first line.
            while error.cause is not None and not error.message.strip():
                error = error.cause
            return (
                error.message.strip()
                .splitlines()[0]
                .removeprefix("dagster._core.definitions.events.Failure: ")
            )
    return "the run failed (see the Dagster UI for the logs)"


def execute_job(
    job_name: str, settings: OvniSettings, tags: dict[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """Run one job of the code location in this process, recorded in the OVNI Dagster instance."""
    settings.ensure_layout()
    from ovni_assets.definitions import defs

    job = defs.resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags or {})
    if not result.success:
        raise RunFailed(failure_reason(result))
    return result


def run_weekly_cycle(force_retrain: bool = False) -> int:
    """Ingest what is new and refresh everything downstream. Exit code for the CLI."""
    settings = get_settings()
    try:
        execute_job("ingest_job", settings, tags={"ovni/trigger": "cli"})
    except RunFailed as failed:
        print(f"ovni run: {failed}", file=sys.stderr)
        return 1
    print(f"ovni run: done (OVNI_HOME={settings.home})")
    return 0
