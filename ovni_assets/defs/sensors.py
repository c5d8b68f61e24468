"""Failed runs get their reason recorded (new files and the rest of the cycle: `cycle_sensors`)."""

import dagster as dg

from ovni_assets.defs.errors import one_line_reason
from ovni_assets.monitoring.run_failures import record_failed_run
from ovni_assets.settings import OvniSettings


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run with its reason: a run tag shown in the runs list and a line in "
    "$OVNI_HOME/run_failures.jsonl; ends the MLflow run a dead training left running.",
)
def run_failure_recorder(
    context: dg.RunFailureSensorContext, settings: dg.ResourceParam[OvniSettings]
) -> None:
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    if step_failures:
        reason = one_line_reason(step_failures[0].event_specific_data.error)
    else:
        reason = context.failure_event.message or "unknown reason"
    if record_failed_run(context.instance, settings, run, reason):
        context.log.info(f"Run {run.run_id} ({run.job_name}) failed: {reason}")


ALL_SENSORS = [run_failure_recorder]
