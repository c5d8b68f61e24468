"""Drift on data from `ovni generate`, through the real ingestion, cleaning and feature build: quiet on
ordinary weeks across seeds, finds `--drift volume@WEEK`."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from ovni_assets.data import cleaning
from ovni_assets.data.ingestion import ingest_landing
from ovni_assets.data.synthetic.config import GeneratorConfig, parse_drift
from ovni_assets.data.synthetic.simulation import season_factors
from ovni_assets.data.synthetic.writer import write_dataset
from ovni_assets.features.pair_features import build_pair_features, build_weekly_purchases
from ovni_assets.monitoring.drift import build_drift_report

WEEKS = 20
CUSTOMERS = 400
HOLIDAY = 0.8  # season factor below which the generator made a holiday week


def drift_report_of(tmp_path, config: GeneratorConfig, champion_gap_weeks: int = 2):
    """Generate, ingest, clean, build features; a champion trained up to `champion_gap_weeks` before the
    newest week; the drift report of the newest week."""
    write_dataset(config, tmp_path / "landing")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_landing(con, tmp_path / "landing", tmp_path / "quarantine")
    cleaning.build_customers(con)
    cleaning.build_products(con)
    cleaning.build_transactions(con)
    build_weekly_purchases(con)
    build_pair_features(con)
    newest = con.execute("SELECT max(week_start) FROM pair_features").fetchone()[0]
    con.execute(
        "CREATE TABLE model_versions AS SELECT '1' AS model_version, now() AS trained_at, "
        "?::DATE AS train_last_week, true AS is_champion",
        [newest - timedelta(days=7 * champion_gap_weeks)],
    )
    return build_drift_report(con)


@pytest.mark.slow
def test_quiet_on_ordinary_weeks_across_seeds(tmp_path):
    ordinary_seeds = [
        seed
        for seed in range(8)
        if season_factors(GeneratorConfig(customers=CUSTOMERS, weeks=WEEKS, seed=seed))[-1] >= HOLIDAY
    ]
    assert len(ordinary_seeds) >= 6
    alarms = {}
    for seed in ordinary_seeds[:6]:
        config = GeneratorConfig(customers=CUSTOMERS, weeks=WEEKS, seed=seed)
        report = drift_report_of(tmp_path / f"seed{seed}", config)
        assert report.baseline_replays >= 6 and len(report.features) > 20
        if report.drifted_features:
            alarms[seed] = list(report.features.loc[report.features["drifted"], "feature"])
    assert len(alarms) <= 1, alarms


@pytest.mark.slow
def test_finds_an_injected_volume_drift(tmp_path):
    found = {}
    for seed in range(4):
        config = GeneratorConfig(
            customers=CUSTOMERS, weeks=WEEKS, seed=seed, drifts=(parse_drift(f"volume@{WEEKS - 2}"),)
        )
        report = drift_report_of(tmp_path / f"seed{seed}", config)
        found[seed] = report.drifted_features
    assert sum(count > 0 for count in found.values()) >= 3, found
