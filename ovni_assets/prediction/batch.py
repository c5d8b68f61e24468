"""Weekly prediction batches: score every candidate pair of the target week with the champion.

The target week and the feature week come from `read_target_week` (ovni_assets.features.target_week): the
feature week t (the newest complete week) describes every candidate pair as of t; the model gives P(buy in
t + 1), the target week. While the target week is in progress, the pairs already bought in its known days
are certain (probability 1, added when they are not candidates) and every other pair gets P(buy in the
days to come), compared with the champion's threshold. Batches are appended to `predictions`, never
overwritten; `latest_predictions` shows the newest batch of each target week.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.target_week import TargetWeek, in_progress_probability, read_target_week
from ovni_assets.model.estimator import predict_probability
from ovni_assets.model.registry import Champion
from ovni_assets.warehouse import read_frame

PREDICTIONS_DDL = """
CREATE TABLE IF NOT EXISTS predictions (
    week_start DATE, customer_id BIGINT, product_id BIGINT, probability DOUBLE, will_buy BOOLEAN,
    rank INTEGER, model_version VARCHAR, batch_id VARCHAR, created_at TIMESTAMP
)
"""
LATEST_PREDICTIONS_VIEW = """
CREATE OR REPLACE VIEW latest_predictions AS
WITH newest AS (
    SELECT week_start, arg_max(batch_id, created_at) AS batch_id FROM predictions GROUP BY week_start
)
SELECT p.* FROM predictions p
SEMI JOIN newest n ON p.week_start = n.week_start AND p.batch_id = n.batch_id
"""
PREDICTION_BATCHES_DDL = """
CREATE TABLE IF NOT EXISTS prediction_batches (
    batch_id VARCHAR, week_start DATE, feature_week DATE, model_version VARCHAR, run_id VARCHAR,
    threshold DOUBLE, rows BIGINT, predicted_buys BIGINT, created_at TIMESTAMP
)
"""


@dataclass(frozen=True)
class Batch:
    batch_id: str
    week_start: date  # target week
    feature_week: date
    model_version: str
    rows: int
    predicted_buys: int
    customers: int


def ensure_prediction_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(PREDICTIONS_DDL)
    con.execute(PREDICTION_BATCHES_DDL)
    con.execute(LATEST_PREDICTIONS_VIEW)


def bought_so_far(con: duckdb.DuckDBPyConnection, target: TargetWeek) -> pd.DataFrame:
    """The pairs bought in the known days of an in-progress target week (empty otherwise)."""
    if not target.in_progress:
        return pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "product_id": pd.Series(dtype="int64")})
    return con.execute(
        "SELECT customer_id::BIGINT AS customer_id, product_id::BIGINT AS product_id FROM weekly_purchases "
        "WHERE week_start = ? ORDER BY customer_id, product_id",
        [target.target_week],
    ).df()


def target_week_probability(probability: np.ndarray, bought: np.ndarray, target: TargetWeek) -> np.ndarray:
    """P(buy in the target week): the model's as it is for a week not started yet; in progress, 1 for the
    pairs already bought and P(buy in the days to come) for the others."""
    if not target.in_progress:
        return np.asarray(probability, dtype=float)
    remaining = in_progress_probability(probability, target.known_volume, target.remaining_volume)
    return np.where(bought, 1.0, remaining)


def score_week(con: duckdb.DuckDBPyConnection, champion: Champion, target: TargetWeek) -> pd.DataFrame:
    """Predictions for every candidate pair of the target week (in progress: also the pairs bought so far)."""
    frame = read_frame(
        con,
        f"SELECT customer_id, product_id, {', '.join(FEATURE_COLUMNS)} "
        "FROM pair_features WHERE week_start = ? ORDER BY customer_id, product_id",
        [target.feature_week],
    )
    scored = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("int64"),
            "product_id": frame["product_id"].astype("int64"),
            "model_probability": predict_probability(champion.model, frame),
        }
    )
    known = bought_so_far(con, target).assign(bought=True)
    scored = scored.merge(known, on=["customer_id", "product_id"], how="outer", sort=True)
    scored["bought"] = scored["bought"].eq(True)
    scored["model_probability"] = scored["model_probability"].fillna(0.0)
    scored["probability"] = target_week_probability(
        scored["model_probability"].to_numpy(), scored["bought"].to_numpy(), target
    )
    scored.insert(0, "week_start", target.target_week)
    scored["will_buy"] = scored["bought"] | (scored["probability"] >= champion.threshold)
    scored["rank"] = (
        scored.groupby("customer_id")["probability"].rank(method="first", ascending=False).astype("int32")
    )
    return scored.drop(columns=["model_probability", "bought"]).reset_index(drop=True)


def append_batch(con: duckdb.DuckDBPyConnection, champion: Champion) -> Batch:
    """Score the target week with the champion and append the batch to `predictions`."""
    target = read_target_week(con)
    if (
        target is None
        or not con.execute(
            "SELECT count(*) FROM pair_features WHERE week_start = ?", [target.feature_week]
        ).fetchall()[0][0]
    ):
        raise ValueError("pair_features has no rows of the newest complete week: nothing to score")
    scored = score_week(con, champion, target)
    created_at = datetime.now(UTC).replace(tzinfo=None)
    target_week, feature_week = target.target_week, target.feature_week
    batch_id = f"{target_week:%Y%m%d}-v{champion.version}-{uuid.uuid4().hex[:8]}"
    scored["model_version"] = champion.version
    scored["batch_id"] = batch_id
    scored["created_at"] = created_at
    ensure_prediction_tables(con)
    con.register("scored_batch", scored)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO predictions BY NAME SELECT * FROM scored_batch")
        con.execute(
            "INSERT INTO prediction_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                target_week,
                feature_week,
                champion.version,
                champion.run_id,
                champion.threshold,
                len(scored),
                int(scored["will_buy"].sum()),
                created_at,
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("scored_batch")
    return Batch(
        batch_id=batch_id,
        week_start=target_week,
        feature_week=feature_week,
        model_version=champion.version,
        rows=len(scored),
        predicted_buys=int(scored["will_buy"].sum()),
        customers=int(scored["customer_id"].nunique()),
    )


def latest_batch(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The newest batch (target week, model version, batch id), or None before the first one."""
    ensure_prediction_tables(con)
    rows = con.execute(
        "SELECT batch_id, week_start, model_version FROM prediction_batches ORDER BY created_at DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    batch_id, week_start, model_version = rows[0]
    return {"batch_id": batch_id, "week_start": week_start, "model_version": model_version}
