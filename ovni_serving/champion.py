"""The champion model from the MLflow registry (`models:/ovni-purchase@champion`), loaded once per version.

MLflow 3 stores scikit-learn models with skops; the types to trust (HistGradientBoosting's `TreePredictor`)
are recorded in the model's MLmodel file when the pipeline logs it, so loading needs no list here.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ovni_assets.keys import REQUIRED_VERSION_TAGS, THRESHOLD_TAG
from ovni_assets.model.frame import BOOLEAN, NUMBER, TEXT
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings

NUMERIC_TYPES = {"double", "float", "long", "integer"}


class RegistryError(RuntimeError):
    """No registry, no champion, or a champion version that cannot be served."""


@dataclass(frozen=True)
class FeatureSpec:
    """One input column of the model's signature."""

    name: str
    kind: str  # MLflow type name: double, float, long, integer, boolean, string, datetime
    required: bool

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_TYPES

    @property
    def input_kind(self) -> str:
        """How `ovni_assets.model.frame.input_frame` converts the column."""
        if self.numeric:
            return NUMBER
        return BOOLEAN if self.kind == "boolean" else TEXT


@dataclass(frozen=True)
class ChampionModel:
    """A registered model version ready to score: the Pipeline and what travels with it."""

    name: str
    version: str
    run_id: str
    model: Any  # scikit-learn Pipeline; predict_proba(X)[:, 1] is P(buy)
    threshold: float
    features: tuple[FeatureSpec, ...]
    trained_at: str | None
    metrics: dict[str, float]
    training_snapshot_id: str | None
    train_last_week: str | None
    loaded_at: str

    @property
    def feature_names(self) -> list[str]:
        return [spec.name for spec in self.features]


class ChampionRegistry:
    """Reads the champion alias and loads model versions from the MLflow store in settings."""

    def __init__(self, settings: OvniSettings) -> None:
        self.settings = settings
        # A server log is no place for download progress bars.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        self._client = None

    def _sqlite_file(self) -> Path | None:
        uri = self.settings.tracking_uri
        return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None

    def client(self):
        """The MLflow client, created lazily, never on a store that does not exist yet (no side effects)."""
        if self._client is None:
            sqlite_file = self._sqlite_file()
            if sqlite_file is not None and not sqlite_file.exists():
                raise RegistryError(f"no model registry at {sqlite_file} yet (run `ovni run` to train one)")
            from mlflow import MlflowClient

            uri = self.settings.tracking_uri
            self._client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        return self._client

    def champion_version(self) -> str:
        """The version number the `champion` alias points at now."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client().get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version)
        except MlflowException as error:
            raise RegistryError(
                f"no {MODEL_NAME}@{CHAMPION_ALIAS} in the registry: {error.message}"
            ) from None

    def load(self, version: str) -> ChampionModel:
        """Download and deserialize one version (slow: call it off the request path)."""
        import mlflow.sklearn
        from mlflow.exceptions import MlflowException
        from mlflow.models import Model

        client = self.client()
        try:
            model_version = client.get_model_version(MODEL_NAME, version)
            run = client.get_run(model_version.run_id) if model_version.run_id else None
            with tempfile.TemporaryDirectory(prefix="ovni-model-") as tmp:
                # The version's own artifact location, resolved with this client: a `models:/` URI would be
                # resolved against MLflow's global registry setting instead of OVNI's store.
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=client.get_model_version_download_uri(MODEL_NAME, version),
                    dst_path=tmp,
                    tracking_uri=self.settings.tracking_uri,
                )
                signature = Model.load(local).signature
                model = mlflow.sklearn.load_model(local)
        except MlflowException as error:
            raise RegistryError(f"cannot load {MODEL_NAME} version {version}: {error.message}") from None
        if signature is None or signature.inputs is None:
            raise RegistryError(f"{MODEL_NAME} version {version} was logged without an input signature")
        tags = dict(model_version.tags)
        missing = [tag for tag in REQUIRED_VERSION_TAGS if tags.get(tag) in (None, "")]
        if missing:
            raise RegistryError(
                f"{MODEL_NAME} version {version} is half-made (its training stopped before tagging it: no "
                f"{', '.join(missing)}); it is not served"
            )
        try:
            threshold = float(tags[THRESHOLD_TAG])
        except (KeyError, ValueError):
            raise RegistryError(f"{MODEL_NAME} version {version} has no numeric 'threshold' tag") from None
        if not 0.0 <= threshold <= 1.0:
            raise RegistryError(f"{MODEL_NAME} version {version} has threshold {threshold} outside [0, 1]")
        features = tuple(
            FeatureSpec(name=col.name, kind=_type_name(col.type), required=bool(col.required))
            for col in signature.inputs.inputs
        )
        metrics = {k: v for k, v in (run.data.metrics.items() if run else []) if k.startswith("val_")}
        if "val_f1" not in metrics and _is_number(tags.get("val_f1")):
            metrics["val_f1"] = float(tags["val_f1"])
        trained_at = (
            datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC).isoformat()
            if run and run.info.start_time
            else None
        )
        return ChampionModel(
            name=MODEL_NAME,
            version=str(model_version.version),
            run_id=model_version.run_id or "",
            model=model,
            threshold=threshold,
            features=features,
            trained_at=trained_at,
            metrics=metrics,
            training_snapshot_id=tags.get("training_snapshot_id"),
            train_last_week=tags.get("train_last_week"),
            loaded_at=datetime.now(tz=UTC).isoformat(),
        )


def _type_name(col_type: Any) -> str:
    return getattr(col_type, "name", str(col_type))


def _is_number(text: str | None) -> bool:
    try:
        return text is not None and math.isfinite(float(text))
    except ValueError:
        return False
