"""`ovni run`: the weekly cycle, executed as Dagster runs on the OVNI instance (visible in the Dagster UI).

1. `ingest_job`: landed files → raw → clean → features → drift / realized quality.
2. Retrain? The same decision function as the sensors (`ovni_assets.monitoring.triggers.decide_retrain`) on
   facts from the event log, with "has a champion" read from the MLflow registry; `--retrain` forces it.
3. `train_job` when decided (the new version becomes champion only if it wins).
4. `predict_job` when there is a champion and either the target week has no batch yet or the champion
   changed since the newest batch.

When new files have landed, a champion exists and `retrain_ruled_out` says no drift or quality report could
make `decide_retrain` retrain (the champion is within its cooldown), steps 1 and 4 run as one `weekly_job`
run instead of two; the decision of step 2 is still taken after it, on the new reports, and a retrain it asks
for is still done (then `predict_job` scores again with a new champion).

One Dagster instance serves the whole cycle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import warnings
from collections.abc import Iterator
from datetime import date

import dagster as dg

from ovni_assets.defs.errors import one_line_reason
from ovni_assets.settings import OvniSettings, get_settings

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
    tags: dict[str, str] | None = None,
    quiet: bool = False,
    assets: list[str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Run one job of the code location in this process, recorded in the OVNI Dagster instance.

    `quiet` keeps the console to warnings (every event still lands in the instance's event log); `assets`
    runs only those assets of the job.
    """
    from ovni_assets.definitions import build_definitions

    job = build_definitions().resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags=tags or {},
        run_config=QUIET_CONSOLE if quiet else None,
        asset_selection=[dg.AssetKey(asset) for asset in assets] if assets else None,
    )
    if not result.success:
        raise RunFailed(failure_reason(result))
    return result


@dataclasses.dataclass(frozen=True)
class CycleState:
    champion_version: str | None
    target_week: date | None  # week after the newest landed week
    latest_batch_week: date | None
    latest_batch_version: str | None
    new_landed_files: int = 0  # recognised landing files whose bytes are not ingested yet
    latest_batch_id: str | None = None
    published_batch_id: str | None = None  # the batch of serving.duckdb (None: no readable snapshot)

    def prediction_reason(self) -> str | None:
        """Why to score next week now, or None when the newest batch is current."""
        if self.champion_version is None or self.target_week is None:
            return None
        if self.latest_batch_week != self.target_week:
            return f"new target week {self.target_week}"
        if self.latest_batch_version != self.champion_version:
            return f"new champion v{self.champion_version} (batch was v{self.latest_batch_version})"
        return None

    def snapshot_stale(self) -> bool:
        """Whether the newest batch is not the one serving.duckdb holds (its publish failed, or the file is
        missing or unreadable)."""
        return self.latest_batch_id is not None and self.published_batch_id != self.latest_batch_id


def read_cycle_state(settings: OvniSettings, count_new_files: bool = False) -> CycleState:
    """Champion from the registry; target week, newest batch and (if asked) the landed files not ingested
    yet from the warehouse (read only).

    The warehouse is read under the run lock: another process's run may be writing it.
    """
    from ovni_assets.data.ingestion import known_hashes, scan_landing
    from ovni_assets.features.target_week import read_target_week
    from ovni_assets.model.registry import champion_version, client_for
    from ovni_assets.prediction.snapshot import published_batch_id
    from ovni_assets.warehouse import connect, run_lock, table_exists

    champion = champion_version(client_for(settings)) if settings.mlflow_db_path.exists() else None
    target_week = batch_week = batch_version = batch_id = None
    known: set[str] = set()
    if settings.warehouse_path.exists():
        with (
            run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds),
            connect(settings.warehouse_path, read_only=True) as con,
        ):
            if table_exists(con, "pair_features"):
                target_week = getattr(read_target_week(con), "target_week", None)
            if table_exists(con, "prediction_batches"):
                rows = con.execute(
                    "SELECT week_start, model_version, batch_id FROM prediction_batches "
                    "ORDER BY created_at DESC LIMIT 1"
                ).fetchall()
                if rows:
                    batch_week, batch_version, batch_id = rows[0]
            if count_new_files:
                known = known_hashes(con)
    new_files = (
        sum(1 for f in scan_landing(settings.landing_dir) if f.sha256 not in known) if count_new_files else 0
    )
    return CycleState(
        champion_version=str(champion.version) if champion else None,
        target_week=target_week,
        latest_batch_week=batch_week,
        latest_batch_version=batch_version,
        new_landed_files=new_files,
        latest_batch_id=batch_id,
        published_batch_id=published_batch_id(settings.serving_path),
    )


