"""Realized quality: a hand-made batch with known precision and recall, scored once its week has landed."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from ovni_assets.monitoring.quality import recent_quality, score_prediction_batches

W1, W2, W3 = date(2024, 9, 2), date(2024, 9, 9), date(2024, 9, 16)


def make_warehouse(path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE transactions (customer_id BIGINT, product_id BIGINT, order_id BIGINT, "
        "purchase_date DATE, week_start DATE, items DOUBLE)"
    )
    con.execute(
        "CREATE TABLE predictions (week_start DATE, customer_id BIGINT, product_id BIGINT, "
        "probability DOUBLE, will_buy BOOLEAN, rank INTEGER, model_version VARCHAR, batch_id VARCHAR, "
        "created_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE model_versions (model_version VARCHAR, val_f1 DOUBLE, is_champion BOOLEAN, "
        "trained_at TIMESTAMP)"
    )
    con.execute("INSERT INTO model_versions VALUES ('1', 0.61, false, NULL), ('2', 0.64, true, NULL)")
    return con


def add_purchases(con, week: date, pairs: list[tuple[int, int]]):
    for order, (customer, product) in enumerate(pairs):
        con.execute(
            "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, 1.0)", [customer, product, order, week, week]
        )


def add_batch(con, batch_id, version, week, scored: dict[tuple[int, int], bool], created_at):
    for (customer, product), will_buy in scored.items():
        con.execute(
            "INSERT INTO predictions VALUES (?, ?, ?, 0.5, ?, 1, ?, ?, ?)",
            [week, customer, product, will_buy, version, batch_id, created_at],
        )


def test_nothing_to_score_gives_an_empty_table_with_the_right_columns(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    report = score_prediction_batches(con)
    assert report.batches_scored == 0 and report.latest_f1 is None
    assert "Nothing to score" in report.note
    columns = [c for c, *_ in con.execute("DESCRIBE prediction_quality").fetchall()]
    assert columns == [
        "week_start", "batch_id", "model_version", "precision", "recall", "f1", "n_predicted", "n_actual",
        "true_positives", "batch_created_at", "scored_at",
    ]  # fmt: skip


def test_batch_is_scored_against_every_real_purchase_once_its_week_lands(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    add_purchases(con, W1, [(1, 10), (2, 20)])
    # batch for W2: will_buy on 4 pairs (2 right), one pair scored but not predicted; 3 real purchases,
    # one of them (3, 30) a pair the model never scored, one bought twice in the week.
    add_batch(
        con,
        "b-w2",
        "2",
        W2,
        {(1, 10): True, (2, 20): True, (4, 40): True, (5, 50): True, (6, 60): False},
        datetime(2024, 9, 8, 12),
    )
    add_batch(con, "b-w3", "2", W3, {(1, 10): True}, datetime(2024, 9, 15, 12))

    before = score_prediction_batches(con)
    assert before.batches_scored == 0 and before.latest_f1 is None  # W2 has not landed yet

    add_purchases(con, W2, [(1, 10), (1, 10), (2, 20), (3, 30), (6, 61)])
    report = score_prediction_batches(con, scored_at=datetime(2024, 9, 16, 6))
    assert report.batches_scored == 1  # W3 is still in the future
    row = con.execute(
        "SELECT week_start, batch_id, model_version, precision, recall, f1, n_predicted, n_actual, "
        "true_positives FROM prediction_quality"
    ).fetchone()
    assert row[:3] == (W2, "b-w2", "2")
    assert row[3] == pytest.approx(2 / 4)
    assert row[4] == pytest.approx(2 / 4)  # actual pairs: (1,10) (2,20) (3,30) (6,61)
    assert row[5] == pytest.approx(2 * 2 / (4 + 4))
    assert row[6:] == (4, 4, 2)
    assert report.latest_week_start == W2 and report.latest_batch_id == "b-w2"
    assert report.latest_f1 == pytest.approx(0.5)
    assert report.latest_model_version == "2" and report.latest_model_val_f1 == pytest.approx(0.64)
    assert report.champion_version == "2" and report.champion_val_f1 == pytest.approx(0.64)

    again = score_prediction_batches(con)
    assert again.batches_scored == 0 and again.scored_total == 1


def test_every_batch_of_a_week_is_scored_and_the_newest_batch_is_latest(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    add_batch(con, "old", "1", W1, {(1, 10): True, (2, 20): True}, datetime(2024, 8, 30))
    add_batch(con, "new", "2", W1, {(1, 10): True, (2, 20): False}, datetime(2024, 9, 1))
    add_batch(con, "silent", "2", W1, {(1, 10): False}, datetime(2024, 8, 31))
    add_purchases(con, W1, [(1, 10)])
    report = score_prediction_batches(con)
    assert report.batches_scored == 3
    scores = {
        batch: (precision, recall, f1)
        for batch, precision, recall, f1 in con.execute(
            "SELECT batch_id, precision, recall, f1 FROM prediction_quality"
        ).fetchall()
    }
    assert scores["old"] == (0.5, 1.0, pytest.approx(2 / 3))
    assert scores["new"] == (1.0, 1.0, 1.0)
    assert scores["silent"] == (None, 0.0, 0.0)  # nothing predicted: precision undefined
    assert report.latest_batch_id == "new" and report.latest_model_val_f1 == pytest.approx(0.64)
    assert list(recent_quality(con)["batch_id"]) == ["new", "silent", "old"]
