"""Asset checks of pair_features, predictions and purchase_model on a small real warehouse: each passes on
good data and fails on the bad data it exists to catch."""

from __future__ import annotations

import duckdb
import pytest

from ovni_assets.defs import checks
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.model.registry import MODEL_VERSIONS_COLUMNS
from ovni_assets.prediction.batch import PREDICTION_BATCHES_DDL, PREDICTIONS_DDL

THRESHOLD = 0.3


@pytest.fixture
def warehouse(small_warehouse) -> WarehouseResource:
    return WarehouseResource(
        database=str(small_warehouse),
        lock_path=str(small_warehouse) + ".lock",
        memory_limit="1GB",
        temp_directory=str(small_warehouse.parent / "duckdb_tmp"),
    )


def run(check, warehouse: WarehouseResource):
    result = check(warehouse=warehouse)
    return result.passed, {k: getattr(v, "value", v) for k, v in result.metadata.items()}


def sql(warehouse: WarehouseResource, statement: str) -> None:
    with duckdb.connect(warehouse.database) as con:
        con.execute(statement)


def newest_week(warehouse: WarehouseResource):
    with duckdb.connect(warehouse.database) as con:
        return con.execute("SELECT max(week_start) FROM pair_features").fetchone()[0]


def an_active_customer(warehouse: WarehouseResource) -> int:
    with duckdb.connect(warehouse.database) as con:
        return con.execute(
            "SELECT min(customer_id) FROM transactions WHERE week_start = (SELECT max(week_start) "
            "FROM transactions)"
        ).fetchone()[0]


def test_pair_features_checks_pass_on_built_features(warehouse):
    passed, metadata = run(checks.pair_features_cover_active_customers, warehouse)
    assert passed and metadata["active_customers"] > 0
    assert metadata["active_customers_without_candidates"] == 0
    passed, metadata = run(checks.pair_features_present, warehouse)
    assert passed and metadata["rows"] > 0 and metadata["null_features"] == {}


def test_an_active_customer_without_candidates_fails_coverage(warehouse):
    customer = an_active_customer(warehouse)
    sql(
        warehouse,
        f"DELETE FROM pair_feature_rows WHERE customer_id = {customer} "
        f"AND week_start = DATE '{newest_week(warehouse)}'",
    )
    passed, metadata = run(checks.pair_features_cover_active_customers, warehouse)
    assert not passed and metadata["active_customers_without_candidates"] == 1


def test_a_null_where_a_feature_is_defined_fails(warehouse):
    week = newest_week(warehouse)
    sql(
        warehouse,
        f"UPDATE pair_feature_rows SET pair_share_w8 = NULL WHERE week_start = DATE '{week}' "
        "AND customer_id = (SELECT min(customer_id) FROM pair_feature_rows)",
    )
    passed, metadata = run(checks.pair_features_present, warehouse)
    assert not passed and set(metadata["null_features"]) == {"pair_share_w8"}


def test_days_since_last_may_be_null_only_for_never_bought_pairs(warehouse):
    week = newest_week(warehouse)
    sql(
        warehouse,
        f"UPDATE pair_feature_rows SET days_since_last = NULL WHERE week_start = DATE '{week}' "
        "AND NOT is_discovery AND product_id = (SELECT min(product_id) FROM pair_feature_rows "
        f"WHERE week_start = DATE '{week}' AND NOT is_discovery)",
    )
    passed, metadata = run(checks.pair_features_present, warehouse)
    assert not passed and list(metadata["null_features"]) == ["days_since_last"]


