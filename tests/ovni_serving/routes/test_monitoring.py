"""GET /drift, GET /quality and GET /metrics."""

from __future__ import annotations

import pytest


def test_drift_shows_the_newest_report_drifted_first(client):
    body = client.get("/drift").json()
    assert body["report_id"] == "d1" and body["drifted_features"] == 1
    assert [f["feature"] for f in body["features"]] == ["bought_w4", "units_w4"]
    # the rules the report applied, for a reader to explain why a feature is or is not flagged
    assert body["rules"] == {"psi_threshold": 0.2, "alpha": 0.01, "baseline_factor": 2.0}


def test_quality_lists_realized_scores(client):
    [row] = client.get("/quality").json()["items"]
    assert row["batch_id"] == "batch-past" and row["f1"] == pytest.approx(0.545)


def test_metrics_are_prometheus_text(client, served):
    client.get("/health")
    client.get("/customers/999999/recommendations")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'ovni_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert (
        'ovni_http_requests_total{method="GET",route="/customers/{customer_id}/recommendations",status="404"}'
        in text
    )
    assert 'ovni_http_request_duration_seconds_bucket{route="/health",le="+Inf"}' in text
    assert f'version="{served.version}"' in text
    assert f"ovni_model_version {served.version}" in text
    assert "ovni_model_ready 1" in text
    assert "ovni_model_last_reload_timestamp_seconds 0\n" not in text
