"""Drift report: the newest feature week against the champion's training weeks, sampled and stored."""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from ovni_assets.monitoring import drift
from ovni_assets.monitoring.drift import REFERENCE_WEEKS, build_drift_report, feature_columns
from ovni_assets.monitoring.drift_statistics import BASELINE_FACTOR, PSI_THRESHOLD
from tests.ovni_assets.monitoring.test_drift_statistics import CATEGORICAL, NUMERIC, feature_frame


def write_pair_features(con, weeks: list[date], shifted_week: date | None, rows_per_week=600, seed=1):
    rng = np.random.default_rng(seed)
    frames = []
    for week in weeks:
        shifted = week == shifted_week
        frame = feature_frame(
            rows_per_week,
            rng,
            units_shift=3.0 if shifted else 0.0,
            category_shares=[0.05, 0.15, 0.3, 0.5] if shifted else None,
        )
        frame.insert(0, "customer_id", np.arange(rows_per_week))
        frame.insert(1, "product_id", rng.integers(1, 50, rows_per_week))
        frame.insert(2, "week_start", week)
        frame["target_week_start"] = week + timedelta(days=7)
        frame["label"] = rng.binomial(1, 0.3, rows_per_week)
        frames.append(frame)
    con.register("features_frame", pd.concat(frames, ignore_index=True))
    con.execute("CREATE TABLE pair_features AS SELECT * FROM features_frame")
    con.unregister("features_frame")


def write_model_versions(con, champion: str, train_last_week: date):
    con.execute(
        "CREATE TABLE model_versions AS SELECT * FROM (VALUES "
        "('1', TIMESTAMP '2024-01-01', DATE '2024-02-05', false), "
        "(?, TIMESTAMP '2024-03-01', ?, true)) AS t(model_version, trained_at, train_last_week, is_champion)",
        [champion, train_last_week],
    )


WEEKS = [date(2024, 1, 1) + timedelta(days=7 * i) for i in range(10)]


def test_report_without_champion_says_so_and_leaves_an_empty_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_pair_features(con, WEEKS, shifted_week=None)
    report = build_drift_report(con)
    assert "No champion" in report.note
    assert report.drifted_features == 0 and report.max_psi == 0.0
    assert report.markdown().startswith("_No champion")
    columns = [c for c, *_ in con.execute("DESCRIBE drift_reports").fetchall()]
    assert columns == [
        "report_id", "week_start", "reference_model_version", "feature", "kind", "psi", "baseline_psi",
        "statistic", "p_value", "p_adjusted", "drifted", "created_at",
        "psi_threshold", "alpha", "baseline_factor",
    ]  # fmt: skip
    assert con.execute("SELECT count(*) FROM drift_reports").fetchone()[0] == 0


def test_report_compares_newest_week_with_champion_training_weeks(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_pair_features(con, WEEKS, shifted_week=WEEKS[-1])
    write_model_versions(con, champion="2", train_last_week=WEEKS[-3])
    report = build_drift_report(con)

    assert report.week_start == WEEKS[-1]
    assert report.reference_model_version == "2"
    assert report.reference_weeks == WEEKS[-3 - REFERENCE_WEEKS + 1 : -2]
    assert report.reference_rows == 600 * REFERENCE_WEEKS and report.current_rows == 600
    drifted = set(report.features.loc[report.features["drifted"], "feature"])
    assert drifted == {"units_w4", "category"}
    assert report.drifted_features == 2 and report.max_psi >= PSI_THRESHOLD
    assert "| units_w4" in report.markdown() and "**yes**" in report.markdown()

    stored = con.execute(
        "SELECT report_id, week_start, reference_model_version, count(*), count(*) FILTER (WHERE drifted) "
        "FROM drift_reports GROUP BY ALL"
    ).fetchall()
    assert stored == [(report.report_id, WEEKS[-1], "2", len(NUMERIC) + len(CATEGORICAL), 2)]
    # keys and label are not features; text and boolean columns are categorical
    assert feature_columns(con) == (NUMERIC, CATEGORICAL)
    assert not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'drift_%' AND table_name <> "
        "'drift_reports'"
    ).fetchone()[0]


