"""When to retrain: one pure decision function, which the weekly cycle's plan
(`ovni_assets.cycle.plan.plan_next_step`) asks on both paths, `ovni run` and the daemon.

`decide_retrain(facts, policy=RetrainPolicy())` is pure: the same facts give the same answer. Rules, first
match wins:

1. no champion → retrain ("no champion"), whatever else holds;
2. forced (`ovni run --retrain`) → retrain, cooldown ignored;
3. trained less than `policy.cooldown` ago → no (the other triggers wait);
4. `drifted_features >= policy.min_drifted_features` → retrain (drift);
5. realized F1 < champion validation F1 − `policy.f1_drop_margin` → retrain (degradation);
6. a schedule tick (`scheduled_tick`) → retrain (weekly fallback);
7. trained at least `policy.max_model_age` ago → retrain (periodic fallback);
8. otherwise no.

`retrain_facts_from_instance(instance, champion)` gathers the facts from the latest materializations in
the event log (metadata keys in `ovni_assets.keys`), with the champion from the MLflow registry:

- `purchase_model`: the newest materialization's timestamp is the time of the last training;
- `drift_report`: `drifted_features`, `reference_model_version`, `week_start`;
- `prediction_quality`: `latest_f1`, `latest_model_version`, `latest_model_val_f1`.

Drift and quality evidence count only when it is about the current champion and newer than the last
training: evidence about a replaced model, or that a training already answered, is stale.

This module imports no dagster at import time (the event-log reader takes any `DagsterInstance`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ovni_assets.keys import (
    CHAMPION_VERSION,
    DRIFT_ASSET,
    DRIFT_WEEK,
    DRIFTED_FEATURES,
    LATEST_F1,
    LATEST_MODEL_VAL_F1,
    LATEST_MODEL_VERSION,
    MODEL_ASSET,
    QUALITY_ASSET,
    REFERENCE_MODEL_VERSION,
)

if TYPE_CHECKING:
    from dagster import DagsterInstance, EventLogRecord

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


def report_manual_promotion(instance: DagsterInstance, version: str, previous: str | None) -> None:
    """Record `ovni promote VERSION` in the event log: an observation of `purchase_model`, so the
    promotion shows in the asset's history (the cycle reads the champion from the registry)."""
    from dagster import AssetObservation

    instance.report_runless_asset_event(
        AssetObservation(
            MODEL_ASSET,
            description=f"champion moved by hand (ovni promote) to v{version}",
            metadata={
                CHAMPION_VERSION: str(version),
                "previous_champion_version": str(previous or ""),
                "promotion_reason": MANUAL_PROMOTION_REASON,
            },
        )
    )


def _latest_record(instance: DagsterInstance, asset: str) -> EventLogRecord | None:
    from dagster import AssetKey

    records = instance.fetch_materializations(AssetKey(asset), limit=1).records
    return records[0] if records else None


def retrain_facts_from_instance(
    instance: DagsterInstance,
    champion: str | None,
    forced: bool = False,
    scheduled_tick: bool = False,
    now: datetime | None = None,
) -> RetrainFacts:
    """The facts `decide_retrain` needs, from the latest materializations in Dagster's event log.

    `champion` is the registry's champion version. A drift or quality report counts only when it is about
    that champion and newer than the last training: a training already answered older evidence.
    """
    now = now or datetime.now(UTC)
    model = _latest_record(instance, MODEL_ASSET)
    time_since_training = now - datetime.fromtimestamp(model.timestamp, UTC) if model else None

    def evidence(asset: str, version_key: str) -> dict[str, Any] | None:
        record = _latest_record(instance, asset)
        if record is None or not champion or (model is not None and record.storage_id < model.storage_id):
            return None
        metadata = _plain(record.asset_materialization.metadata)
        return metadata if str(metadata.get(version_key) or "") == champion else None

    drifted_features = drift_week = None
    drift = evidence(DRIFT_ASSET, REFERENCE_MODEL_VERSION)
    if drift is not None:
        drifted_features = int(drift.get(DRIFTED_FEATURES) or 0)
        drift_week = str(drift.get(DRIFT_WEEK) or "") or None

    realized_f1 = champion_val_f1 = None
    quality = evidence(QUALITY_ASSET, LATEST_MODEL_VERSION)
    if quality is not None:
        realized_f1 = _float_or_none(quality.get(LATEST_F1))
        champion_val_f1 = _float_or_none(quality.get(LATEST_MODEL_VAL_F1))

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
