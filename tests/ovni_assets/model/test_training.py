"""Training: F1 over all real purchases, threshold, time-based validation, row cap, outage weeks."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.model import estimator, metrics, rows, training

FAST = {**estimator.DEFAULT_PARAMS, "max_iter": 30}  # a quick model: these tests check plumbing


def test_best_threshold_counts_purchases_outside_the_candidates():
    probabilities = np.array([0.9, 0.8, 0.3, 0.1])
    labels = np.array([True, True, False, True])
    # 3 real purchases among the candidates, 2 more that no candidate row covers
    threshold, f1 = metrics.best_threshold(probabilities, labels, total_actual=5)
    # top 2: 2·2/(2+5) = 0.571; top 3: 4/8 = 0.5; all 4: 2·3/(4+5) = 0.667
    assert f1 == pytest.approx(6 / 9)
    assert 0.0 < threshold < 0.1
    _, f1_all_covered = metrics.best_threshold(probabilities, labels, total_actual=3)
    assert f1_all_covered == pytest.approx(2 * 3 / (4 + 3))
    assert metrics.decision_threshold(0.56) == pytest.approx(0.28)


def test_weekly_metrics_use_all_real_purchases_as_recall_denominator():
    weeks = pd.Series([date(2024, 1, 1)] * 3 + [date(2024, 1, 8)] * 2)
    labels = np.array([True, False, True, True, False])
    predicted = np.array([True, True, False, True, False])
    actual = {date(2024, 1, 1): 4, date(2024, 1, 8): 1}
    weekly = metrics.weekly_metrics(metrics.weekly_counts(weeks, labels, predicted, actual))
    first, second = weekly.iloc[0], weekly.iloc[1]
    assert (first["tp"], first["predicted"], first["actual"]) == (1, 2, 4)
    assert first["recall"] == pytest.approx(0.25) and first["precision"] == pytest.approx(0.5)
    assert first["f1"] == pytest.approx(2 * 1 / (2 + 4))
    assert second["f1"] == pytest.approx(1.0)


def test_outage_weeks_are_left_out_of_training_and_validation():
    con = duckdb.connect()
    weeks = [date(2024, 1, 1) + timedelta(days=7 * i) for i in range(12)]
    counts = [100, 102, 98, 101, 40, 99, 100, 103, 97, 100, 101, 99]  # week 4 is an outage
    purchases = [(c, 1, w) for w, n in zip(weeks, counts, strict=True) for c in range(n)]
    con.execute("CREATE TABLE weekly_purchases (customer_id INT, product_id INT, week_start DATE)")
    con.executemany("INSERT INTO weekly_purchases VALUES (?, ?, ?)", purchases)
    con.execute(  # every week complete: its purchases on its Saturday
        "CREATE OR REPLACE TABLE weekly_purchases AS SELECT *, week_start + 5 AS first_purchase_date, "
        "week_start + 5 AS last_purchase_date FROM weekly_purchases"
    )
    con.execute(
        "CREATE TABLE pair_features AS SELECT DISTINCT week_start, week_start + 7 AS target_week_start, "
        "true AS label FROM weekly_purchases"
    )
    con.execute(
        "UPDATE pair_features SET label = NULL WHERE week_start = (SELECT max(week_start) FROM pair_features)"
    )
    assert rows.outage_weeks(con) == [weeks[4]]
    labelled = rows.labelled_weeks(con)
    assert weeks[3] not in labelled  # its label week is the outage
    assert labelled == [w for w in weeks[:-1] if w != weeks[3]]
    assert rows.labelled_weeks(con, until=weeks[6]) == [weeks[0], weeks[1], weeks[2], weeks[4], weeks[5]]


def labelled_rows(con: duckdb.DuckDBPyConnection, weeks: list[date]) -> tuple[int, int]:
    """(labelled rows, positives) of `pair_features` in `weeks`."""
    return con.execute(
        "SELECT count(*), count(*) FILTER (WHERE label) FROM pair_features WHERE label IS NOT NULL "
        "AND week_start IN (SELECT unnest(?::DATE[]))",
        [weeks],
    ).fetchall()[0]


def test_row_cap_keeps_every_positive_and_weights_sampled_negatives(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    weeks = rows.labelled_weeks(con)
    total, positives = labelled_rows(con, weeks)
    cap = positives + (total - positives) // 4
    data = rows.load_rows(con, weeks, max_rows=cap)
    frame = data.frame
    assert int(frame["label"].sum()) == positives
    assert len(frame) < total and len(frame) == pytest.approx(cap, rel=0.15)
    negatives = frame.loc[~frame["label"], "weight"]
    assert negatives.nunique() == 1 and negatives.iloc[0] > 3
    assert frame["weight"].sum() == pytest.approx(total, rel=0.15)
    again = rows.load_rows(con, weeks, max_rows=cap)
    assert again.snapshot_id == data.snapshot_id  # deterministic sample, same snapshot id


def test_training_validates_on_the_latest_weeks_and_refits_on_all(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    result = training.train_purchase_model(con, hpo_seconds=0.5, max_trials=1, first_params=FAST)
    weeks = rows.labelled_weeks(con)
    assert result.validation.weeks == weeks[-training.VALIDATION_WEEKS :]
    assert max(result.fit_weeks) < min(result.validation.weeks)
    assert result.training.first_week == weeks[0] and result.training.last_week == weeks[-1]
    assert result.training.frame["label"].notna().all()
    assert 0.0 < result.validation.threshold < 0.5
    assert result.validation.threshold == pytest.approx(result.validation.best_f1 / 2)
    assert 0.0 < result.validation.f1 <= 1.0
    # better than chance: average precision above the positive rate of the validation rows
    assert result.validation.pr_auc > result.validation.scores["label"].mean() * 1.5
    assert len(result.trials) >= 1
    newest = con.execute(f"SELECT {', '.join(FEATURE_COLUMNS)} FROM pair_features WHERE label IS NULL").df()
    probabilities = estimator.predict_probability(result.pipeline, newest)
    assert len(probabilities) == len(newest) and ((probabilities >= 0) & (probabilities <= 1)).all()


def test_training_until_a_week_uses_nothing_after_it(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    weeks = rows.labelled_weeks(con)
    until = weeks[-3]
    result = training.train_purchase_model(con, hpo_seconds=0.1, until=until, max_trials=1, first_params=FAST)
    assert result.training.last_week + timedelta(days=7) <= until
    assert max(result.validation.weeks) + timedelta(days=7) <= until
    assert pd.to_datetime(result.training.frame["week_start"]).max().date() + timedelta(days=7) <= until


def test_training_refuses_too_few_weeks(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    first = rows.labelled_weeks(con)[0]
    with pytest.raises(ValueError, match="labelled weeks"):
        training.train_purchase_model(con, hpo_seconds=0.1, until=first + timedelta(days=21))


def test_row_cap_samples_positives_too_when_they_alone_would_fill_it(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    weeks = rows.labelled_weeks(con)
    total, positives = labelled_rows(con, weeks)
    frame = rows.load_rows(con, weeks, max_rows=positives).frame
    assert frame["label"].sum() == pytest.approx(positives / 2, rel=0.1)
    assert len(frame) == pytest.approx(positives, rel=0.1)
    assert frame["weight"].sum() == pytest.approx(total, rel=0.1)
    assert frame.loc[frame["label"], "weight"].sum() == pytest.approx(positives, rel=0.1)