def test_large_weeks_are_sampled_uniformly_in_proportion_and_repeatably(tmp_path, monkeypatch):
    """Above `SAMPLE_ROWS` rows a side is a hash sample of about that size, drawn from each week in
    proportion to its rows, the same rows on every run; the shift is still found."""
    monkeypatch.setattr(drift, "SAMPLE_ROWS", 1000)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_pair_features(con, WEEKS, shifted_week=WEEKS[-1], rows_per_week=3000)
    con.execute("DELETE FROM pair_features WHERE week_start = ? AND customer_id >= 1000", [WEEKS[-4]])
    write_model_versions(con, champion="2", train_last_week=WEEKS[-2])
    week_rows = drift._week_rows(con, WEEKS[0], WEEKS[-1])
    assert week_rows[WEEKS[-4]] == 1000 and week_rows[WEEKS[-1]] == 3000

    drift._sample_weeks(con, "reference_sample", ["units_w4"], WEEKS[-5], WEEKS[-2], week_rows)
    per_week = dict(con.execute("SELECT week_start, count(*) FROM reference_sample GROUP BY 1").fetchall())
    assert set(per_week) == set(WEEKS[-5:-1]) and 850 <= sum(per_week.values()) <= 1150
    assert 50 <= per_week[WEEKS[-4]] <= 160  # 1,000 of the 10,000 rows: a tenth of the sample
    for week in (WEEKS[-5], WEEKS[-3], WEEKS[-2]):
        assert 200 <= per_week[week] <= 400
    again = drift._sample_weeks(con, "reference_again", ["units_w4"], WEEKS[-5], WEEKS[-2], week_rows)
    assert again == sum(per_week.values())
    assert not con.execute(
        "SELECT count(*) FROM (SELECT * FROM reference_sample EXCEPT ALL SELECT * FROM reference_again)"
    ).fetchone()[0]

    report = build_drift_report(con)
    assert 850 <= report.current_rows <= 1150 and 850 <= report.reference_rows <= 1150
    assert set(report.features.loc[report.features["drifted"], "feature"]) == {"units_w4", "category"}


def test_report_on_unshifted_newest_week_flags_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_pair_features(con, WEEKS, shifted_week=None)
    write_model_versions(con, champion="2", train_last_week=WEEKS[-2])
    report = build_drift_report(con)
    assert report.drifted_features == 0
    assert not math.isnan(report.max_psi) and report.max_psi < PSI_THRESHOLD
    assert con.execute("SELECT count(*) FROM drift_reports").fetchone()[0] == len(NUMERIC) + len(CATEGORICAL)


def test_features_that_move_every_week_are_judged_against_their_own_ordinary_movement(tmp_path):
    """A product-level aggregate takes one value per product and week, so whole weeks move together: large
    PSI week after week. Only a movement beyond that baseline is drift; a steady feature shifting is."""
    rng = np.random.default_rng(11)
    frames = []
    for week in WEEKS:
        products = rng.integers(0, 40, 800)
        product_level = rng.normal(0, 1, 40) + rng.normal(0, 1.5)  # the whole week moves
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(800),
                    "product_id": products,
                    "week_start": week,
                    "prod_customers_w1": product_level[products],
                    "units_w4": rng.normal(10.0 + (3.0 if week == WEEKS[-1] else 0.0), 2.0, 800),
                    "target_week_start": week + timedelta(days=7),
                    "label": rng.binomial(1, 0.3, 800),
                }
            )
        )
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.register("frame", pd.concat(frames, ignore_index=True))
    con.execute("CREATE TABLE pair_features AS SELECT * FROM frame")
    write_model_versions(con, champion="2", train_last_week=WEEKS[-3])

    report = build_drift_report(con)
    features = report.features.set_index("feature")
    assert report.baseline_replays == 6  # replays stop where the reference weeks run out
    assert features.loc["prod_customers_w1", "psi"] >= PSI_THRESHOLD  # the naive rule would flag it
    assert features.loc["prod_customers_w1", "baseline_psi"] >= PSI_THRESHOLD
    assert not features.loc["prod_customers_w1", "drifted"]
    assert features.loc["units_w4", "drifted"]
    assert features.loc["units_w4", "psi"] >= BASELINE_FACTOR * features.loc["units_w4", "baseline_psi"]


def test_a_drift_reports_table_from_before_the_rules_were_recorded_gets_their_columns():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE drift_reports (report_id VARCHAR, week_start DATE, reference_model_version VARCHAR, "
        "feature VARCHAR, kind VARCHAR, psi DOUBLE, baseline_psi DOUBLE, statistic DOUBLE, p_value DOUBLE, "
        "p_adjusted DOUBLE, drifted BOOLEAN, created_at TIMESTAMP)"
    )
    con.execute("INSERT INTO drift_reports (report_id, feature, psi) VALUES ('old', 'units_w4', 0.3)")
    build_drift_report(con)
    rows = con.execute(
        "SELECT report_id, psi, psi_threshold, alpha, baseline_factor FROM drift_reports"
    ).fetchall()
    assert rows == [("old", 0.3, None, None, None)]  # kept, with no rules it never recorded
