"""The purchase model as a scikit-learn Pipeline, and how rows are scored with it (no dagster, no mlflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from ovni_assets.features.model_inputs import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from ovni_assets.model.frame import NUMBER, TEXT, input_frame

RANDOM_STATE = 17


DEFAULT_PARAMS = {
    "learning_rate": 0.08,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 80,
    "l2_regularization": 1.0,
    "max_features": 0.8,
}


def build_pipeline(params: dict) -> Pipeline:
    """Preprocessing (categorical columns to ordinal codes, unknown → missing) + gradient boosting."""
    encoder = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                ),
                CATEGORICAL_FEATURES,
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    classifier = HistGradientBoostingClassifier(
        categorical_features=CATEGORICAL_FEATURES,
        early_stopping=False,
        random_state=RANDOM_STATE,
        **params,
    )
    return Pipeline([("preprocess", encoder), ("classifier", classifier)])


SCORING_CHUNK_ROWS = 250_000


def predict_probability(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """P(buy) for feature rows, on one OpenMP thread, `SCORING_CHUNK_ROWS` rows at a time.

    HistGradientBoosting parallelises prediction per tree; on a busy small machine the thread hand-offs
    cost more than they save, so scoring runs single-threaded. The model input is a float64 copy of the
    rows (and the encoder makes another): chunks keep those copies small on large data.
    """
    if len(frame) == 0:
        return np.empty(0)
    with threadpool_limits(limits=1, user_api="openmp"):
        return np.concatenate(
            [
                pipeline.predict_proba(model_input(frame.iloc[start : start + SCORING_CHUNK_ROWS]))[:, 1]
                for start in range(0, len(frame), SCORING_CHUNK_ROWS)
            ]
        )


FEATURE_INPUTS = [(name, NUMBER) for name in NUMERIC_FEATURES] + [
    (name, TEXT) for name in CATEGORICAL_FEATURES
]


def model_input(rows: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns of feature rows, in the order of the feature columns."""
    return input_frame(rows, FEATURE_INPUTS)
