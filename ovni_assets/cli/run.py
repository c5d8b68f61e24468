"""`ovni run`: the weekly cycle's steps executed in this process, as Dagster runs on the OVNI instance
(visible in the Dagster UI), until the plan says nothing is left.

What each step is comes from `ovni_assets.cycle.plan.plan_next_step`, the function the daemon's
`cycle_sensor` executes one step per tick: this module holds no decision of its own. Before the first
step, runs of this instance whose process died are marked failed (`fail_dead_runs`).
"""

from __future__ import annotations

import sys
import time
import warnings

import dagster as dg

from ovni_assets.cycle.in_process import RunFailed, execute_job, open_stores
from ovni_assets.cycle.plan import Step, StepKind, plan_next_step
from ovni_assets.settings import OvniSettings

WAIT_POLL_SECONDS = 2.0
MAX_STEPS = 8  # ingest, train, predict, republish, and new files landing meanwhile: far more is a loop


def run_weekly_cycle(settings: OvniSettings, force_retrain: bool = False) -> int:
    """Ingest what is new, retrain when warranted, score the target week, publish. Exit code for the CLI.
    `settings` are the command's, with its home prepared (`prepare_home`)."""
    from ovni_assets.defs.run_launcher import fail_dead_runs, forget_finished_runs

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    try:
        with open_stores(settings) as instance:
            for run_id in fail_dead_runs(instance, settings):
                print(f"ovni run: marked run {run_id} failed: its process had died")
            forget_finished_runs(instance, settings.run_liveness_dir)
            execute_cycle(settings, instance, force_retrain)
    except RunFailed as failed:
        print(f"ovni run: {failed}", file=sys.stderr)
        return 1
    print(f"ovni run: done (OVNI_HOME={settings.home})")
    return 0


def execute_cycle(settings: OvniSettings, instance: dg.DagsterInstance, force_retrain: bool = False) -> None:
    """Execute the plan's steps until it answers NOTHING. `force_retrain` holds until one training ran.

    Files still being written get a bounded wait first, so a copy in progress is taken by this run.
    """
    from ovni_assets.cycle.facts import read_cycle_facts
    from ovni_assets.data.ingestion import wait_until_settled
    from ovni_assets.monitoring.triggers import decide_retrain

    moving = wait_until_settled(
        settings.landing_dir, settings.landing_settle_seconds, settings.landing_settle_max_wait_seconds
    )
    if moving:
        names = ", ".join(path.name for path in moving)
        print(f"ovni run: still being written, left for a later run: {names}", flush=True)

    done: list[Step] = []
    forced = force_retrain
    waited_since: float | None = None
    while True:
        facts = read_cycle_facts(instance, settings, wait_for_warehouse=True, forced=forced)
        step = plan_next_step(facts)
        if step.kind is StepKind.WAIT:
            waited_since = waited_since or time.monotonic()
            if time.monotonic() - waited_since > settings.run_lock_timeout_seconds:
                raise RunFailed(f"gave up waiting: {step.reason}")
            time.sleep(WAIT_POLL_SECONDS)
            continue
        waited_since = None
        if step.kind is StepKind.NOTHING:
            if not any(s.kind is StepKind.TRAIN for s in done) and facts.target_week is not None:
                print(f"ovni run: no retrain: {decide_retrain(facts.retrain).reason}")
            print(f"ovni run: {step.reason}")
            return
        repeated = any(s.key == step.key or s.kind is step.kind is StepKind.TRAIN for s in done)
        if repeated or len(done) >= MAX_STEPS:
            raise RunFailed(f"the cycle did not move on after its {step.kind} step: {step.reason}")
        print(f"ovni run: {step.kind}: {step.reason}", flush=True)
        result = execute_job(
            step.job_name, instance, settings, tags=step.run_tags("cli"), quiet=True, assets=step.assets
        )
        print(f"ovni run: {step_summary(step, result)}", flush=True)
        done.append(step)
        if step.kind is StepKind.TRAIN:
            forced = False


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for materialization in result.asset_materializations_for_node(asset):
        return {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}
    return {}


def step_summary(step: Step, result: dg.ExecuteInProcessResult) -> str:
    """One line on what the step's run made."""
    if step.kind is StepKind.TRAIN:
        meta = _metadata(result, "purchase_model")
        return (
            f"trained model v{meta.get('model_version')} "
            f"(validation F1 {meta.get('val_f1', float('nan')):.3f}, "
            f"threshold {meta.get('threshold', float('nan')):.3f}); {meta.get('promotion_reason')}"
        )
    if step.kind in (StepKind.PREDICT, StepKind.INGEST_AND_PREDICT):
        meta = _metadata(result, "predictions")
        return (
            f"predicted week {meta.get('target_week')} with v{meta.get('model_version')}: "
            f"{meta.get('predicted_buys')} buys over {meta.get('batch_rows')} candidate pairs; "
            "snapshot published"
            + (" (new data, in the same run)" if step.kind is StepKind.INGEST_AND_PREDICT else "")
        )
    if step.kind is StepKind.REPUBLISH:
        meta = _metadata(result, "serving_snapshot")
        return f"snapshot republished (batch {meta.get('batch_id')})"
    meta = _metadata(result, "pair_features")
    return f"ingested; newest data week {meta.get('newest_feature_week') or 'none'}"
