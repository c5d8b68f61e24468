"""Model group: train a challenger, track it in MLflow, register it, promote it only if it wins."""

import dagster as dg
from pydantic import Field

from ovni_assets.defs.resources import MlflowTracking, WarehouseResource
from ovni_assets.keys import CHAMPION_VERSION, MODEL_VERSION, RETRAIN_REASON_TAG
from ovni_assets.model.training import MAX_TRAIN_ROWS, MAX_TRAIN_WEEKS, VALIDATION_WEEKS
from ovni_assets.monitoring.alerts import send_alert, training_alerts
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings


class PurchaseModelConfig(dg.Config):
    """How much data a training uses (docs/model.md); the defaults are the product's. The search's
    budget and trial cap are settings (OVNI_HPO_SECONDS, OVNI_HPO_MAX_TRIALS): the backtest uses them too."""

    validation_weeks: int = Field(
        default=VALIDATION_WEEKS,
        ge=1,
        description="Newest labelled feature weeks held out to score the search and choose the threshold.",
    )
    max_train_weeks: int = Field(
        default=MAX_TRAIN_WEEKS, ge=1, description="Most labelled weeks a model is fit on (the newest)."
    )
    max_train_rows: int = Field(
        default=MAX_TRAIN_ROWS,
        ge=1000,
        description="Most rows a fit reads; above it rows are sampled by a hash of their key and weighted.",
    )


@dg.asset(
    group_name="model",
    deps=["pair_features"],
    kinds={"sklearn", "mlflow"},
    description="HistGradientBoosting pipeline: Optuna search within OVNI_HPO_SECONDS on the latest labelled "
    "weeks, F1-optimal threshold, refit on all labelled weeks; logged to MLflow and registered as "
    f"`{MODEL_NAME}`; becomes `@{CHAMPION_ALIAS}` only if it beats the champion on the same weeks.",
)
def purchase_model(
    context: dg.AssetExecutionContext,
    config: PurchaseModelConfig,
    warehouse: WarehouseResource,
    mlflow: MlflowTracking,
    settings: dg.ResourceParam[OvniSettings],
) -> dg.MaterializeResult:
    from ovni_assets.model import challenger  # matplotlib and the MLflow model flavour: only when training

    with mlflow.training_run(context.run_id) as run, warehouse.get_connection() as con:
        outcome = challenger.train_challenger(con, settings, context.run_id, **config.model_dump())
    context.log.info(f"Model version {outcome.logged.version}: {outcome.decision.reason}")
    for alert in training_alerts(
        settings,
        context.run_id,
        context.run.tags.get(RETRAIN_REASON_TAG, ""),
        outcome.logged.version,
        outcome.decision.promote,
        outcome.previous_champion,
    ):
        send_alert(settings, alert)
    return dg.MaterializeResult(metadata=outcome_metadata(outcome, run.info.experiment_id, settings))


def outcome_metadata(outcome, experiment_id: str, settings: OvniSettings) -> dict:
    """What the asset's page shows of a training (the cycle reads `champion_version`)."""
    from ovni_assets.model import tracking

    result, validation, logged = outcome.result, outcome.result.validation, outcome.logged
    return {
        MODEL_VERSION: logged.version,
        CHAMPION_VERSION: outcome.champion_version,
        "promoted": outcome.decision.promote,
        "promotion_reason": outcome.decision.reason,
        "val_f1": validation.f1,
        "val_precision": validation.precision,
        "val_recall": validation.recall,
        "val_pr_auc": validation.pr_auc,
        "threshold": validation.threshold,
        "val_weeks": ",".join(str(w) for w in validation.weeks),
        "training_rows": len(result.training.frame),
        "training_snapshot_id": result.training.snapshot_id,
        "hpo_trials": len(result.trials),
        "mlflow_run_id": logged.run_id,
        "mlflow_run": dg.MetadataValue.url(tracking.mlflow_run_url(settings, experiment_id, logged.run_id)),
        "validation_weeks": dg.MetadataValue.md(validation.weekly.to_markdown(index=False)),
    }
