"""The MLflow model registry of OVNI: experiment, champion alias, promotion, version rows.

Imports neither dagster nor the training code: `ovni promote` and the registry tests load it without them.

Models are saved by `mlflow.sklearn` in skops format. skops refuses types it does not know;
HistGradientBoosting's `TreePredictor` (and the two helpers a fitted pipeline holds) are listed in
`SKOPS_TRUSTED_TYPES`, passed at save time; MLflow writes the list into the model's `MLmodel` file and
`mlflow.sklearn.load_model` passes it back on load, so loading needs no extra argument.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ovni_assets.keys import (
    DAGSTER_RUN_ID_TAG,
    INTERRUPTED_TAG,
    PREVIOUS_CHAMPION_TAG,
    PROMOTION_REASON_TAG,
    REQUIRED_VERSION_TAGS,
    THRESHOLD_TAG,
)
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings

EXPERIMENT_NAME = "ovni-purchase"
SKOPS_TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]
# MLflow's experiment tags: the experiment's kind (classic ML, not GenAI) and the note the UI shows as its
# description.
EXPERIMENT_KIND_TAG, CLASSIC_ML_KIND = "mlflow.experimentKind", "custom_model_development"
NOTE_TAG = "mlflow.note.content"
# The MLflow 3 UI picks its GenAI or its model-training view from the address's `workflowType` (else the
# browser's last choice, GenAI at first), not from the experiment's kind: OVNI's links ask for training.
TRAINING_VIEW_QUERY = "workflowType=machine_learning"
EXPERIMENT_DESCRIPTION = (
    "Weekly training runs of the OVNI purchase model: P(customer buys product next week) for every "
    "candidate (customer, product) pair of SodAI Drinks. Each run is one Dagster `purchase_model` "
    "materialization: a time-boxed Optuna search over a scikit-learn HistGradientBoosting pipeline on the "
    "latest labelled weeks of `pair_features`, a decision threshold for F1, and a refit on every labelled "
    "week. Metrics `val_*` are on the validation weeks, the newest labelled ones, held out of the fit (F1 "
    "over all real purchases of each target week); "
    "`val_week_*` are per validation week, step = week index (params `val_week_<step>` name the week)."
)
REGISTERED_MODEL_DESCRIPTION = (
    "Predicts whether a customer buys a product next week. `predict_proba(X)[:, 1]` of the scikit-learn "
    "pipeline (preprocessing included) is P(buy); buy when it is at least the version tag `threshold`. "
    "The alias `@champion` is the version the API serves; a new version takes it only when it beats the "
    "champion on the same weeks (tag `promotion_reason`)."
)


def client_for(settings: OvniSettings) -> MlflowClient:
    """A client on OVNI's tracking store and registry (also made the process default)."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)


def ensure_experiment(settings: OvniSettings) -> str:
    """Id of experiment `ovni-purchase`, created with its artifacts under `$OVNI_HOME/mlartifacts`, marked
    a classic-ML experiment and described.

    MLflow stores artifact locations as absolute URIs. When the home was copied or moved, the locations
    recorded in its own store (`mlflow.db`) still point into the old home: they are rebased onto this one,
    so a run never writes into another home and registered models load from this one.
    """
    client = client_for(settings)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    here = settings.mlartifacts_dir.as_uri()
    if (
        experiment is not None
        and experiment.artifact_location != here
        and settings.mlflow_tracking_uri is None
    ):
        _rebase_artifact_locations(settings, experiment.artifact_location)
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is None:
        settings.mlartifacts_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(MlflowException):  # else created meanwhile by another process
            client.create_experiment(EXPERIMENT_NAME, artifact_location=settings.mlartifacts_dir.as_uri())
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    for key, value in ((EXPERIMENT_KIND_TAG, CLASSIC_ML_KIND), (NOTE_TAG, EXPERIMENT_DESCRIPTION)):
        if experiment.tags.get(key) != value:
            client.set_experiment_tag(experiment.experiment_id, key, value)
    return experiment.experiment_id


def mlflow_experiment_url(settings: OvniSettings, experiment_id: str) -> str:
    """The experiment's runs in the MLflow UI's model-training view, under `OVNI_MLFLOW_UI_URL`."""
    return f"{settings.mlflow_ui_url}/#/experiments/{experiment_id}/runs?{TRAINING_VIEW_QUERY}"


