"""An export that ends mid-week: that week is predicted, from the week before it, and published as such."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pytest

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.target_week import read_target_week
from ovni_assets.model import estimator, lineage, registry, rows, training
from ovni_assets.model.registry import Champion
from ovni_assets.prediction import batch as batches
from ovni_assets.prediction import snapshot

WEDNESDAY = date(2024, 4, 3)  # the small data's newest week is 2024-04-01 .. 04-07
IN_PROGRESS, NEWEST_COMPLETE = date(2024, 4, 1), date(2024, 3, 25)
FAST = {**estimator.DEFAULT_PARAMS, "max_iter": 30}


@pytest.fixture
def mid_week(mid_week_warehouse):
    con = duckdb.connect(str(mid_week_warehouse))
    yield con
    con.close()


def test_the_week_in_progress_is_predicted_from_the_newest_complete_week(mid_week, tmp_path):
    con = mid_week
    target = read_target_week(con)
    assert (target.target_week, target.feature_week, target.data_through) == (
        IN_PROGRESS,
        NEWEST_COMPLETE,
        WEDNESDAY,
    )
    assert target.in_progress and 0 < target.known_volume < target.expected_volume <= 1
    # labels of the week in progress are partial: the model learns from complete weeks only
    assert max(rows.labelled_weeks(con)) == NEWEST_COMPLETE - (IN_PROGRESS - NEWEST_COMPLETE)
    result = training.train_purchase_model(con, hpo_seconds=0.1, max_trials=1, first_params=FAST)
    champion = Champion(
        model=result.pipeline, version="1", run_id="run-1", threshold=result.validation.threshold, tags={}
    )
    batch = batches.append_batch(con, champion)
    assert (batch.week_start, batch.feature_week) == (IN_PROGRESS, NEWEST_COMPLETE)

    predicted = con.execute(
        "SELECT customer_id, product_id, probability, will_buy FROM predictions WHERE batch_id = ?",
        [batch.batch_id],
    ).df()
    bought = con.execute(
        "SELECT customer_id, product_id FROM weekly_purchases WHERE week_start = ?", [IN_PROGRESS]
    ).df()
    candidates = con.execute(
        "SELECT customer_id, product_id FROM pair_features WHERE week_start = ?", [NEWEST_COMPLETE]
    ).df()
    assert len(bought) > 0
    merged = predicted.merge(bought.assign(bought=True), how="left", on=["customer_id", "product_id"])
    is_bought = merged["bought"].eq(True).to_numpy()
    assert is_bought.sum() == len(bought)  # every pair bought so far is in the batch, candidate or not
    assert (merged.loc[is_bought, "probability"] == 1.0).all() and merged.loc[is_bought, "will_buy"].all()
    keys = set(map(tuple, candidates.to_numpy())) | set(map(tuple, bought.to_numpy()))
    assert len(predicted) == len(keys)
    # the others are scored for the days still to come: lower than the model's week probability
    rest = merged[~is_bought].merge(candidates, on=["customer_id", "product_id"])
    feature_rows = con.execute(
        f"SELECT customer_id, product_id, {', '.join(FEATURE_COLUMNS)} FROM pair_features "
        "WHERE week_start = ?",
        [NEWEST_COMPLETE],
    ).df()
    raw = rest.merge(feature_rows, on=["customer_id", "product_id"])
    model_probability = estimator.predict_probability(champion.model, raw)
    assert (raw["probability"].to_numpy() < model_probability + 1e-12).all()
    assert np.mean(raw["probability"].to_numpy() < model_probability) > 0.9
    assert (raw["will_buy"] == (raw["probability"] >= champion.threshold)).all()

    lineage.record_training_files(con, result.training.snapshot_id, "1")
    con.execute(f"CREATE TABLE model_versions ({registry.MODEL_VERSIONS_COLUMNS})")
    info = snapshot.publish_snapshot(con, tmp_path / "serving.duckdb")
    assert info.in_progress and info.data_through == str(WEDNESDAY) and info.target_week == str(IN_PROGRESS)
    with duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True) as served:
        row = served.execute(
            "SELECT target_week, feature_week, data_through, in_progress, known_volume, remaining_volume "
            "FROM snapshot_info"
        ).fetchall()[0]
        assert row[:4] == (IN_PROGRESS, NEWEST_COMPLETE, WEDNESDAY, True)
        assert row[4] == pytest.approx(target.known_volume) and row[5] == pytest.approx(
            target.remaining_volume
        )
        assert served.execute("SELECT DISTINCT week_start FROM next_week_features").fetchall() == [
            (IN_PROGRESS,)
        ]
        assert served.execute("SELECT count(*) FROM next_week_features").fetchall()[0][0] == len(candidates)
        assert served.execute("SELECT count(*) FROM target_week_purchases").fetchall()[0][0] == len(bought)
