"""The run-failure recorder, evaluated on a real ephemeral Dagster instance."""

from __future__ import annotations

import dagster as dg

from ovni_assets.defs.sensors import run_failure_recorder
from ovni_assets.monitoring.run_failures import recent_run_failures


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
            resources={"settings": ovni_home},
        ).for_run_failure()

        run_failure_recorder(context)

        reason = instance.get_run_by_id(result.run_id).tags["ovni/failure_reason"]
        assert reason == "rejected transacciones_x.csv: the file has no rows"
        recorded = recent_run_failures(ovni_home)
        assert recorded[-1]["run_id"] == result.run_id
        assert recorded[-1]["job"] == "failing_job"
        assert "the file has no rows" in recorded[-1]["reason"]
