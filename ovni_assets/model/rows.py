"""The labelled rows a model is trained and validated on, read from `pair_features` (no dagster, no mlflow).

Row cap for large data: when the weeks hold more than the cap, rows are sampled by a deterministic hash of
the row key and weighted by 1 / rate: negatives first, positives only when they alone would fill more than
half the cap. The same hash gives champion and challenger the same validation rows, and the weights keep
every count an estimate of the full weeks' count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.target_week import ONE_WEEK, read_target_week
from ovni_assets.warehouse import read_frame


@dataclass(frozen=True)
class TrainingData:
    frame: pd.DataFrame  # keys, features, label, weight
    snapshot_id: str
    first_week: date
    last_week: date


OUTAGE_RATIO = 0.6


OUTAGE_WEEKS_SQL = """
WITH weekly AS (
    SELECT week_start, count(*) AS purchases FROM weekly_purchases GROUP BY week_start
), with_usual AS (
    SELECT week_start, purchases,
        median(purchases) OVER (ORDER BY week_start ROWS BETWEEN 8 PRECEDING AND 1 PRECEDING) AS usual
    FROM weekly
)
SELECT week_start FROM with_usual WHERE purchases < ? * usual ORDER BY week_start
"""


def outage_weeks(con: duckdb.DuckDBPyConnection, ratio: float = OUTAGE_RATIO) -> list[date]:
    """Weeks with fewer than `ratio` × the median purchases of the 8 weeks before them (supply outages).

    The real data has such weeks (docs/model.md). Labels of such a week say more about the outage than
    about customers, so training and validation leave them out.
    """
    return [r[0] for r in con.execute(OUTAGE_WEEKS_SQL, [ratio]).fetchall()]


def labelled_weeks(con: duckdb.DuckDBPyConnection, until: date | None = None) -> list[date]:
    """Feature weeks with a known label and a normal target week (not an outage), optionally only those
    whose target week is ≤ `until`. A week still in progress is no label week: its labels are partial."""
    target = read_target_week(con)
    if target is not None and target.in_progress:
        newest_complete = target.target_week - ONE_WEEK
        until = newest_complete if until is None else min(until, newest_complete)
    rows = con.execute(
        "SELECT DISTINCT week_start FROM pair_features WHERE label IS NOT NULL "
        "AND (CAST(? AS DATE) IS NULL OR target_week_start <= ?) ORDER BY 1",
        [until, until],
    ).fetchall()
    outages = set(outage_weeks(con))
    return [r[0] for r in rows if r[0] + timedelta(days=7) not in outages]


def actual_purchases(con: duckdb.DuckDBPyConnection, weeks: list[date]) -> dict[date, int]:
    """Real purchases (pairs) of the target week of each feature week, candidates or not."""
    if not weeks:
        return {}
    rows = con.execute(
        "SELECT CAST(week_start - INTERVAL 7 DAY AS DATE), count(*) FROM weekly_purchases "
        "WHERE week_start - INTERVAL 7 DAY IN (SELECT unnest(?::DATE[])) GROUP BY 1",
        [weeks],
    ).fetchall()
    counts = dict.fromkeys(weeks, 0)
    counts.update({w: n for w, n in rows})
    return counts


def load_rows(con: duckdb.DuckDBPyConnection, weeks: list[date], max_rows: int | None = None) -> TrainingData:
    """Labelled rows of `weeks`, sampled (deterministically) to stay under `max_rows`.

    Negatives are sampled first; positives only when they alone would fill more than half the cap. Each
    kept row weighs 1 / its class's sampling rate, so weighted counts match the full data.
    """
    week_list = list(weeks)
    total, positives = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE label) FROM pair_features "
        "WHERE label IS NOT NULL AND week_start IN (SELECT unnest(?::DATE[]))",
        [week_list],
    ).fetchall()[0]
    positive_rate = negative_rate = 1.0
    if max_rows is not None and total > max_rows:
        positive_rate = min(1.0, max_rows / 2 / max(positives, 1))
        negative_rate = max((max_rows - positives * positive_rate) / max(total - positives, 1), 0.001)
    keep_positive, keep_negative = int(positive_rate * 1_000_000), int(negative_rate * 1_000_000)
    frame = read_frame(
        con,
        f"""SELECT customer_id, product_id, week_start, {", ".join(FEATURE_COLUMNS)}, label,
                   CASE WHEN label THEN {1.0 / positive_rate} ELSE {1.0 / negative_rate} END AS weight
            FROM pair_features
            WHERE label IS NOT NULL AND week_start IN (SELECT unnest(?::DATE[]))
              AND hash(customer_id, product_id, week_start) % 1000000
                  < CASE WHEN label THEN {keep_positive} ELSE {keep_negative} END
            ORDER BY week_start, customer_id, product_id""",
        [week_list],
    )
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    frame["label"] = frame["label"].astype(bool)
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return TrainingData(
        frame=frame,
        snapshot_id=digest.hexdigest()[:16],
        first_week=min(week_list),
        last_week=max(week_list),
    )
