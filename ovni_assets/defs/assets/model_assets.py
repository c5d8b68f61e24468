"""Model group: train a challenger, track it in MLflow, register it, promote it only if it wins."""

import dagster as dg
import mlflow

from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.model import promotion, registry, training
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, get_settings


@dg.asset(
    group_name="model",
    deps=["pair_features"],
    kinds={"sklearn", "mlflow"},
    required_resource_keys={"mlflow", "warehouse"},
    description="HistGradientBoosting pipeline: Optuna search within OVNI_HPO_SECONDS on the latest labelled "
    "weeks, F1-optimal threshold, refit on all labelled weeks; logged to MLflow and registered as "
    f"`{MODEL_NAME}`; becomes `@{CHAMPION_ALIAS}` only if it beats the champion on the same weeks.",
)
def purchase_model(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from ovni_assets.model import tracking  # matplotlib and the MLflow model flavour: only when training

    settings = get_settings()
    warehouse: WarehouseResource = context.resources.warehouse
    context.resources.mlflow  # noqa: B018 - dagster-mlflow started this run's MLflow run at init
    try:
        with warehouse.get_connection() as con:
            result = training.train_purchase_model(
                con, settings.hpo_seconds, max_trials=settings.hpo_max_trials
            )
            logged = tracking.log_training_run(result, [f["file_hash"] for f in training.landed_files(con)])
            client = registry.client_for(settings)
            validation = result.validation
            version_tags = {
                "threshold": repr(validation.threshold),
                "training_snapshot_id": result.training.snapshot_id,
                "training_rows": str(len(result.training.frame)),
                "train_last_week": str(result.training.last_week + training.ONE_WEEK),
                "val_f1": repr(validation.f1),
                "val_weeks": ",".join(str(w) for w in validation.weeks),
                "val_weekly_f1": training.json_weekly_f1(result.weekly_f1()),
                "dagster_run_id": context.run_id,
            }
            for key, value in version_tags.items():
                client.set_model_version_tag(MODEL_NAME, logged.version, key, value)
            champion = registry.load_champion(settings)
            decision = promotion.decide_promotion(con, champion, result.weekly_f1())
            client.set_model_version_tag(MODEL_NAME, logged.version, "promotion_reason", decision.reason)
            context.log.info(f"Model version {logged.version}: {decision.reason}")
            previous = champion.version if champion else None
            if decision.promote:
                registry.move_champion(client, logged.version)
            try:
                con.execute("BEGIN TRANSACTION")
                training.record_training_files(con, result.training.snapshot_id, logged.version)
                registry.write_model_versions(con, client)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                if decision.promote and previous is not None:
                    client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, previous)
                raise
        mlflow.set_tags({"promoted": str(decision.promote).lower(), "registered_version": logged.version})
        mlflow.end_run()
    except BaseException:
        mlflow.end_run(status="FAILED")
        raise
    champion_now = logged.version if decision.promote else (previous or "")
    return dg.MaterializeResult(
        metadata={
            "model_version": logged.version,
            "champion_version": champion_now,
            "promoted": decision.promote,
            "promotion_reason": decision.reason,
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
            "mlflow_run": dg.MetadataValue.url(
                tracking.mlflow_run_url(
                    settings, mlflow.get_run(logged.run_id).info.experiment_id, logged.run_id
                )
            ),
            "validation_weeks": dg.MetadataValue.md(validation.weekly.to_markdown(index=False)),
        }
    )
