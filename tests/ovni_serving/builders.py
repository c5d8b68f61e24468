"""A hand-made producer for serving tests: a real `serving.duckdb` and a real MLflow registry in an OVNI_HOME,
following docs/architecture.md exactly (tables, alias, version tags, skops-logged sklearn Pipeline).

Used where a test needs a situation the real pipeline does not give on demand (a second version, a broken
version, a snapshot without some table).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings

TARGET_WEEK = date(2024, 10, 7)
# A subset of the pipeline's feature names (ovni_assets.features.pair_features), same meanings.
NUMERIC = [
    "weeks_since_last",
    "bought_w4",
    "bought_w8",
    "units_w4",
    "mean_gap_weeks",
    "cust_active_w4",
    "cust_weeks_since_last",
    "prod_customers_w4",
    "type_share_w8",
    "num_deliver_per_week",
    "size",
]
CATEGORICAL = ["customer_type", "segment", "is_discovery"]
FEATURES = NUMERIC + CATEGORICAL
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


@dataclass(frozen=True)
class World:
    """The synthetic business the fixture snapshot describes."""

    customers: pd.DataFrame
    products: pd.DataFrame
    features: pd.DataFrame  # next_week_features: keys + FEATURES
    non_candidate_pair: tuple[int, int]  # known customer and product, no candidate row
    customer_without_candidates: int


def make_world(seed: int = 0, n_customers: int = 30, n_products: int = 12) -> World:
    """Customers with history pairs (bought before) and discovery pairs (never bought, is_discovery=yes)."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1, dtype=np.int64),
            "region_id": 1,
            "zone_id": 1,
            "customer_type": rng.choice(["ABARROTES", "MAYORISTA", "RESTAURANT"], n_customers),
            "latitude": rng.uniform(-33.6, -33.3, n_customers),
            "longitude": rng.uniform(-70.8, -70.5, n_customers),
            "num_deliver_per_week": rng.integers(1, 6, n_customers).astype(float),
        }
    )
    products = pd.DataFrame(
        {
            "product_id": np.arange(101, 101 + n_products, dtype=np.int64),
            "brand": [f"Brand {i % 4}" for i in range(n_products)],
            "segment": rng.choice(["PREMIUM", "HIGH", "LOW"], n_products),
            "size": rng.choice([0.35, 1.5, 3.0], n_products),
        }
    )
    lonely = int(customers["customer_id"].iloc[-1])
    rows = []
    for c in customers["customer_id"][:-1]:
        chosen = rng.choice(products["product_id"], size=n_products - 3, replace=False)
        for i, p in enumerate(chosen):
            if i < 2:  # discovery candidates: never bought
                rows.append({"customer_id": int(c), "product_id": int(p), "is_discovery": "yes"})
                continue
            w8 = int(rng.integers(1, 9))
            rows.append(
                {
                    "customer_id": int(c),
                    "product_id": int(p),
                    "is_discovery": "no",
                    "weeks_since_last": float(rng.integers(0, 8)),
                    "bought_w4": float(min(w8, rng.integers(0, 5))),
                    "bought_w8": float(w8),
                    "units_w4": float(rng.integers(0, 12)),
                    "mean_gap_weeks": float(rng.uniform(1, 4)),
                }
            )
    features = pd.DataFrame(rows)
    for column in ("bought_w4", "bought_w8", "units_w4"):
        features[column] = features[column].fillna(0.0)
    features.insert(2, "week_start", TARGET_WEEK)
    by_customer = customers.set_index("customer_id")
    by_product = products.set_index("product_id")
    active = features.groupby("customer_id")["bought_w4"].apply(lambda b: float((b > 0).sum()))
    features["cust_active_w4"] = features["customer_id"].map(active)
    features["cust_weeks_since_last"] = features["customer_id"].map(
        features.groupby("customer_id")["weeks_since_last"].min()
    )
    buyers = features[features["bought_w4"] > 0].groupby("product_id").size()
    features["prod_customers_w4"] = features["product_id"].map(buyers).fillna(0).astype(float)
    features["customer_type"] = features["customer_id"].map(by_customer["customer_type"])
    features["num_deliver_per_week"] = features["customer_id"].map(by_customer["num_deliver_per_week"])
    features["segment"] = features["product_id"].map(by_product["segment"])
    features["size"] = features["product_id"].map(by_product["size"])
    share = (
        features.assign(buyer=features["bought_w8"] > 0)
        .groupby(["customer_type", "product_id"])["buyer"]
        .mean()
    )
    features["type_share_w8"] = [
        share[(t, p)] for t, p in zip(features["customer_type"], features["product_id"], strict=True)
    ]
    features = features[["customer_id", "product_id", "week_start", *FEATURES]]
    candidates = set(zip(features["customer_id"], features["product_id"], strict=True))
    non_candidate = next(
        (int(c), int(p))
        for c in customers["customer_id"][:-1]
        for p in products["product_id"]
        if (c, p) not in candidates
    )
    return World(customers, products, features, non_candidate, lonely)


def train_pipeline(world: World, seed: int) -> Pipeline:
    """A tiny real model: label depends on recent purchases, so probabilities are meaningful."""
    rng = np.random.default_rng(seed)
    frame = world.features[FEATURES]
    signal = frame["bought_w4"] / 4 + rng.normal(0, 0.3, len(frame))
    labels = (signal > 0.5).astype(int)
    pipeline = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        (
                            "categories",
                            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                            CATEGORICAL,
                        )
                    ],
                    remainder="passthrough",
                ),
            ),
            ("classifier", HistGradientBoostingClassifier(max_iter=20 + seed, random_state=seed)),
        ]
    )
    return pipeline.fit(frame, labels)


