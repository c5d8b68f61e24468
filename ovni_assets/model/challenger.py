"""One training, settled: train → log to MLflow → tag the version → gate → move the alias → lineage.

`train_challenger` is what the `purchase_model` asset runs, inside the MLflow run its resource opened. The
version is tagged before anything reads it; a training killed in between leaves a half-made version that
nothing uses (`registry.missing_tags`). If the warehouse write fails after the alias moved, the alias goes
back, so the champion and `model_versions` never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import mlflow

from ovni_assets.features.target_week import ONE_WEEK
from ovni_assets.keys import DAGSTER_RUN_ID_TAG, PROMOTION_REASON_TAG
from ovni_assets.model import lineage, promotion, registry, training
from ovni_assets.model.tracking import LoggedModel, log_training_run
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings


@dataclass(frozen=True)
class ChallengerOutcome:
    result: training.TrainingResult
    logged: LoggedModel
    decision: promotion.PromotionDecision
    previous_champion: str | None

    @property
    def champion_version(self) -> str:
        """The champion after this training ("" when there is none)."""
        return self.logged.version if self.decision.promote else (self.previous_champion or "")


def version_tags(result: training.TrainingResult, dagster_run_id: str) -> dict[str, str]:
    """What travels with the version: the threshold, the training snapshot, the validation it earned."""
    validation = result.validation
    return {
        "threshold": repr(validation.threshold),
        "training_snapshot_id": result.training.snapshot_id,
        "training_rows": str(len(result.training.frame)),
        "train_last_week": str(result.training.last_week + ONE_WEEK),
        "val_f1": repr(validation.f1),
        "val_weeks": ",".join(str(w) for w in validation.weeks),
        "val_weekly_f1": registry.json_weekly_f1(result.weekly_f1()),
        DAGSTER_RUN_ID_TAG: dagster_run_id,
    }


def skips_search(settings: OvniSettings, champion: registry.Champion | None) -> bool:
    """The first model trains the default parameters (one trial) unless `search_first_model`: a new home
    is served at once, and the next retraining searches."""
    return champion is None and not settings.search_first_model


def train_challenger(
    con: duckdb.DuckDBPyConnection, settings: OvniSettings, dagster_run_id: str, **knobs: int
) -> ChallengerOutcome:
    """Train a challenger on the warehouse, register it, and make it champion only if it wins the gate.
    `knobs` go to `train_purchase_model` (validation_weeks, max_train_weeks, max_train_rows)."""
    champion = registry.load_champion(settings)
    trials = 1 if skips_search(settings, champion) else settings.hpo_max_trials
    result = training.train_purchase_model(con, settings.hpo_seconds, max_trials=trials, **knobs)
    logged = log_training_run(result, [f["file_hash"] for f in lineage.landed_files(con)], settings)
    client = registry.client_for(settings)
    for key, value in version_tags(result, dagster_run_id).items():
        client.set_model_version_tag(MODEL_NAME, logged.version, key, value)
    decision = promotion.decide_promotion(con, champion, result.weekly_f1())
    client.set_model_version_tag(MODEL_NAME, logged.version, PROMOTION_REASON_TAG, decision.reason)
    previous = champion.version if champion else None
    # The lineage first: a process killed after the alias moved still leaves a champion the snapshot can
    # trace to its raw files (lineage of a version that never became champion is harmless).
    con.execute("BEGIN TRANSACTION")
    lineage.record_training_files(con, result.training.snapshot_id, logged.version)
    con.execute("COMMIT")
    if decision.promote:
        registry.move_champion(client, logged.version)
    try:
        con.execute("BEGIN TRANSACTION")
        registry.write_model_versions(con, client)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        if decision.promote and previous is not None:
            client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, previous)
        raise
    mlflow.set_tags(
        {
            "promoted": str(decision.promote).lower(),
            "registered_version": logged.version,
            "search": "skipped: first model, default parameters"
            if skips_search(settings, champion)
            else "optuna",
        }
    )
    return ChallengerOutcome(result, logged, decision, previous)
