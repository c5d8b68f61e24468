"""Drift statistics: detect a real shift, stay quiet on unshifted data, ignore trivial shifts in big data."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from ovni_assets.monitoring.drift_statistics import (
    ALPHA,
    DRIFT_COLUMNS,
    PSI_THRESHOLD,
    feature_drift,
    population_stability,
)

NUMERIC = ["weeks_since_last", "units_w4", "bought_w1", "mean_gap_weeks"]
CATEGORICAL = ["category", "is_discovery"]
CATEGORY_SHARES = [0.4, 0.3, 0.2, 0.1]


def feature_frame(rows: int, rng: np.random.Generator, units_shift=0.0, category_shares=None) -> pd.DataFrame:
    """Feature-like columns: skewed counts, a continuous value, a 0/1 flag, a column with NULLs, a
    categorical and a boolean."""
    return pd.DataFrame(
        {
            "weeks_since_last": rng.exponential(3.0, rows).round(),
            "units_w4": rng.normal(10.0 + units_shift, 2.0, rows),
            "bought_w1": rng.binomial(1, 0.3, rows),
            "mean_gap_weeks": np.where(rng.random(rows) < 0.2, np.nan, rng.poisson(2.0, rows)),
            "category": rng.choice(
                ["AGUA", "GASEOSA", "JUGO", "TE"], rows, p=category_shares or CATEGORY_SHARES
            ),
            "is_discovery": rng.random(rows) < 0.1,
        }
    )


def drift_of(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("reference_rows", reference)
    con.register("current_rows", current)
    return feature_drift(con, "reference_rows", "current_rows", NUMERIC, CATEGORICAL).set_index("feature")


def test_quiet_on_unshifted_data_across_seeds():
    flagged_runs = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        result = drift_of(feature_frame(4000, rng), feature_frame(800, rng))
        if result["drifted"].any():
            flagged_runs.append((seed, list(result.index[result["drifted"]])))
    assert len(flagged_runs) <= 1, flagged_runs


def test_detects_injected_shift_in_exactly_the_shifted_features():
    rng = np.random.default_rng(3)
    reference = feature_frame(4000, rng)
    current = feature_frame(800, rng, units_shift=2.0, category_shares=[0.1, 0.2, 0.3, 0.4])
    result = drift_of(reference, current)
    assert set(result.index[result["drifted"]]) == {"units_w4", "category"}
    assert result.loc["units_w4", "kind"] == "numeric"
    assert result.loc["category", "kind"] == "categorical"
    assert result.loc["units_w4", "psi"] >= PSI_THRESHOLD
    assert result.loc["units_w4", "p_adjusted"] < ALPHA
    assert list(result.reset_index().columns) == DRIFT_COLUMNS


def test_big_samples_do_not_flag_a_trivial_shift():
    """With 150k rows a side the KS test calls a 0.05 sd shift significant; the PSI floor does not."""
    rng = np.random.default_rng(5)
    result = drift_of(feature_frame(150_000, rng), feature_frame(150_000, rng, units_shift=0.1))
    assert result.loc["units_w4", "p_adjusted"] < ALPHA
    assert result.loc["units_w4", "psi"] < PSI_THRESHOLD
    assert not result["drifted"].any()


def test_adjusted_p_values_are_benjamini_hochberg():
    rng = np.random.default_rng(8)
    result = drift_of(feature_frame(2000, rng), feature_frame(500, rng, units_shift=0.5))
    p = result["p_value"].sort_values()
    m = len(p)
    expected = np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1].clip(upper=1)
    assert np.allclose(result.loc[p.index, "p_adjusted"], expected)
    assert (result["p_adjusted"] >= result["p_value"]).all()


def test_psi_by_hand_on_two_categories_and_missing_values():
    con = duckdb.connect()
    con.register("reference_rows", pd.DataFrame({"kind": ["a"] * 50 + ["b"] * 50}))
    con.register("current_rows", pd.DataFrame({"kind": ["a"] * 60 + ["b"] * 20 + [None] * 20}))
    psi = population_stability(con, "reference_rows", "current_rows", [], ["kind"])["kind"]
    # shares smoothed by half a row per bin; three bins (a, b, missing)
    reference = np.array([50.5, 50.5, 0.5]) / 101.5
    current = np.array([60.5, 20.5, 20.5]) / 101.5
    assert psi == pytest.approx(float(np.sum((current - reference) * np.log(current / reference))))


def test_numeric_psi_merges_tied_quantile_bins():
    """A 0/1 feature has two bins, not ten: equal shares give PSI 0, a flip gives a large PSI."""
    con = duckdb.connect()
    con.register("reference_rows", pd.DataFrame({"flag": [0] * 700 + [1] * 300}))
    con.register("same_rows", pd.DataFrame({"flag": [0] * 70 + [1] * 30}))
    con.register("flipped_rows", pd.DataFrame({"flag": [0] * 30 + [1] * 70}))
    assert population_stability(con, "reference_rows", "same_rows", ["flag"], [])["flag"] == pytest.approx(
        0.0, abs=1e-3
    )
    assert population_stability(con, "reference_rows", "flipped_rows", ["flag"], [])["flag"] > 0.5