def retrain_facts(instance: dg.DagsterInstance, force_retrain: bool, has_champion: bool):
    """The facts `decide_retrain` reads, from the event log, with "has a champion" from the registry."""
    from ovni_assets.monitoring.triggers import retrain_facts_from_instance

    facts = retrain_facts_from_instance(instance, forced=force_retrain)
    return dataclasses.replace(facts, has_champion=has_champion)


def retrain_decision(
    instance: dg.DagsterInstance, force_retrain: bool, has_champion: bool
) -> tuple[bool, str]:
    """(retrain?, why) by the monitoring's decision function, the same one the sensors use."""
    from ovni_assets.monitoring.triggers import decide_retrain

    decision = decide_retrain(retrain_facts(instance, force_retrain, has_champion))
    return decision.should_retrain, decision.reason


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


def run_weekly_cycle(force_retrain: bool = False) -> int:
    """Ingest what is new, retrain when warranted, score next week, publish. Exit code for the CLI."""
    settings = get_settings().ensure_layout()
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    try:
        with open_stores(settings) as instance:
            _weekly_cycle(settings, instance, force_retrain)
    except RunFailed as failed:
        print(f"ovni run: {failed}", file=sys.stderr)
        return 1
    print(f"ovni run: done (OVNI_HOME={settings.home})")
    return 0


def _weekly_cycle(settings: OvniSettings, instance: dg.DagsterInstance, force_retrain: bool) -> None:
    from ovni_assets.monitoring.triggers import RETRAIN_REASON_TAG, retrain_ruled_out

    cli = {"ovni/trigger": "cli"}
    before = read_cycle_state(settings, count_new_files=True)
    one_run = (
        before.champion_version is not None
        and before.new_landed_files > 0
        and retrain_ruled_out(retrain_facts(instance, force_retrain, has_champion=True))
    )
    if one_run:
        weekly = execute_job(
            "weekly_job", instance, tags={**cli, "ovni/predict_reason": "new data"}, quiet=True
        )
    else:
        execute_job("ingest_job", instance, tags=cli, quiet=True)
    state = read_cycle_state(settings)
    print(f"ovni run: ingested; newest data week {_week_before(state.target_week)}")
    retrain, why = retrain_decision(instance, force_retrain, state.champion_version is not None)
    print(f"ovni run: {'retrain' if retrain else 'no retrain'}: {why}")
    if retrain:
        result = execute_job("train_job", instance, tags={**cli, RETRAIN_REASON_TAG: why[:200]}, quiet=True)
        print(f"ovni run: {_training_summary(result)}")
        state = read_cycle_state(settings)
    reason = state.prediction_reason()
    if reason is None and state.champion_version is None:
        raise RunFailed("no champion model (training did not produce one)")
    if reason is None and one_run:
        print(f"ovni run: {_prediction_summary(weekly)} (new data, in the same run)")
    elif reason is None:
        print(
            f"ovni run: predictions for {state.target_week} are current (champion v{state.champion_version})"
        )
        if state.snapshot_stale():  # the batch was appended but its snapshot never published
            republish = f": it did not hold the newest batch {state.latest_batch_id}"
        elif retrain:  # the challenger lost: the snapshot's model_versions still lacks it
            republish = " with the new model version"
        else:
            republish = None
        if republish is not None:
            execute_job("predict_job", instance, tags=cli, quiet=True, assets=["serving_snapshot"])
            print(f"ovni run: snapshot republished{republish}")
    else:
        result = execute_job("predict_job", instance, tags={**cli, "ovni/predict_reason": reason}, quiet=True)
        print(f"ovni run: {_prediction_summary(result)} ({reason})")


def _week_before(week: date | None) -> str:
    return str(date.fromordinal(week.toordinal() - 7)) if week else "none"


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for materialization in result.asset_materializations_for_node(asset):
        return {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}
    return {}


def _training_summary(result: dg.ExecuteInProcessResult) -> str:
    meta = _metadata(result, "purchase_model")
    return (
        f"trained model v{meta.get('model_version')} (validation F1 {meta.get('val_f1', float('nan')):.3f}, "
        f"threshold {meta.get('threshold', float('nan')):.3f}); {meta.get('promotion_reason')}"
    )


def _prediction_summary(result: dg.ExecuteInProcessResult) -> str:
    meta = _metadata(result, "predictions")
    return (
        f"predicted week {meta.get('target_week')} with v{meta.get('model_version')}: "
        f"{meta.get('predicted_buys')} buys over {meta.get('batch_rows')} candidate pairs; snapshot published"
    )
