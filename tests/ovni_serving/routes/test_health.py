"""GET /health, GET /ready and GET /model: whether the process lives, what it serves, and which champion."""

from __future__ import annotations

import pytest
from builders import FEATURES, TARGET_WEEK, make_world, publish_snapshot, train_pipeline
from fastapi.testclient import TestClient

from ovni_serving.app import create_app


def test_health_answers_while_nothing_is_loaded(new_home):
    with TestClient(create_app(new_home(), poll=False)) as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_ready_is_503_with_reasons_until_a_model_and_snapshot_exist(new_home):
    app = create_app(new_home(), poll=False)
    app.state.store.refresh()
    with TestClient(app) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "preparing" and body["model_version"] is None  # nothing published yet
        assert "no serving snapshot" in body["errors"]["snapshot"]
        assert "ovni-purchase@champion" in body["errors"]["registry"]
        for path in (
            "/model",
            "/model/versions",
            "/drift",
            "/quality",
            "/predictions",
            "/customers",
            "/products",
            "/customers/1/recommendations",
        ):
            not_ready = client.get(path)
            assert not_ready.status_code == 503, path
            assert "GET /ready" in not_ready.json()["detail"]
        assert (
            client.post("/predict", json={"pairs": [{"customer_id": 1, "product_id": 2}]}).status_code == 503
        )


def test_ready_is_loading_not_preparing_once_a_snapshot_is_published(new_home):
    settings = new_home()
    world = make_world(seed=0)
    publish_snapshot(settings, world, train_pipeline(world, seed=0), "1")  # no champion alias yet
    app = create_app(settings, poll=False)
    app.state.store.refresh()
    with TestClient(app) as client:
        response = client.get("/ready")
    assert response.status_code == 503 and response.json()["status"] == "loading"


def test_ready_names_the_served_version_and_week(client, served):
    body = client.get("/ready").json()
    assert body == {
        "status": "ready",
        "model_version": served.version,
        "week_start": str(TARGET_WEEK),
        "data_through": None,  # the test snapshot does not say
        "week_in_progress": False,
        "snapshot_created_at": "2024-10-06T22:00:00",
        "errors": {},
    }


def test_model_describes_the_champion(client, served):
    body = client.get("/model").json()
    assert body["name"] == "ovni-purchase"
    assert body["version"] == served.version
    assert body["threshold"] == pytest.approx(served.threshold)
    assert body["training_snapshot_id"] == "snap-0"
    assert body["metrics"]["val_f1"] == pytest.approx(0.6)
    assert body["features"] == FEATURES
    assert len(body["run_id"]) == 32 and body["trained_at"]
