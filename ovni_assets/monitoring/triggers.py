"""When to retrain: one pure decision function shared by the sensors, the schedule and `ovni run`.

Use (sensors and `ovni run` alike)::

    from ovni_assets.monitoring.triggers import decide_retrain, retrain_facts_from_instance

    facts = retrain_facts_from_instance(instance, forced=force_retrain)  # reads the Dagster event log
    decision = decide_retrain(facts)          # RetrainDecision(should_retrain: bool, reason: str)
    if decision.should_retrain:
        ...run train_job with tags {RETRAIN_REASON_TAG: decision.reason}

`decide_retrain(facts, policy=RetrainPolicy())` is pure: the same facts give the same answer, so the CLI and
the daemon agree. Rules, first match wins:

1. no champion → retrain ("no champion"), whatever else holds;
2. forced (`ovni run --retrain`) → retrain, cooldown ignored;
3. trained less than `policy.cooldown` ago → no (the other triggers wait);
4. `drifted_features >= policy.min_drifted_features` → retrain (drift);
5. realized F1 < champion validation F1 − `policy.f1_drop_margin` → retrain (degradation);
6. a schedule tick (`scheduled_tick`) → retrain (weekly fallback);
7. trained at least `policy.max_model_age` ago → retrain (periodic fallback);
8. otherwise no.

`retrain_facts_from_instance` gathers the facts from the latest materializations in the event log (sensors
read the event log, not the warehouse). Metadata keys it reads:

- `purchase_model`: `champion_version` (text; empty or absent = no champion after that run). The
  materialization's timestamp is the time of the last training. `ovni promote` records an *observation* of
  `purchase_model` with the same `champion_version` key (`report_manual_promotion`): the champion is the one
  of the newest materialization or observation, so a manual promotion counts without counting as a training.
- `drift_report`: `drifted_features` (int), `reference_model_version` (text), `week_start` (text).
- `prediction_quality`: `latest_f1` (float), `latest_model_version` (text), `latest_model_val_f1` (float).

Drift and quality evidence count only when it is about the current champion (its `reference_model_version`
/ `latest_model_version` equals `champion_version`): evidence about a replaced model is stale.

This module imports no dagster at import time (the event-log reader takes any `DagsterInstance`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagster import DagsterInstance, EventLogRecord

RETRAIN_REASON_TAG = "ovni/retrain_reason"

DRIFT_ASSET = "drift_report"
QUALITY_ASSET = "prediction_quality"
MODEL_ASSET = "purchase_model"
MANUAL_PROMOTION_REASON = "promoted by hand (ovni promote)"


@dataclass(frozen=True)
class RetrainPolicy:
    """Thresholds of the retraining rules (documented in docs/monitoring.md)."""

    min_drifted_features: int = 1
    f1_drop_margin: float = 0.05
    cooldown: timedelta = timedelta(hours=6)
    max_model_age: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class RetrainFacts:
    """What is known when deciding. `None` means "not measured yet" (no report, never trained)."""

    has_champion: bool
    forced: bool = False
    scheduled_tick: bool = False
    drifted_features: int | None = None
    drift_week: str | None = None
    realized_f1: float | None = None
    champion_val_f1: float | None = None
    time_since_training: timedelta | None = None


@dataclass(frozen=True)
class RetrainDecision:
    should_retrain: bool
    reason: str


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def decide_retrain(facts: RetrainFacts, policy: RetrainPolicy | None = None) -> RetrainDecision:
    """Whether to train a challenger now, and why (the reason goes into the run tag and the logs)."""
    policy = policy or RetrainPolicy()
    if not facts.has_champion:
        return RetrainDecision(True, "no champion: train the first model")
    if facts.forced:
        return RetrainDecision(True, "forced (ovni run --retrain or a manual run)")

    age = facts.time_since_training
    drifted = facts.drifted_features or 0
    degraded = (
        facts.realized_f1 is not None
        and facts.champion_val_f1 is not None
        and facts.realized_f1 < facts.champion_val_f1 - policy.f1_drop_margin
    )
    if age is not None and age < policy.cooldown:
        pending = []
        if drifted >= policy.min_drifted_features:
            pending.append(f"drift in {drifted} features")
        if degraded:
            pending.append("realized F1 below validation")
        if facts.scheduled_tick:
            pending.append("schedule tick")
        waiting = f" ({', '.join(pending)} waits)" if pending else ""
        return RetrainDecision(
            False, f"cooldown: last training {_hours(age)} ago < {_hours(policy.cooldown)}{waiting}"
        )
    if drifted >= policy.min_drifted_features:
        week = f" in week {facts.drift_week}" if facts.drift_week else ""
        return RetrainDecision(True, f"drift: {drifted} features drifted{week}")
    if degraded:
        return RetrainDecision(
            True,
            f"degradation: realized F1 {facts.realized_f1:.3f} < champion validation F1 "
            f"{facts.champion_val_f1:.3f} − {policy.f1_drop_margin:.2f}",
        )
    if facts.scheduled_tick:
        return RetrainDecision(True, "weekly schedule (fallback retrain)")
    if age is not None and age >= policy.max_model_age:
        return RetrainDecision(
            True, f"periodic: last training {_hours(age)} ago ≥ {_hours(policy.max_model_age)}"
        )
    return RetrainDecision(False, "champion healthy: no drift, no degradation, not due")


def retrain_ruled_out(facts: RetrainFacts, policy: RetrainPolicy | None = None) -> bool:
    """Whether `decide_retrain` says no to these facts whatever new drift and quality reports say (e.g. the
    champion is within its cooldown): `ovni run` then predicts in the same run as the ingest."""
    worst = replace(facts, drifted_features=sys.maxsize, realized_f1=0.0, champion_val_f1=1.0)
    return not decide_retrain(worst, policy).should_retrain


def _plain(metadata) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def latest_champion_record(instance: DagsterInstance) -> tuple[str, EventLogRecord | None]:
    """(champion version, the event saying so) from the newest `purchase_model` materialization (a training)
    or observation (`ovni promote`); ("", None) before the first training."""
    from dagster import AssetKey

    key = AssetKey(MODEL_ASSET)
    records = [
        *instance.fetch_materializations(key, limit=1).records,
        *instance.fetch_observations(key, limit=1).records,
    ]
    if not records:
        return "", None
    newest = max(records, key=lambda record: record.storage_id)
    event = newest.asset_materialization or newest.asset_observation
    return str(_plain(event.metadata).get("champion_version") or ""), newest


def report_manual_promotion(instance: DagsterInstance, version: str, previous: str | None) -> None:
    """Record `ovni promote VERSION` in the event log: an observation of `purchase_model` whose
    `champion_version` the sensors read like a training's (see `latest_champion_record`)."""
    from dagster import AssetObservation

    instance.report_runless_asset_event(
        AssetObservation(
            MODEL_ASSET,
            description=f"champion moved by hand (ovni promote) to v{version}",
            metadata={
                "champion_version": str(version),
                "previous_champion_version": str(previous or ""),
                "promotion_reason": MANUAL_PROMOTION_REASON,
            },
        )
    )


