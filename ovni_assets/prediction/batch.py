"""Weekly prediction batches: score every candidate pair of the target week with the champion.

The newest feature week t in `pair_features` (the newest landed week) describes every candidate pair as of
t; the model gives P(buy in t + 1), the *target week*. Batches are appended to `predictions`, never
overwritten; `latest_predictions` shows the newest batch of each target week.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from ovni_assets.features.pair_features import FEATURE_COLUMNS
from ovni_assets.model.registry import Champion
from ovni_assets.model.training import predict_probability
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


def newest_feature_week(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute("SELECT max(week_start) FROM pair_features").fetchall()[0][0]


def score_week(con: duckdb.DuckDBPyConnection, champion: Champion, feature_week: date) -> pd.DataFrame:
    """Predictions for every candidate pair of `feature_week`, for the week after it."""
    frame = read_frame(
        con,
        f"SELECT customer_id, product_id, target_week_start, {', '.join(FEATURE_COLUMNS)} "
        "FROM pair_features WHERE week_start = ? ORDER BY customer_id, product_id",
        [feature_week],
    )
    probability = predict_probability(champion.model, frame)
    scored = pd.DataFrame(
        {
            "week_start": pd.to_datetime(frame["target_week_start"]).dt.date,
            "customer_id": frame["customer_id"].astype("int64"),
            "product_id": frame["product_id"].astype("int64"),
            "probability": probability,
        }
    )
    scored["will_buy"] = scored["probability"] >= champion.threshold
    scored["rank"] = (
        scored.groupby("customer_id")["probability"].rank(method="first", ascending=False).astype("int32")
    )
    return scored


def append_batch(con: duckdb.DuckDBPyConnection, champion: Champion) -> Batch:
    """Score the target week with the champion and append the batch to `predictions`."""
    feature_week = newest_feature_week(con)
    if feature_week is None:
        raise ValueError("pair_features is empty: nothing to score")
    scored = score_week(con, champion, feature_week)
    created_at = datetime.now(UTC).replace(tzinfo=None)
    target_week = date.fromordinal(feature_week.toordinal() + 7)
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
