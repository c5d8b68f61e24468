"""POST /admin/reload: only with the bearer token, and not at all without one configured."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app


def test_admin_reload_needs_the_bearer_token(client):
    assert client.post("/admin/reload").status_code == 401
    wrong = client.post("/admin/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.json()["detail"]
    ok = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert ok.json()["swapped"] is False and ok.json()["errors"] == {}


def test_admin_reload_is_disabled_without_a_token(served):
    with TestClient(
        create_app(OvniSettings(home=served.settings.home, api_token=None), poll=False)
    ) as client:
        response = client.post("/admin/reload", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 403 and "OVNI_API_TOKEN" in response.json()["detail"]
