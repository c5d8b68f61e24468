"""Realized quality: how good past prediction batches were, once the actuals of their week have landed.

A predicted week W is **complete** once `transactions` contains week W or a later week: OVNI assumes data
lands in whole weeks (the target week of a batch is the week after the newest landed week for the same
reason), so the first landed purchase of W means W's actuals are in. Each batch of a complete week is
scored once, in SQL, against *every* real purchase of the week (distinct customer × product pairs in
`transactions`, pairs the model never scored included):

- precision = true positives / pairs predicted `will_buy`,
- recall = true positives / pairs actually bought,
- F1 = 2 · true positives / (predicted + actual).

A ratio whose denominator is 0 is NULL. Batches are scored once; later files for an already scored week
do not re-score it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from ovni_assets.warehouse import table_exists

PREDICTION_QUALITY_DDL = """
CREATE TABLE IF NOT EXISTS prediction_quality (
    week_start DATE, batch_id VARCHAR, model_version VARCHAR, precision DOUBLE, recall DOUBLE, f1 DOUBLE,
    n_predicted BIGINT, n_actual BIGINT, true_positives BIGINT, batch_created_at TIMESTAMP,
    scored_at TIMESTAMP
)
"""

SCORE_NEW_BATCHES_SQL = """
INSERT INTO prediction_quality
WITH landed AS (SELECT max(week_start) AS newest_week FROM transactions),
batches AS (
    SELECT p.week_start, p.batch_id, any_value(p.model_version) AS model_version,
        max(p.created_at) AS batch_created_at
    FROM predictions p, landed
    WHERE p.week_start <= landed.newest_week
      AND NOT EXISTS (SELECT 1 FROM prediction_quality q WHERE q.batch_id = p.batch_id)
    GROUP BY p.week_start, p.batch_id
),
predicted AS (
    SELECT DISTINCT p.batch_id, b.week_start, p.customer_id, p.product_id
    FROM predictions p JOIN batches b USING (batch_id) WHERE p.will_buy
),
actual AS (
    SELECT DISTINCT week_start, customer_id, product_id
    FROM transactions WHERE week_start IN (SELECT week_start FROM batches)
),
predicted_counts AS (
    SELECT batch_id, count(*) AS n_predicted, count(a.customer_id) AS true_positives
    FROM predicted p LEFT JOIN actual a USING (week_start, customer_id, product_id)
    GROUP BY batch_id
),
actual_counts AS (SELECT week_start, count(*) AS n_actual FROM actual GROUP BY week_start),
counts AS (
    SELECT b.week_start, b.batch_id, b.model_version, b.batch_created_at,
        coalesce(pc.n_predicted, 0) AS n_predicted, coalesce(ac.n_actual, 0) AS n_actual,
        coalesce(pc.true_positives, 0) AS true_positives
    FROM batches b
    LEFT JOIN predicted_counts pc USING (batch_id)
    LEFT JOIN actual_counts ac USING (week_start)
)
SELECT week_start, batch_id, model_version,
    true_positives / nullif(n_predicted, 0) AS precision,
    true_positives / nullif(n_actual, 0) AS recall,
    2 * true_positives / nullif(n_predicted + n_actual, 0) AS f1,
    n_predicted, n_actual, true_positives, batch_created_at, ? AS scored_at
FROM counts
"""


@dataclass
class QualityReport:
    """What one scoring pass did, and the newest realized quality (None fields: nothing scored yet)."""

    batches_scored: int
    scored_total: int
    latest_week_start: date | None = None
    latest_batch_id: str | None = None
    latest_model_version: str | None = None
    latest_f1: float | None = None
    latest_precision: float | None = None
    latest_recall: float | None = None
    latest_model_val_f1: float | None = None
    champion_version: str | None = None
    champion_val_f1: float | None = None
    note: str = ""


def _model_val_f1(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, float], tuple[str, float] | None]:
    """{model_version: validation F1} and (champion version, its validation F1) from `model_versions`."""
    if not table_exists(con, "model_versions"):
        return {}, None
    rows = con.execute("SELECT model_version, val_f1, is_champion FROM model_versions").fetchall()
    val_f1 = {str(v): float(f1) for v, f1, _ in rows if f1 is not None}
    champion = next(((str(v), val_f1.get(str(v))) for v, _, is_champion in rows if is_champion), None)
    return val_f1, champion


def score_prediction_batches(
    con: duckdb.DuckDBPyConnection, scored_at: datetime | None = None
) -> QualityReport:
    """Score every not yet scored batch whose week is complete; append to `prediction_quality`."""
    con.execute(PREDICTION_QUALITY_DDL)
    before = con.execute("SELECT count(*) FROM prediction_quality").fetchone()[0]
    if table_exists(con, "predictions") and table_exists(con, "transactions"):
        scored_at = scored_at or datetime.now(UTC).replace(tzinfo=None)
        con.execute(SCORE_NEW_BATCHES_SQL, [scored_at])
        note = ""
    else:
        note = "Nothing to score yet: no predictions or no transactions."
    total = con.execute("SELECT count(*) FROM prediction_quality").fetchone()[0]
    val_f1, champion = _model_val_f1(con)
    report = QualityReport(batches_scored=total - before, scored_total=total, note=note)
    if champion:
        report.champion_version, report.champion_val_f1 = champion
    latest = con.execute(
        "SELECT week_start, batch_id, model_version, f1, precision, recall FROM prediction_quality "
        "ORDER BY week_start DESC, batch_created_at DESC LIMIT 1"
    ).fetchone()
    if latest is None:
        report.note = report.note or "Nothing to score yet: no predicted week has landed."
        return report
    week, batch, version, f1, precision, recall = latest
    report.latest_week_start = pd.Timestamp(week).date()
    report.latest_batch_id, report.latest_model_version = batch, version
    report.latest_f1, report.latest_precision, report.latest_recall = f1, precision, recall
    report.latest_model_val_f1 = val_f1.get(str(version))
    report.note = (
        f"Scored {report.batches_scored} new batch(es); newest scored week {week}: F1 "
        f"{_fmt(f1)} by model v{version} (validation F1 {_fmt(report.latest_model_val_f1)})."
    )
    return report


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def recent_quality(con: duckdb.DuckDBPyConnection, limit: int = 12) -> pd.DataFrame:
    """The newest rows of `prediction_quality`, for a readable preview."""
    return con.execute(
        "SELECT week_start, batch_id, model_version, round(precision, 3) AS precision, "
        "round(recall, 3) AS recall, round(f1, 3) AS f1, n_predicted, n_actual, true_positives "
        f"FROM prediction_quality ORDER BY week_start DESC, batch_created_at DESC LIMIT {int(limit)}"
    ).df()
