"""What one request may cost (body limit, numbers, cold-start batches), /ready without server paths, and a
snapshot whose target week is in progress."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from builders import TARGET_WEEK, load_version, make_world
from conftest import serve_world
from fastapi.testclient import TestClient

from ovni_assets.features.target_week import in_progress_probability
from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app
from ovni_serving.schemas import MAX_BODY_BYTES


def non_candidates(served) -> list[tuple[int, int]]:
    world = served.world
    candidates = set(zip(world.features["customer_id"], world.features["product_id"], strict=True))
    return [
        (int(c), int(p))
        for c in world.customers["customer_id"]
        for p in world.products["product_id"]
        if (c, p) not in candidates
    ]


def test_a_body_over_the_limit_is_413_before_it_is_parsed(client):
    body = b'{"pairs": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert f"larger than {MAX_BODY_BYTES} bytes" in response.json()["detail"]


def test_a_chunked_body_over_the_limit_is_413_too(client):
    def chunks():
        yield b'{"rows": ['
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b" " * 65536
        yield b"]}"

    response = client.post(
        "/predict/features", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "split bigger jobs" in response.json()["detail"]


def test_a_body_under_the_limit_is_answered(client, served):
    customer_id, product_id = non_candidates(served)[0]
    pairs = [{"customer_id": customer_id, "product_id": product_id}] * 1000
    response = client.post("/predict", json={"pairs": pairs})
    assert response.status_code == 200 and len(response.json()["predictions"]) == 1000


@pytest.mark.parametrize("number", [int("9" * 400), -int("9" * 400), 10**309])
def test_a_number_no_float64_holds_is_422_in_predict_features(client, served, number):
    customer_id, product_id = non_candidates(served)[0]
    row = client.get(f"/customers/{customer_id}/products/{product_id}/features").json()["features"]
    response = client.post("/predict/features", json={"rows": [{**row, "bought_w4": number}]})
    assert response.status_code == 422, response.text
    assert "row 0, feature 'bought_w4'" in response.json()["detail"]
    assert "float64" in response.json()["detail"]


def test_ready_shows_no_server_paths(new_home):
    settings = new_home()
    app = create_app(settings, poll=False)
    app.state.store.refresh()
    with TestClient(app) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert "no serving snapshot at serving.duckdb" in response.json()["errors"]["snapshot"]
    assert str(settings.home) not in response.text and "/tmp" not in response.text


def test_cold_start_pairs_are_scored_as_one_batch_like_one_at_a_time(client, served):
    pairs = non_candidates(served)
    assert len(pairs) > 20
    bundle = client.app.state.store.bundle
    one_at_a_time = pd.concat([bundle.cold_start.row(c, p) for c, p in pairs], ignore_index=True)
    pd.testing.assert_frame_equal(bundle.cold_start.rows(pairs), one_at_a_time)
    body = client.post(
        "/predict", json={"pairs": [{"customer_id": c, "product_id": p} for c, p in pairs]}
    ).json()
    model = load_version(served.settings, served.version)
    expected = model.predict_proba(one_at_a_time)[:, 1]
    assert [p["cold_start"] for p in body["predictions"]] == [True] * len(pairs)
    assert [p["probability"] for p in body["predictions"]] == pytest.approx(expected.tolist())


def test_a_snapshot_of_a_week_in_progress_serves_bought_pairs_as_certain(new_home):
    """The snapshot says the target week is known through its Tuesday: the pairs bought Monday or Tuesday
    are certain, every other pair is scored for the days still to come."""
    served = serve_world(new_home(), make_world(seed=3), threshold=0.4)
    features = served.world.features
    bought = [(int(c), int(p)) for c, p in features[["customer_id", "product_id"]].head(3).to_numpy()]
    other = (int(features["customer_id"].iloc[10]), int(features["product_id"].iloc[10]))
    through = TARGET_WEEK + timedelta(days=1)
    con = duckdb.connect(str(served.settings.serving_path))
    try:
        con.execute(
            "ALTER TABLE snapshot_info ADD COLUMN data_through DATE; "
            "ALTER TABLE snapshot_info ADD COLUMN in_progress BOOLEAN; "
            "ALTER TABLE snapshot_info ADD COLUMN known_volume DOUBLE; "
            "ALTER TABLE snapshot_info ADD COLUMN remaining_volume DOUBLE"
        )
        con.execute(
            "UPDATE snapshot_info SET data_through = ?, in_progress = true, known_volume = 0.4, "
            "remaining_volume = 0.6",
            [through],
        )
        con.execute("CREATE TABLE target_week_purchases (customer_id BIGINT, product_id BIGINT)")
        con.executemany("INSERT INTO target_week_purchases VALUES (?, ?)", bought)
    finally:
        con.close()
    app = create_app(OvniSettings(home=served.settings.home), poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    with TestClient(app) as client:
        ready = client.get("/ready").json()
        assert ready["week_in_progress"] is True and ready["data_through"] == str(through)
        pairs = [*bought, other]
        body = client.post(
            "/predict", json={"pairs": [{"customer_id": c, "product_id": p} for c, p in pairs]}
        ).json()
    answers = body["predictions"]
    assert [a["probability"] for a in answers[:3]] == [1.0, 1.0, 1.0]
    assert all(a["will_buy"] for a in answers[:3])
    model = load_version(served.settings, served.version)
    row = features[(features["customer_id"] == other[0]) & (features["product_id"] == other[1])]
    raw = model.predict_proba(row.drop(columns=["customer_id", "product_id", "week_start"]))[:, 1]
    expected = in_progress_probability(np.asarray(raw), 0.4, 0.6)[0]
    assert answers[3]["probability"] == pytest.approx(expected) and expected < raw[0]
    assert answers[3]["will_buy"] == (expected >= served.threshold)
