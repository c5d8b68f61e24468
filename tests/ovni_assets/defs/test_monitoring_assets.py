"""The monitoring assets materialized with `dg.materialize` over a small real warehouse."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from ovni_assets.defs.assets.monitoring_assets import drift_report, prediction_quality
from ovni_assets.defs.resources import resources_for
from ovni_assets.monitoring.triggers import decide_retrain, retrain_facts_from_instance

WEEKS = [date(2024, 7, 1) + timedelta(days=7 * i) for i in range(8)]


def build_warehouse(path, shift_newest_week: bool):
    rng = np.random.default_rng(0)
    frames = []
    for week in WEEKS:
        shifted = shift_newest_week and week == WEEKS[-1]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": np.arange(500),
                    "product_id": rng.integers(1, 30, 500),
                    "week_start": week,
                    "bought_w4": rng.poisson(3.0 if shifted else 1.0, 500),
                    "segment": rng.choice(["A", "B"], 500, p=[0.2, 0.8] if shifted else [0.6, 0.4]),
                    "target_week_start": week + timedelta(days=7),
                    "label": rng.binomial(1, 0.3, 500),
                }
            )
        )
    con = duckdb.connect(str(path))
    con.register("frame", pd.concat(frames))
    con.execute("CREATE TABLE pair_features AS SELECT * FROM frame")
    con.execute(
        "CREATE TABLE model_versions AS SELECT '4' AS model_version, TIMESTAMP '2024-08-10' AS trained_at, "
        f"DATE '{WEEKS[-2]}' AS train_last_week, 0.62 AS val_f1, true AS is_champion"
    )
    con.execute(
        "CREATE TABLE transactions AS SELECT * FROM "
        "(VALUES (1, 10, DATE '2024-08-12'), (2, 20, DATE '2024-08-12')) "
        "AS t(customer_id, product_id, week_start)"
    )
    con.execute(
        "CREATE TABLE predictions AS SELECT * FROM (VALUES "
        "(DATE '2024-08-12', 1, 10, 0.9, true, 1, '4', 'b1', TIMESTAMP '2024-08-11 10:00:00'), "
        "(DATE '2024-08-12', 3, 30, 0.8, true, 1, '4', 'b1', TIMESTAMP '2024-08-11 10:00:00'), "
        "(DATE '2024-08-19', 1, 10, 0.9, true, 1, '4', 'b2', TIMESTAMP '2024-08-18 10:00:00')) "
        "AS t(week_start, customer_id, product_id, probability, will_buy, rank, model_version, batch_id, "
        "created_at)"
    )
    con.close()


def materialize(settings, instance, run_config: dict | None = None):
    result = dg.materialize(
        [drift_report, prediction_quality],
        instance=instance,
        resources=resources_for(settings),
        run_config=run_config,
    )
    assert result.success
    return {
        key.path[-1]: {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
        for key in [event.asset_key]
    }


def test_drift_and_quality_metadata_feed_the_retrain_decision(ovni_home):
    build_warehouse(ovni_home.warehouse_path, shift_newest_week=True)
    with dg.instance_for_test() as instance:
        metadata = materialize(ovni_home, instance)
        facts = retrain_facts_from_instance(instance, champion=None)
        about_champion = retrain_facts_from_instance(instance, champion="4")

    drift = metadata["drift_report"]
    assert drift["status"] == "compared" and "skip_reason" not in drift
    assert drift["drifted_features"] == 2 and drift["max_psi"] >= 0.2
    assert drift["week_start"] == str(WEEKS[-1]) and drift["reference_model_version"] == "4"
    assert drift["reference_weeks"] == ", ".join(str(w) for w in WEEKS[-5:-1])
    assert "| bought_w4" in drift["report"] and "**yes**" in drift["report"]

    quality = metadata["prediction_quality"]
    assert quality["batches_scored"] == 1  # the 2024-08-19 batch waits for its week
    assert quality["latest_f1"] == 0.5 and quality["latest_model_version"] == "4"
    assert quality["latest_model_val_f1"] == 0.62 and quality["champion_val_f1"] == 0.62
    assert quality["dagster/row_count"] == 1

    # no champion in the registry: the decision is "train a first model"
    assert not facts.has_champion and decide_retrain(facts).reason.startswith("no champion")
    # with champion v4 (never trained in this instance) the reports about it are the evidence
    assert about_champion.drifted_features == 2 and about_champion.realized_f1 == 0.5
    assert decide_retrain(about_champion).reason.startswith("drift")


def test_the_drift_rules_are_the_assets_config(ovni_home):
    """The same shift, judged with a PSI threshold no feature reaches: nothing drifts, and the rows say so."""
    build_warehouse(ovni_home.warehouse_path, shift_newest_week=True)
    strict = {"ops": {"drift_report": {"config": {"psi_threshold": 50.0}}}}
    with dg.instance_for_test() as instance:
        drift = materialize(ovni_home, instance, run_config=strict)["drift_report"]
    assert drift["status"] == "compared" and drift["drifted_features"] == 0 and drift["max_psi"] >= 0.2
    assert "PSI ≥ 50.0" in drift["rules"]
    con = duckdb.connect(str(ovni_home.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FILTER (WHERE drifted) FROM drift_reports").fetchone()[0] == 0
    # every row records the rules its report applied, for the API and the page to explain it
    rules = con.execute("SELECT DISTINCT psi_threshold, alpha, baseline_factor FROM drift_reports").fetchall()
    assert rules == [(50.0, 0.01, 2.0)]
    con.close()


def test_without_champion_and_predictions_the_assets_report_instead_of_failing(ovni_home):
    con = duckdb.connect(str(ovni_home.warehouse_path))
    con.execute(
        "CREATE TABLE pair_features AS SELECT 1 AS customer_id, 2 AS product_id, DATE '2024-01-01' "
        "AS week_start, 3 AS bought_w4"
    )
    con.close()
    with dg.instance_for_test() as instance:
        metadata = materialize(ovni_home, instance)
    drift = metadata["drift_report"]
    assert drift["status"] == "skipped" and drift["drifted_features"] == 0
    assert drift["skip_reason"].startswith("No champion yet")
    assert "**Skipped.** No champion yet" in drift["report"]
    # no blank numbers standing for a comparison that did not happen
    assert not {"max_psi", "week_start", "reference_model_version", "report_id"} & set(drift)
    assert metadata["prediction_quality"]["batches_scored"] == 0
    assert metadata["prediction_quality"]["dagster/row_count"] == 0
    con = duckdb.connect(str(ovni_home.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM drift_reports").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM prediction_quality").fetchone()[0] == 0