def training_runs_url(settings: OvniSettings) -> str:
    """Where people open OVNI's training runs: the experiment (created if need be) in the model-training
    view; the UI's model-training home when the store does not answer."""
    try:
        return mlflow_experiment_url(settings, ensure_experiment(settings))
    except MlflowException:
        return f"{settings.mlflow_ui_url}/#/?{TRAINING_VIEW_QUERY}"


def end_interrupted_runs(settings: OvniSettings, dagster_run_id: str) -> list[str]:
    """Mark KILLED the training runs of `dagster_run_id` still RUNNING; their ids.

    A run still RUNNING whose Dagster run failed belongs to a process killed (kill -9, a lost container)
    before MLflow could end it.
    """
    if settings.mlflow_tracking_uri is None and not settings.mlflow_db_path.exists():
        return []
    client = client_for(settings)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is None:
        return []
    query = f"attributes.status = 'RUNNING' AND tags.{DAGSTER_RUN_ID_TAG} = '{dagster_run_id}'"
    ended = []
    reason = f"its process died before the run ended (Dagster run {dagster_run_id})"
    for run in client.search_runs([experiment.experiment_id], filter_string=query, max_results=1000):
        client.set_tag(run.info.run_id, INTERRUPTED_TAG, reason)
        client.set_terminated(run.info.run_id, status="KILLED")
        ended.append(run.info.run_id)
    return ended


def _rebase_artifact_locations(settings: OvniSettings, old: str) -> None:
    """Point every absolute artifact location of the home's SQLite store from `old` into this home."""
    import sqlite3

    here = settings.mlartifacts_dir.as_uri()
    located = (  # where MLflow's SQL store records absolute artifact locations
        ("experiments", "artifact_location"),
        ("runs", "artifact_uri"),
        ("logged_models", "artifact_location"),
        ("model_versions", "source"),
        ("model_versions", "storage_location"),
    )
    prefixes = [old, old.removeprefix("file://")] if old.startswith("file://") else [old]
    news = [here, str(settings.mlartifacts_dir)]
    with contextlib.closing(sqlite3.connect(settings.mlflow_db_path)) as db, db:
        for table, column in located:
            for prefix, new in zip(prefixes, news, strict=False):
                db.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                    f"WHERE substr({column}, 1, ?) = ? AND substr({column}, ?, 1) IN ('', '/')",
                    [new, len(prefix) + 1, len(prefix), prefix, len(prefix) + 1],
                )


def describe_version(client: MlflowClient, version: str, description: str) -> None:
    """Set the description of the registered model (what it is, how to use it) and of one version."""
    if client.get_registered_model(MODEL_NAME).description != REGISTERED_MODEL_DESCRIPTION:
        client.update_registered_model(MODEL_NAME, description=REGISTERED_MODEL_DESCRIPTION)
    client.update_model_version(MODEL_NAME, str(version), description=description)


def missing_tags(version: ModelVersion) -> list[str]:
    """The required tags a version lacks: a training stopped between registering and tagging it."""
    return [tag for tag in REQUIRED_VERSION_TAGS if version.tags.get(tag) in (None, "")]


def champion_version(client: MlflowClient) -> ModelVersion | None:
    """The version the `champion` alias points at, or None (no model, no alias yet, or the alias was moved
    by hand onto a half-made version: then a new model is trained)."""
    try:
        version = client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    except MlflowException:
        return None
    return None if missing_tags(version) else version


@dataclass
class Champion:
    """The champion model and what travels with it."""

    model: object  # a fitted sklearn Pipeline; predict_proba(X)[:, 1] = P(buy)
    version: str
    run_id: str
    threshold: float
    tags: dict[str, str]


def load_version(client: MlflowClient, version: str) -> object:
    """The fitted Pipeline of a registered version (skops trusted types come from its MLmodel)."""
    return mlflow.sklearn.load_model(f"models:/{MODEL_NAME}/{version}")


def load_champion(settings: OvniSettings) -> Champion | None:
    """Load `models:/ovni-purchase@champion` with its threshold, or None when there is no champion."""
    client = client_for(settings)
    version = champion_version(client)
    if version is None:
        return None
    return Champion(
        model=load_version(client, version.version),
        version=str(version.version),
        run_id=version.run_id,
        threshold=float(version.tags[THRESHOLD_TAG]),
        tags=dict(version.tags),
    )