def _latest_metadata(instance: DagsterInstance, asset: str) -> tuple[dict[str, Any], float] | None:
    """Plain values of the newest materialization's metadata of `asset`, and its timestamp."""
    from dagster import AssetKey

    event = instance.get_latest_materialization_event(AssetKey(asset))
    if event is None or event.asset_materialization is None:
        return None
    return _plain(event.asset_materialization.metadata), event.timestamp


def retrain_facts_from_instance(
    instance: DagsterInstance,
    forced: bool = False,
    scheduled_tick: bool = False,
    now: datetime | None = None,
) -> RetrainFacts:
    """The facts `decide_retrain` needs, from the latest materializations in Dagster's event log."""
    now = now or datetime.now(UTC)
    model = _latest_metadata(instance, MODEL_ASSET)
    champion, _ = latest_champion_record(instance)
    time_since_training = now - datetime.fromtimestamp(model[1], UTC) if model else None

    drifted_features = drift_week = None
    drift = _latest_metadata(instance, DRIFT_ASSET)
    if drift and champion and str(drift[0].get("reference_model_version") or "") == champion:
        drifted_features = int(drift[0].get("drifted_features") or 0)
        drift_week = str(drift[0].get("week_start") or "") or None

    realized_f1 = champion_val_f1 = None
    quality = _latest_metadata(instance, QUALITY_ASSET)
    if quality and champion and str(quality[0].get("latest_model_version") or "") == champion:
        realized_f1 = _float_or_none(quality[0].get("latest_f1"))
        champion_val_f1 = _float_or_none(quality[0].get("latest_model_val_f1"))

    return RetrainFacts(
        has_champion=bool(champion),
        forced=forced,
        scheduled_tick=scheduled_tick,
        drifted_features=drifted_features,
        drift_week=drift_week,
        realized_f1=realized_f1,
        champion_val_f1=champion_val_f1,
        time_since_training=time_since_training,
    )


def _float_or_none(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return None if math.isnan(number) else number
