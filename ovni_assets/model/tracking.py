"""What a training run leaves in MLflow: a name and description, params, metrics, the training snapshot as
a dataset, artifacts, the model and its described registry version.

Logs into the *active* MLflow run (the `MlflowTracking` resource starts it and tags it with
`dagster_run_id`); no dagster here. Links between the two UIs are built from the configured UI URLs.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import mlflow.data
import numpy as np
import pandas as pd
import sklearn
import skops
from mlflow.models import infer_signature
from sklearn.inspection import permutation_importance
from sklearn.metrics import confusion_matrix, precision_recall_curve
from threadpoolctl import threadpool_limits

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.target_week import ONE_WEEK
from ovni_assets.keys import DAGSTER_RUN_ID_TAG
from ovni_assets.model.estimator import model_input
from ovni_assets.model.metrics import Validation
from ovni_assets.model.registry import (
    NOTE_TAG,
    SKOPS_TRUSTED_TYPES,
    TRAINING_VIEW_QUERY,
    client_for,
    describe_version,
)
from ovni_assets.model.training import TrainingResult
from ovni_assets.settings import MODEL_NAME, OvniSettings


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    version: str
    model_uri: str


def mlflow_run_url(settings: OvniSettings, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI's model-training view at the configured `OVNI_MLFLOW_UI_URL`."""
    return f"{settings.mlflow_ui_url}/#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW_QUERY}"


def dagster_run_url(settings: OvniSettings, dagster_run_id: str) -> str:
    """The run's page in the Dagster UI at the configured `OVNI_DAGSTER_UI_URL`."""
    return f"{settings.dagster_ui_url}/runs/{dagster_run_id}"


def run_name(result: TrainingResult) -> str:
    """What the run is, as the runs table shows it: the model, the weeks it learned from."""
    training = result.training
    return f"purchase-model {training.first_week}..{training.last_week + ONE_WEEK}"


def log_training_run(
    result: TrainingResult, raw_file_hashes: list[str], settings: OvniSettings
) -> LoggedModel:
    """Log everything about `result` into the active run and register the model as `ovni-purchase`."""
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("no active MLflow run (the MlflowTracking resource starts one)")
    dagster_run_id = mlflow.get_run(run.info.run_id).data.tags.get(DAGSTER_RUN_ID_TAG)
    mlflow.set_tags(
        {
            "mlflow.runName": run_name(result),
            NOTE_TAG: _run_description(result, settings, dagster_run_id),
            **({"dagster_run": dagster_run_url(settings, dagster_run_id)} if dagster_run_id else {}),
        }
    )
    _log_params_and_metrics(result)
    mlflow.log_input(training_dataset(result, settings), context="training")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        _write_artifacts(result, raw_file_hashes, out, settings.importance_sample_rows)
        mlflow.log_artifacts(str(out), artifact_path="report")
    info = _log_model(result)
    version = str(info.registered_model_version)
    describe_version(client_for(settings), version, _version_description(result, dagster_run_id))
    return LoggedModel(run_id=run.info.run_id, version=version, model_uri=info.model_uri)


def _log_params_and_metrics(result: TrainingResult) -> None:
    """Hyperparameters, data and threshold as params; validation scores as metrics, per week as steps."""
    validation, training = result.validation, result.training
    mlflow.log_params(
        {
            **{f"hp_{k}": v for k, v in result.params.items()},
            "model": "HistGradientBoostingClassifier",
            "features": len(FEATURE_COLUMNS),
            "val_weeks": ",".join(str(w) for w in validation.weeks),
            **{f"val_week_{step}": str(week) for step, week in enumerate(validation.weekly["week_start"])},
            "fit_weeks": f"{result.fit_weeks[0]}..{result.fit_weeks[-1]}",
            "hpo_trials": len(result.trials),
            "hpo_seconds": round(result.hpo_seconds, 1),
            "training_snapshot_id": training.snapshot_id,
            "training_rows": len(training.frame),
            "train_first_week": str(training.first_week),
            "train_last_feature_week": str(training.last_week),
            "train_last_week": str(training.last_week + ONE_WEEK),
            "threshold": round(validation.threshold, 6),
            "threshold_rule": "half the best validation F1",
        }
    )
    mlflow.log_metrics(
        {
            "val_f1": validation.f1,
            "val_precision": validation.precision,
            "val_recall": validation.recall,
            "val_pr_auc": validation.pr_auc,
            "threshold": validation.threshold,
            "threshold_val_argmax": validation.argmax_threshold,
            "training_rows": float(len(training.frame)),
        }
    )
    # step = position of the validation week (0 = oldest); params val_week_<step> name the week
    for step, row in enumerate(validation.weekly.itertuples()):
        mlflow.log_metrics(
            {
                "val_week_f1": row.f1,
                "val_week_precision": row.precision,
                "val_week_recall": row.recall,
                "val_week_actual": float(row.actual),
            },
            step=step,
        )


