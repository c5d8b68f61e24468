"""What a training run leaves in MLflow: params, metrics, artifacts, the model and its registry version.

Logs into the *active* MLflow run (dagster-mlflow's `mlflow_tracking` resource starts it); no dagster here.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
import sklearn
import skops
from mlflow.models import infer_signature
from sklearn.inspection import permutation_importance
from sklearn.metrics import confusion_matrix, precision_recall_curve
from threadpoolctl import threadpool_limits

from ovni_assets.features.pair_features import FEATURE_COLUMNS
from ovni_assets.model.registry import SKOPS_TRUSTED_TYPES
from ovni_assets.model.training import ONE_WEEK, TrainingResult, model_input
from ovni_assets.settings import MODEL_NAME

IMPORTANCE_SAMPLE_ROWS = 10_000


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    version: str
    model_uri: str


def week_step(week) -> int:
    """A week as an MLflow step: yyyymmdd of its Monday (sortable, readable)."""
    return int(week.strftime("%Y%m%d"))


def log_training_run(result: TrainingResult, raw_file_hashes: list[str]) -> LoggedModel:
    """Log everything about `result` into the active run and register the model as `ovni-purchase`."""
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("no active MLflow run (the mlflow_tracking resource starts one)")
    validation, training = result.validation, result.training
    mlflow.log_params(
        {
            **{f"hp_{k}": v for k, v in result.params.items()},
            "model": "HistGradientBoostingClassifier",
            "features": len(FEATURE_COLUMNS),
            "val_weeks": ",".join(str(w) for w in validation.weeks),
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
    for row in validation.weekly.itertuples():
        step = week_step(row.week_start)
        mlflow.log_metrics(
            {
                "val_week_f1": row.f1,
                "val_week_precision": row.precision,
                "val_week_recall": row.recall,
                "val_week_actual": float(row.actual),
            },
            step=step,
        )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        _write_artifacts(result, raw_file_hashes, out)
        mlflow.log_artifacts(str(out), artifact_path="report")

    example = model_input(training.frame.head(200)).dropna(subset=["customer_type"]).head(5)
    signature = infer_signature(example, result.pipeline.predict_proba(example)[:, 1])
    info = mlflow.sklearn.log_model(
        result.pipeline,
        name="model",
        signature=signature,
        input_example=example,
        registered_model_name=MODEL_NAME,
        serialization_format="skops",
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
        # stated, not inferred: inference re-imports the model in a subprocess (20 s here)
        pip_requirements=[
            f"scikit-learn=={sklearn.__version__}",
            f"skops=={skops.__version__}",
            f"pandas=={pd.__version__}",
            f"numpy=={np.__version__}",
        ],
    )
    return LoggedModel(
        run_id=run.info.run_id, version=str(info.registered_model_version), model_uri=info.model_uri
    )


def _write_artifacts(result: TrainingResult, raw_file_hashes: list[str], out: Path) -> None:
    validation, training = result.validation, result.training
    scores = validation.scores
    labels, probabilities = scores["label"].to_numpy(), scores["probability"].to_numpy()

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

    precision, recall, _ = precision_recall_curve(labels, probabilities)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision)
    ax.set(xlabel="recall (candidates)", ylabel="precision", title=f"PR curve, AP={validation.pr_auc:.3f}")
    fig.tight_layout()
    fig.savefig(out / "pr_curve.png", dpi=110)
    plt.close(fig)

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

    importance = permutation_importance_frame(result)
    importance.to_csv(out / "permutation_importance.csv", index=False)
    top = importance.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh(top["feature"], top["importance_mean"], xerr=top["importance_std"])
    ax.set(xlabel="drop in average precision", title="Permutation importance (validation)")
    fig.tight_layout()
    fig.savefig(out / "permutation_importance.png", dpi=110)
    plt.close(fig)

    trials = result.trials
    trials.to_csv(out / "optuna_trials.csv", index=False)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(trials["number"], trials["value"], "o", label="trial")
    ax.plot(trials["number"], trials["value"].cummax(), "-", label="best so far")
    ax.set(xlabel="trial", ylabel="best validation F1 (pooled)", title="Optuna search")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "optuna_history.png", dpi=110)
    plt.close(fig)


def permutation_importance_frame(result: TrainingResult) -> pd.DataFrame:
    """Permutation importance of the validation fit on (a sample of) the validation rows."""
    frame = result.validation_frame
    if len(frame) > IMPORTANCE_SAMPLE_ROWS:
        frame = frame.sample(IMPORTANCE_SAMPLE_ROWS, random_state=0)
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