def move_champion(client: MlflowClient, version: str) -> str | None:
    """Point `champion` at `version` in one call (the alias is never missing); tag the one it left.

    Returns the previous champion's version (None if there was none or it is the same version).
    """
    previous = champion_version(client)
    client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, str(version))
    if previous is None or str(previous.version) == str(version):
        return None
    for other in client.search_model_versions(f"name = '{MODEL_NAME}'"):
        if other.tags.get(PREVIOUS_CHAMPION_TAG) == "true" and str(other.version) != str(previous.version):
            client.delete_model_version_tag(MODEL_NAME, other.version, PREVIOUS_CHAMPION_TAG)
    client.set_model_version_tag(MODEL_NAME, previous.version, PREVIOUS_CHAMPION_TAG, "true")
    client.set_model_version_tag(
        MODEL_NAME, previous.version, "replaced_at", datetime.now(UTC).isoformat(timespec="seconds")
    )
    return str(previous.version)


def registered_versions(client: MlflowClient, complete_only: bool = True) -> list[ModelVersion]:
    """Registered versions, oldest first; by default only complete ones (see `missing_tags`)."""
    try:
        versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    except MlflowException:
        return []
    return sorted(
        (v for v in versions if not (complete_only and missing_tags(v))), key=lambda v: int(v.version)
    )


def model_version_rows(client: MlflowClient) -> list[dict]:
    """One row per complete registered version, for the `model_versions` table."""
    champion = champion_version(client)
    rows = []
    for version in registered_versions(client):
        tags = version.tags
        metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
        rows.append(
            {
                "model_version": str(version.version),
                "run_id": version.run_id,
                "trained_at": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC).replace(
                    tzinfo=None
                ),
                "val_f1": _float(tags.get("val_f1")),
                "val_precision": metrics.get("val_precision"),
                "val_recall": metrics.get("val_recall"),
                "val_pr_auc": metrics.get("val_pr_auc"),
                "threshold": _float(tags.get("threshold")),
                "training_snapshot_id": tags.get("training_snapshot_id"),
                "training_rows": _int(tags.get("training_rows")),
                "train_last_week": tags.get("train_last_week"),
                "val_weeks": tags.get("val_weeks"),
                "is_champion": champion is not None and str(champion.version) == str(version.version),
                "previous_champion": tags.get(PREVIOUS_CHAMPION_TAG) == "true",
                "promotion_reason": tags.get(PROMOTION_REASON_TAG),
            }
        )
    return rows


MODEL_VERSIONS_COLUMNS = """
    model_version VARCHAR, run_id VARCHAR, trained_at TIMESTAMP, val_f1 DOUBLE, val_precision DOUBLE,
    val_recall DOUBLE, val_pr_auc DOUBLE, threshold DOUBLE, training_snapshot_id VARCHAR,
    training_rows BIGINT, train_last_week DATE, val_weeks VARCHAR, is_champion BOOLEAN,
    previous_champion BOOLEAN, promotion_reason VARCHAR
"""


def write_model_versions(con, client: MlflowClient) -> int:
    """Rebuild the warehouse table `model_versions` from the registry; returns its row count."""
    import pandas as pd

    rows = model_version_rows(client)
    con.execute(f"CREATE OR REPLACE TABLE model_versions ({MODEL_VERSIONS_COLUMNS})")
    if rows:
        frame = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB below)
        con.execute("INSERT INTO model_versions BY NAME SELECT * FROM frame")
    return len(rows)


def json_weekly_f1(weekly: dict[date, float]) -> str:
    """{ISO week: F1} as compact JSON (a registry tag)."""
    return json.dumps({str(w): round(f1, 6) for w, f1 in sorted(weekly.items())}, separators=(",", ":"))


def weekly_f1_record(version: ModelVersion) -> dict[str, float]:
    """{feature week ISO date: F1} of the version's own validation (tag `val_weekly_f1`)."""
    return {week: float(f1) for week, f1 in json.loads(version.tags.get("val_weekly_f1", "{}")).items()}


def _float(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None


def _int(text: str | None) -> int | None:
    return int(text) if text not in (None, "") else None