def register_version(
    settings: OvniSettings,
    world: World,
    seed: int = 0,
    threshold: float = 0.5,
    make_champion: bool = True,
    tags: dict[str, str] | None = None,
) -> str:
    """Train, log (skops, signature), register as `ovni-purchase`, tag, and optionally move `@champion`."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    uri = settings.tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(MODEL_NAME)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(MODEL_NAME, artifact_location=settings.mlartifacts_dir.as_uri())
    )
    pipeline = train_pipeline(world, seed)
    example = world.features[FEATURES].head(5)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metrics({"val_f1": 0.6 + seed / 100, "val_precision": 0.55, "val_recall": 0.66})
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict_proba(example)[:, 1]),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            pip_requirements=["scikit-learn"],
            skops_trusted_types=TRUSTED_TYPES,
        )
    _ensure_registered_model(client)
    version = client.create_model_version(MODEL_NAME, info.model_uri, run_id=run.info.run_id)
    version_tags = {
        "threshold": str(threshold),
        "training_snapshot_id": f"snap-{seed}",
        "train_last_week": str(TARGET_WEEK - timedelta(days=14)),
        "val_f1": str(0.6 + seed / 100),
        "val_weeks": "2",
        "val_weekly_f1": "{}",
        "training_rows": str(len(world.features)),
        **(tags or {}),
    }
    for key, value in version_tags.items():
        client.set_model_version_tag(MODEL_NAME, version.version, key, value)
    if make_champion:
        client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version.version)
    return str(version.version)


def _ensure_registered_model(client) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(MODEL_NAME)
    except MlflowException:
        client.create_registered_model(MODEL_NAME)


def load_version(settings: OvniSettings, version: str):
    import mlflow.sklearn

    # Both URIs: register_version leaves the registry URI of the last home it wrote to.
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return mlflow.sklearn.load_model(f"models:/{MODEL_NAME}/{version}")


def publish_snapshot(
    settings: OvniSettings,
    world: World,
    model,
    model_version: str,
    threshold: float = 0.5,
    skip_tables: tuple[str, ...] = (),
    target_week: date = TARGET_WEEK,
) -> Path:
    """Write every snapshot table to a temp file next to serving.duckdb and publish it with os.replace."""
    features = world.features.assign(week_start=target_week)
    probability = model.predict_proba(features[FEATURES])[:, 1]
    batch_id = f"batch-{model_version}-{target_week}"
    created_at = datetime(2024, 10, 6, 22, 0)
    batch = features[["customer_id", "product_id"]].assign(
        week_start=target_week, probability=probability, will_buy=probability >= threshold
    )
    batch["rank"] = (
        batch.groupby("customer_id")["probability"].rank(ascending=False, method="first").astype(int)
    )
    batch = batch.assign(model_version=model_version, batch_id=batch_id, created_at=created_at)
    past = batch.assign(
        week_start=target_week - timedelta(days=7),
        batch_id="batch-past",
        created_at=created_at - timedelta(days=7),
    )
    predictions = pd.concat([past, batch], ignore_index=True)[
        [
            "week_start",
            "customer_id",
            "product_id",
            "probability",
            "will_buy",
            "rank",
            "model_version",
            "batch_id",
            "created_at",
        ]
    ]
    model_versions = pd.DataFrame(
        [
            {
                "model_version": model_version,
                "run_id": "r",
                "val_f1": 0.6,
                "threshold": threshold,
                "is_champion": True,
            }
        ]
    )
    drift = pd.DataFrame(
        [
            {
                "report_id": "d1",
                "week_start": target_week - timedelta(days=7),
                "reference_model_version": model_version,
                "feature": name,
                "kind": "numeric",
                "psi": psi,
                "statistic": 0.1,
                "p_value": 0.01,
                "p_adjusted": 0.05,
                "drifted": psi > 0.2,
                "created_at": created_at,
                "psi_threshold": 0.2,
                "alpha": 0.01,
                "baseline_factor": 2.0,
            }
            for name, psi in (("bought_w4", 0.3), ("units_w4", 0.05))
        ]
    )
    quality = pd.DataFrame(
        [
            {
                "week_start": target_week - timedelta(days=7),
                "batch_id": "batch-past",
                "model_version": model_version,
                "precision": 0.5,
                "recall": 0.6,
                "f1": 0.545,
                "n_predicted": 40,
                "n_actual": 33,
                "scored_at": created_at,
            }
        ]
    )
    info = pd.DataFrame(
        [
            {
                "created_at": created_at,
                "target_week": target_week,
                "batch_id": batch_id,
                "model_version": model_version,
            }
        ]
    )
    tables = {
        "predictions": predictions,
        "next_week_features": features,
        "customers": world.customers,
        "products": world.products,
        "model_versions": model_versions,
        "drift_reports": drift,
        "prediction_quality": quality,
        "lineage": pd.DataFrame([{"batch_id": batch_id, "model_version": model_version, "run_id": "r"}]),
        "snapshot_info": info,
    }
    settings.home.mkdir(parents=True, exist_ok=True)
    final = settings.serving_path
    temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    con = duckdb.connect(str(temp))
    try:
        for name, frame in tables.items():
            if name in skip_tables:
                continue
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
        if "predictions" not in skip_tables:
            con.execute(
                "CREATE VIEW latest_predictions AS SELECT * EXCLUDE (newest) FROM ("
                " SELECT *, batch_id = first(batch_id ORDER BY created_at DESC)"
                " OVER (PARTITION BY week_start)"
                " AS newest FROM predictions) WHERE newest"
            )
    finally:
        con.close()
    os.replace(temp, final)
    return final
