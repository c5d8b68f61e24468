"""Capped validation rows (large data): weighted counts estimate the full weeks' metrics."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from ovni_assets.model import estimator, metrics, rows

FAST = {**estimator.DEFAULT_PARAMS, "max_iter": 30}


def test_weighted_counts_scale_sampled_rows_back():
    weeks = pd.Series([date(2024, 1, 1)] * 3)
    labels = np.array([True, False, True])
    predicted = np.array([True, True, False])
    counts = metrics.weekly_counts(weeks, labels, predicted, {weeks[0]: 10}, np.array([1.0, 4.0, 1.0]))
    assert (counts.loc[0, "tp"], counts.loc[0, "predicted"], counts.loc[0, "actual"]) == (1.0, 5.0, 10)


def test_validation_on_a_sample_estimates_the_full_validation(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    weeks = rows.labelled_weeks(con)
    fit_weeks, val_weeks = weeks[:-4], weeks[-4:]
    fit = rows.load_rows(con, fit_weeks).frame
    model = estimator.build_pipeline(FAST).fit(estimator.model_input(fit), fit["label"].to_numpy())
    actual = rows.actual_purchases(con, val_weeks)

    full = rows.load_rows(con, val_weeks).frame
    total, positives = len(full), int(full["label"].sum())
    sample = rows.load_rows(con, val_weeks, max_rows=positives + (total - positives) // 3).frame
    assert len(sample) < 0.5 * total and (sample["weight"] > 1).any()

    exact = metrics.validate(model, full, actual)
    estimate = metrics.validate(model, sample, actual)
    assert estimate.best_f1 == pytest.approx(exact.best_f1, abs=0.03)
    assert estimate.threshold == pytest.approx(exact.threshold, abs=0.02)
    same_threshold = metrics.validate(model, sample, actual, threshold=exact.threshold)
    assert same_threshold.f1 == pytest.approx(exact.f1, abs=0.03)
    assert same_threshold.weekly["predicted"].sum() == pytest.approx(exact.weekly["predicted"].sum(), rel=0.1)
    # unweighted (as if the sample were the whole weeks) the predicted count would be far too low
    unweighted = metrics.validate(model, sample.assign(weight=1.0), actual, threshold=exact.threshold)
    assert unweighted.weekly["predicted"].sum() < 0.8 * exact.weekly["predicted"].sum()