def write_batch(warehouse: WarehouseResource) -> None:
    """A prediction batch over every candidate of the newest feature week (probability = pair_share_w8)."""
    week = newest_week(warehouse)
    with duckdb.connect(warehouse.database) as con:
        con.execute(PREDICTIONS_DDL)
        con.execute(PREDICTION_BATCHES_DDL)
        con.execute(
            f"""INSERT INTO predictions SELECT target_week_start, customer_id, product_id,
                    pair_share_w8 AS p, pair_share_w8 >= {THRESHOLD}, 1, '1', 'b1', now()::TIMESTAMP
                FROM pair_features WHERE week_start = DATE '{week}'"""
        )
        con.execute(
            f"INSERT INTO prediction_batches SELECT 'b1', DATE '{week}' + 7, DATE '{week}', '1', 'r', "
            f"{THRESHOLD}, count(*), count(*) FILTER (WHERE will_buy), now()::TIMESTAMP FROM predictions"
        )


def test_prediction_checks_pass_on_a_whole_batch_and_fail_without_one(warehouse):
    passed, metadata = run(checks.predictions_probabilities_valid, warehouse)
    assert not passed and metadata["reason"] == "no prediction batch"
    write_batch(warehouse)
    passed, metadata = run(checks.predictions_probabilities_valid, warehouse)
    assert passed and metadata["probabilities_outside_0_1"] == 0 and metadata["rows"] > 0
    passed, metadata = run(checks.predictions_cover_active_customers, warehouse)
    assert passed and metadata["active_customers_without_predictions"] == 0


def test_a_probability_outside_0_1_or_off_threshold_fails(warehouse):
    write_batch(warehouse)
    sql(warehouse, "UPDATE predictions SET probability = 1.5, will_buy = true WHERE rowid = 0")
    sql(warehouse, "UPDATE predictions SET will_buy = NOT will_buy WHERE rowid = 1")
    passed, metadata = run(checks.predictions_probabilities_valid, warehouse)
    assert not passed
    assert metadata["probabilities_outside_0_1"] == 1 and metadata["max_probability"] == 1.5
    assert metadata["will_buy_not_matching_threshold"] == 1


def test_an_active_customer_missing_from_the_batch_fails(warehouse):
    write_batch(warehouse)
    sql(warehouse, f"DELETE FROM predictions WHERE customer_id = {an_active_customer(warehouse)}")
    passed, metadata = run(checks.predictions_cover_active_customers, warehouse)
    assert not passed and metadata["active_customers_without_predictions"] == 1


def register_version(warehouse: WarehouseResource, version: str, val_f1: float) -> list:
    """A `model_versions` row validated on the two newest labelled weeks; returns those weeks."""
    with duckdb.connect(warehouse.database) as con:
        weeks = [
            w
            for (w,) in con.execute(
                "SELECT DISTINCT week_start FROM pair_features WHERE label IS NOT NULL "
                "ORDER BY 1 DESC LIMIT 2"
            ).fetchall()
        ]
        con.execute(f"CREATE TABLE IF NOT EXISTS model_versions ({MODEL_VERSIONS_COLUMNS})")
        con.execute(
            "INSERT INTO model_versions (model_version, val_f1, val_weeks) VALUES (?, ?, ?)",
            [version, val_f1, ",".join(str(w) for w in sorted(weeks))],
        )
    return sorted(weeks)


def test_the_model_check_compares_the_newest_version_with_the_rule(warehouse):
    passed, metadata = run(checks.purchase_model_beats_the_rule, warehouse)
    assert not passed and metadata["reason"] == "no registered model version"

    weeks = register_version(warehouse, "9", 0.99)
    with duckdb.connect(warehouse.database) as con:
        rule = checks.rule_f1(con, weeks)
    assert set(rule) == set(weeks) and all(0 < f1 < 1 for f1 in rule.values())
    passed, metadata = run(checks.purchase_model_beats_the_rule, warehouse)
    assert passed and metadata["model_version"] == "9"
    assert metadata["rule_f1"] == pytest.approx(sum(rule.values()) / len(rule))

    # version 10 sorts after 9 as a number, and validated worse than the rule
    register_version(warehouse, "10", 0.01)
    passed, metadata = run(checks.purchase_model_beats_the_rule, warehouse)
    assert not passed and metadata["model_version"] == "10" and metadata["margin"] < 0
