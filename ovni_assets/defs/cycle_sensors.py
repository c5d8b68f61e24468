"""The daemon's side of the weekly cycle: `cycle_sensor` takes one step of `plan_next_step` per tick, and
the weekly schedule asks the same plan with a schedule tick (the fallback retrain).

Both read the facts exactly as `ovni run` does (`read_cycle_facts`) and tag their runs the same way
(`step_tags`). One key (the facts a step answers) is tried at most `MAX_ATTEMPTS` times: a step that keeps
failing on the same data waits for new data or a person, instead of looping.

Sensors rather than declarative automation (`AutomationCondition`): the next step depends on the MLflow
registry (champion, registered versions), the landing zone and the served snapshot, which are not assets'
materialization state, and on `decide_retrain`'s cooldown and evidence rules.
"""

import dagster as dg

from ovni_assets.cycle.facts import read_cycle_facts
from ovni_assets.cycle.plan import Step, StepKind, plan_next_step
from ovni_assets.defs.jobs import ingest_job, predict_job, train_job, weekly_job
from ovni_assets.defs.run_launcher import forget_finished_runs
from ovni_assets.keys import STEP_KEY_TAG
from ovni_assets.settings import OvniSettings

MAX_ATTEMPTS = 3
FAILED = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def request_step(instance: dg.DagsterInstance, step: Step, trigger: str) -> dg.RunRequest | dg.SkipReason:
    """A run request for the step, unless its key already failed `MAX_ATTEMPTS` times."""
    key = step.key_tag
    failures = len(instance.get_run_ids(dg.RunsFilter(tags={STEP_KEY_TAG: key}, statuses=FAILED)))
    if failures >= MAX_ATTEMPTS:
        return dg.SkipReason(
            f"{step.kind} ({step.reason}) failed {failures} times on the same facts: it waits for new data, "
            "`ovni run`, or a run started by hand (see the failed runs for why)"
        )
    return dg.RunRequest(
        run_key=f"{key}#{failures}",
        job_name=step.job_name,
        tags=step.run_tags(trigger),
        asset_selection=[dg.AssetKey(asset) for asset in step.assets] if step.assets else None,
    )


def cycle_sensor_every(interval_seconds: int) -> dg.SensorDefinition:
    """`cycle_sensor`, ticking every `interval_seconds` (OVNI_CYCLE_INTERVAL_SECONDS)."""

    @dg.sensor(
        name="cycle_sensor",
        jobs=[ingest_job, weekly_job, train_job, predict_job],
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="The weekly cycle on the daemon: each tick asks `plan_next_step` (the function `ovni "
        "run` executes) and starts the run of its step: ingest new files, rebuild after an interrupted "
        "ingest, train (first model, drift, degradation, age), predict the target week, republish the "
        "snapshot.",
    )
    def cycle_sensor(
        context: dg.SensorEvaluationContext, settings: dg.ResourceParam[OvniSettings]
    ) -> dg.RunRequest | dg.SkipReason:
        return next_step(context, settings)

    return cycle_sensor


def next_step(context: dg.SensorEvaluationContext, settings: OvniSettings) -> dg.RunRequest | dg.SkipReason:
    """One tick of `cycle_sensor`: the run of the plan's next step, or why there is none."""
    forget_finished_runs(context.instance, settings.run_liveness_dir)
    facts = read_cycle_facts(context.instance, settings, wait_for_warehouse=False)
    step = plan_next_step(facts)
    context.log.info(f"plan_next_step: {step.kind}: {step.reason}")
    if not step.runs_something:
        return dg.SkipReason(f"{step.kind}: {step.reason}")
    return request_step(context.instance, step, "sensor")


@dg.schedule(
    cron_schedule="0 3 * * 1",
    job=train_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Weekly fallback retrain (Mondays 03:00 UTC): asks `plan_next_step` with a schedule tick; "
    "trains unless a training happened within the cooldown or another step comes first.",
)
def retrain_schedule(
    context: dg.ScheduleEvaluationContext, settings: dg.ResourceParam[OvniSettings]
) -> dg.RunRequest | dg.SkipReason:
    facts = read_cycle_facts(context.instance, settings, wait_for_warehouse=False, scheduled_tick=True)
    step = plan_next_step(facts)
    if step.kind is not StepKind.TRAIN:
        return dg.SkipReason(f"the next step is {step.kind}, not a training: {step.reason}")
    return request_step(context.instance, step, "schedule")


CYCLE_SCHEDULES = [retrain_schedule]