def _log_model(result: TrainingResult):
    """The refit Pipeline in skops format with its signature, registered as a new version of the model."""
    example = model_input(result.training.frame.head(200)).dropna(subset=["customer_type"]).head(5)
    signature = infer_signature(example, result.pipeline.predict_proba(example)[:, 1])
    return mlflow.sklearn.log_model(
        result.pipeline,
        name="model",
        signature=signature,
        input_example=example,
        registered_model_name=MODEL_NAME,
        serialization_format="skops",
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
        # stated, not inferred: inference re-imports the model in a slow subprocess
        pip_requirements=[
            f"scikit-learn=={sklearn.__version__}",
            f"skops=={skops.__version__}",
            f"pandas=={pd.__version__}",
            f"numpy=={np.__version__}",
        ],
    )


def training_dataset(result: TrainingResult, settings: OvniSettings) -> mlflow.data.dataset.Dataset:
    """The rows the model was refit on as an MLflow dataset: digest = training snapshot id, source = the
    warehouse they were read from (`pair_features`)."""
    training = result.training
    with warnings.catch_warnings():
        # MLflow registers its local-file source twice, then warns that a path could be either
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        return mlflow.data.from_pandas(
            training.frame,
            source=settings.warehouse_path.as_uri(),
            targets="label",
            name=f"pair_features {training.first_week}..{training.last_week}",
            digest=training.snapshot_id,
        )


def _run_description(result: TrainingResult, settings: OvniSettings, dagster_run_id: str | None) -> str:
    validation, training = result.validation, result.training
    origin = (
        f"Dagster run [{dagster_run_id[:8]}]({dagster_run_url(settings, dagster_run_id)})"
        if dagster_run_id
        else "Trained outside Dagster"
    )
    return (
        f"{origin}: `purchase_model` trained on {len(training.frame):,} candidate pairs of feature weeks "
        f"{training.first_week}..{training.last_week} (snapshot `{training.snapshot_id}`). Validation on "
        f"feature weeks {', '.join(str(w) for w in validation.weeks)}: mean weekly F1 {validation.f1:.4f} "
        f"at threshold {validation.threshold:.4f} ({len(result.trials)} Optuna trials). Report plots and "
        "tables are under the `report/` artifacts."
    )


def _version_description(result: TrainingResult, dagster_run_id: str | None) -> str:
    validation, training = result.validation, result.training
    trained_by = f" by Dagster run {dagster_run_id}" if dagster_run_id else ""
    return (
        f"Trained{trained_by} on weeks {training.first_week}..{training.last_week + ONE_WEEK} "
        f"(snapshot `{training.snapshot_id}`, {len(training.frame):,} rows). Validation mean weekly F1 "
        f"{validation.f1:.4f}, precision {validation.precision:.4f}, recall {validation.recall:.4f}; buys "
        f"when P(buy) ≥ {validation.threshold:.4f} (tag `threshold`). Whether it became champion and why: "
        "tag `promotion_reason`."
    )


def _write_artifacts(
    result: TrainingResult, raw_file_hashes: list[str], out: Path, importance_rows: int
) -> None:
    """The run's `report/` folder: weekly validation, snapshot lineage, PR curve, confusion matrix,
    permutation importance and the search's trials."""
    validation, training = result.validation, result.training
    validation.weekly.to_csv(out / "validation_weekly.csv", index=False)
    (out / "training_snapshot.json").write_text(
        json.dumps(
            {
                "training_snapshot_id": training.snapshot_id,
                "rows": len(training.frame),
                "positives": int(training.frame["label"].sum()),
                "first_week": str(training.first_week),
                "last_feature_week": str(training.last_week),
                "train_last_week": str(training.last_week + ONE_WEEK),
                "raw_file_hashes": raw_file_hashes,
            },
            indent=2,
        )
    )
    _write_pr_curve(validation, out)
    _write_confusion_matrix(validation, out)
    _write_importance(result, out, importance_rows)
    _write_trials(result.trials, out)


