"""Prediction batches (appended, ranked, thresholded) and the atomically published serving snapshot."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.target_week import ONE_WEEK
from ovni_assets.model import estimator, lineage, registry, training
from ovni_assets.model.registry import Champion
from ovni_assets.prediction import batch as batches
from ovni_assets.prediction import snapshot

FAST = {**estimator.DEFAULT_PARAMS, "max_iter": 30}  # a quick model: these tests check plumbing


@pytest.fixture
def warehouse_with_champion(small_warehouse):
    con = duckdb.connect(str(small_warehouse))
    result = training.train_purchase_model(con, hpo_seconds=0.1, max_trials=1, first_params=FAST)
    champion = Champion(
        model=result.pipeline,
        version="3",
        run_id="run-3",
        threshold=result.validation.threshold,
        tags={"train_last_week": str(result.training.last_week + ONE_WEEK)},
    )
    lineage.record_training_files(con, result.training.snapshot_id, "3")
    con.execute(f"CREATE TABLE model_versions ({registry.MODEL_VERSIONS_COLUMNS})")
    con.execute(
        "INSERT INTO model_versions (model_version, run_id, threshold, training_snapshot_id, is_champion) "
        "VALUES ('3', 'run-3', ?, ?, true)",
        [champion.threshold, result.training.snapshot_id],
    )
    yield con, champion
    con.close()


def test_batch_scores_every_candidate_of_the_target_week(warehouse_with_champion):
    con, champion = warehouse_with_champion
    newest = con.execute("SELECT max(week_start) FROM pair_features").fetchall()[0][0]
    candidates = con.execute("SELECT count(*) FROM pair_features WHERE week_start = ?", [newest]).fetchall()[
        0
    ][0]
    batch = batches.append_batch(con, champion)
    assert batch.week_start == newest + timedelta(days=7) and batch.feature_week == newest
    assert batch.rows == candidates and batch.model_version == "3"
    rows = con.execute("SELECT * FROM predictions WHERE batch_id = ?", [batch.batch_id]).df()
    assert len(rows) == candidates and rows[["customer_id", "product_id"]].duplicated().sum() == 0
    assert (rows["will_buy"] == (rows["probability"] >= champion.threshold)).all()
    assert 0 < rows["will_buy"].sum() < len(rows)
    for _, group in rows.groupby("customer_id"):
        ordered = group.sort_values("rank")
        assert ordered["rank"].tolist() == list(range(1, len(group) + 1))
        assert ordered["probability"].is_monotonic_decreasing


def test_batches_are_appended_and_latest_shows_the_newest(warehouse_with_champion):
    con, champion = warehouse_with_champion
    first = batches.append_batch(con, champion)
    second = batches.append_batch(con, champion)
    assert first.batch_id != second.batch_id
    counts = dict(con.execute("SELECT batch_id, count(*) FROM predictions GROUP BY 1").fetchall())
    assert counts == {first.batch_id: first.rows, second.batch_id: second.rows}
    latest = con.execute("SELECT DISTINCT batch_id FROM latest_predictions").fetchall()
    assert latest == [(second.batch_id,)]
    assert batches.latest_batch(con)["batch_id"] == second.batch_id


def test_snapshot_has_the_contract_tables_and_lineage(warehouse_with_champion, tmp_path):
    con, champion = warehouse_with_champion
    batch = batches.append_batch(con, champion)
    target = tmp_path / "serving.duckdb"
    info = snapshot.publish_snapshot(con, target)
    assert info.batch_id == batch.batch_id and info.model_version == "3"
    assert not list(tmp_path.glob(".serving.duckdb.*"))  # temp file renamed away

    snap = duckdb.connect(str(target), read_only=True)
    names = {r[0] for r in snap.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {
        "predictions",
        "latest_predictions",
        "next_week_features",
        "customers",
        "products",
        "model_versions",
        "lineage",
        "snapshot_info",
    } <= names
    assert snap.execute("SELECT count(*) FROM snapshot_info").fetchall()[0][0] == 1
    features = snap.execute("SELECT * FROM next_week_features").df()
    assert len(features) == batch.rows
    assert (features["week_start"].dt.date == batch.week_start).all()
    assert set(FEATURE_COLUMNS) <= set(features.columns)
    # prediction row → batch → model version → MLflow run → training snapshot → raw file hashes
    traced = snap.execute(
        """SELECT DISTINCT l.model_version, l.run_id, l.training_snapshot_id, l.file_name, l.file_hash
           FROM (SELECT * FROM latest_predictions LIMIT 1) p JOIN lineage l USING (batch_id)"""
    ).fetchall()
    snap.close()
    files = con.execute("SELECT file_name, file_hash FROM ingested_files").fetchall()
    assert {(r[3], r[4]) for r in traced} == set(files)
    assert {r[:2] for r in traced} == {("3", "run-3")}


def test_a_champion_without_lineage_rows_is_published_with_empty_file_columns(
    warehouse_with_champion, tmp_path
):
    con, champion = warehouse_with_champion
    batch = batches.append_batch(con, champion)
    con.execute("DROP TABLE IF EXISTS training_snapshot_files")
    snapshot.publish_snapshot(con, tmp_path / "serving.duckdb")
    with duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True) as snap:
        rows = snap.execute("SELECT batch_id, file_name FROM lineage").fetchall()
    assert rows == [(batch.batch_id, None)]


def test_a_failed_snapshot_leaves_the_published_one(warehouse_with_champion, tmp_path):
    con, champion = warehouse_with_champion
    batches.append_batch(con, champion)
    target = tmp_path / "serving.duckdb"
    snapshot.publish_snapshot(con, target)
    before = target.read_bytes()
    con.execute("ALTER VIEW pair_features RENAME TO pair_features_gone")
    with pytest.raises(duckdb.Error):
        snapshot.publish_snapshot(con, target)
    assert target.read_bytes() == before
