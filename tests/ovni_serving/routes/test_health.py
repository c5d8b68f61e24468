"""GET /health, GET /ready and GET /model: whether the process lives, what it serves, and which champion."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from builders import FEATURES, TARGET_WEEK, make_world, publish_snapshot, train_pipeline
from fastapi.testclient import TestClient

from ovni_assets.monitoring.freshness import today_in
from ovni_assets.settings import OvniSettings
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


def ready_on(served, today: date) -> httpx.Response:
    """`GET /ready` of an app over `served` that judges freshness on `today` (OVNI_FRESHNESS_TODAY)."""
    app = create_app(OvniSettings(home=served.settings.home, freshness_today=today), poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    with TestClient(app) as client:
        return client.get("/ready")


def test_ready_names_the_served_version_and_week(served):
    body = ready_on(served, TARGET_WEEK + timedelta(days=3)).json()
    assert body == {
        "status": "ready",
        "model_version": served.version,
        "week_start": str(TARGET_WEEK),
        "data_through": None,  # the test snapshot does not say
        "week_in_progress": False,
        "snapshot_created_at": "2024-10-06T22:00:00",
        "fresh": True,
        "fresh_until": str(TARGET_WEEK + timedelta(days=8)),  # the week, then 2 days of grace
        "stale_days": 0,
        "stale_reason": None,
        "errors": {},
    }


def test_ready_stays_ready_when_the_served_week_is_stale_and_says_why(served):
    last_fresh = TARGET_WEEK + timedelta(days=8)
    assert ready_on(served, last_fresh).json()["fresh"] is True
    at_boundary = ready_on(served, last_fresh + timedelta(days=1))
    assert at_boundary.status_code == 200
    body = at_boundary.json()
    assert (body["status"], body["fresh"], body["stale_days"]) == ("ready", False, 1)
    late = ready_on(served, last_fresh + timedelta(days=10)).json()
    assert (late["status"], late["fresh"], late["stale_days"]) == ("ready", False, 10)
    assert late["stale_reason"].startswith(f"the served predictions are for the week of {TARGET_WEEK}")
    assert "is 10 days late on 2024-10-25" in late["stale_reason"]


def test_ready_judges_freshness_today_in_the_configured_time_zone(client, served):
    """Unpinned, the day is today's in OVNI_TIMEZONE: the test snapshot's 2024 week is long past."""
    before = today_in("America/Santiago")
    body = client.get("/ready").json()
    after = today_in("America/Santiago")  # the same day, unless Santiago's midnight fell in between
    assert body["fresh"] is False and body["fresh_until"] == str(TARGET_WEEK + timedelta(days=8))
    assert body["stale_days"] in {(day - TARGET_WEEK).days - 8 for day in (before, after)}


def test_model_describes_the_champion(client, served):
    body = client.get("/model").json()
    assert body["name"] == "ovni-purchase"
    assert body["version"] == served.version
    assert body["threshold"] == pytest.approx(served.threshold)
    assert body["training_snapshot_id"] == "snap-0"
    assert body["metrics"]["val_f1"] == pytest.approx(0.6)
    assert body["features"] == FEATURES
    assert len(body["run_id"]) == 32 and body["trained_at"]
