"""GET /alerts: what OVNI told people, and which deliveries failed (the page's health tab shows it)."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from ovni_assets.monitoring.alerts import held_file_alert, run_failed_alert, send_alert
from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_alerts_newest_first_with_failed_deliveries(tmp_path):
    settings = OvniSettings(home=tmp_path, alert_retries=0, alert_timeout_seconds=1)
    send_alert(settings, held_file_alert(settings, "run-1", "clientes_x.csv", "every id changed", "c" * 64))
    down = settings.model_copy(update={"alert_webhook_url": f"http://127.0.0.1:{closed_port()}/hook"})
    send_alert(down, run_failed_alert(down, "run-2", "train_job", "out of memory"))
    with (tmp_path / "alerts.jsonl").open("a") as log:
        log.write("not json\n")  # a torn line is skipped, not a 500

    with TestClient(create_app(OvniSettings(home=tmp_path), poll=False)) as client:
        body = client.get("/alerts").json()
        assert client.get("/alerts?limit=0").status_code == 422

    assert [row["event"] for row in body["items"]] == ["run_failed", "file_held"]
    newest = body["items"][0]
    assert newest["status"] == "failed" and "URLError" in newest["deliveries"]["webhook"]
    assert body["items"][1]["status"] == "no channel" and body["failed_deliveries"] == 1


def test_no_alerts_yet(tmp_path):
    with TestClient(create_app(OvniSettings(home=tmp_path), poll=False)) as client:
        assert client.get("/alerts").json() == {"items": [], "failed_deliveries": 0}