def _write_pr_curve(validation: Validation, out: Path) -> None:
    labels, probabilities = validation.scores["label"].to_numpy(), validation.scores["probability"].to_numpy()
    precision, recall, _ = precision_recall_curve(labels, probabilities)
    chosen = probabilities >= validation.threshold
    chosen_precision = labels[chosen].mean() if chosen.any() else 0.0
    chosen_recall = labels[chosen].sum() / max(labels.sum(), 1)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision, label="validation candidates")
    ax.plot(
        [chosen_recall],
        [chosen_precision],
        "o",
        color="tab:red",
        label=f"chosen threshold {validation.threshold:.3f}",
    )
    ax.annotate(
        f"P={chosen_precision:.2f} R={chosen_recall:.2f}",
        (chosen_recall, chosen_precision),
        textcoords="offset points",
        xytext=(6, 6),
    )
    ax.set(xlabel="recall (candidates)", ylabel="precision", title=f"PR curve, AP={validation.pr_auc:.3f}")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(out / "pr_curve.png", dpi=110)
    plt.close(fig)


def _write_confusion_matrix(validation: Validation, out: Path) -> None:
    labels, probabilities = validation.scores["label"].to_numpy(), validation.scores["probability"].to_numpy()
    matrix = confusion_matrix(labels, probabilities >= validation.threshold, labels=[False, True])
    (out / "confusion_matrix.json").write_text(
        json.dumps(
            {"labels": ["no_buy", "buy"], "matrix": matrix.tolist(), "threshold": validation.threshold}
        )
    )
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, f"{value:,}", ha="center", va="center")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["no buy", "buy"], yticklabels=["no buy", "buy"])
    ax.set(xlabel="predicted", ylabel="actual", title=f"threshold {validation.threshold:.3f}")
    fig.tight_layout()
    fig.savefig(out / "confusion_matrix.png", dpi=110)
    plt.close(fig)


def _write_importance(result: TrainingResult, out: Path, sample_rows: int) -> None:
    importance = permutation_importance_frame(result, sample_rows)
    importance.to_csv(out / "permutation_importance.csv", index=False)
    top = importance.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh(top["feature"], top["importance_mean"], xerr=top["importance_std"])
    ax.set(xlabel="drop in average precision", title="Permutation importance (validation)")
    fig.tight_layout()
    fig.savefig(out / "permutation_importance.png", dpi=110)
    plt.close(fig)


def _write_trials(trials: pd.DataFrame, out: Path) -> None:
    trials.to_csv(out / "optuna_trials.csv", index=False)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(trials["number"], trials["value"], "o", label="trial")
    ax.plot(trials["number"], trials["value"].cummax(), "-", label="best so far")
    ax.set(xlabel="trial", ylabel="best validation F1 (pooled)", title="Optuna search")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "optuna_history.png", dpi=110)
    plt.close(fig)


def permutation_importance_frame(result: TrainingResult, sample_rows: int) -> pd.DataFrame:
    """Permutation importance of the validation fit on (a sample of `sample_rows` of) the validation rows."""
    frame = result.validation_frame
    if len(frame) > sample_rows:
        frame = frame.sample(sample_rows, random_state=0)
    with threadpool_limits(limits=1, user_api="openmp"):
        importance = permutation_importance(
            result.validation_model,
            model_input(frame),
            frame["label"].to_numpy(dtype=bool),
            scoring="average_precision",
            n_repeats=2,
            random_state=0,
        )
    return (
        pd.DataFrame(
            {
                "feature": FEATURE_COLUMNS,
                "importance_mean": importance.importances_mean,
                "importance_std": importance.importances_std,
            }
        )
        .sort_values("importance_mean", ascending=False)
        .reset_index(drop=True)
    )
