"""GET /drift, GET /quality and GET /metrics."""

from __future__ import annotations

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from ovni_serving.app import create_app
from ovni_serving.metrics import BUCKETS, UNMATCHED


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
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    text = response.text
    assert 'ovni_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert (
        'ovni_http_requests_total{method="GET",route="/customers/{customer_id}/recommendations",status="404"}'
        in text
    )
    assert 'ovni_http_request_duration_seconds_bucket{le="+Inf",route="/health"}' in text
    assert f'version="{served.version}"' in text
    assert f"ovni_model_version {float(served.version)}\n" in text
    assert "ovni_model_ready 1.0\n" in text
    assert "ovni_model_last_reload_timestamp_seconds 0.0\n" not in text
    assert "_created" not in text  # counts, sums and buckets only


def _series(client, family: str) -> dict[tuple, float]:
    """{label values: value} of one sample name in GET /metrics."""
    samples = {}
    for metric in text_string_to_metric_families(client.get("/metrics").text):
        for sample in metric.samples:
            if sample.name == family:
                samples[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metric_labels_stay_bounded(client):
    """Raw paths and made-up methods never become series: 200 unknown paths and 20 unknown methods add
    at most the one `<unmatched>` route and the one `OTHER` method."""
    requests_before = _series(client, "ovni_http_requests_total")
    buckets_before = _series(client, "ovni_http_request_duration_seconds_bucket")
    for i in range(200):
        assert client.get(f"/no-such-page-{i}").status_code == 404
    for i in range(20):
        client.request(f"FETCH{i}", "/health")
    requests = _series(client, "ovni_http_requests_total")
    buckets = _series(client, "ovni_http_request_duration_seconds_bucket")
    assert len(requests) - len(requests_before) <= 2  # <unmatched> 404 and OTHER /health 405
    assert len(buckets) - len(buckets_before) <= len(BUCKETS) + 1  # the <unmatched> route's buckets
    unmatched = (("method", "GET"), ("route", UNMATCHED), ("status", "404"))
    assert requests[unmatched] - requests_before.get(unmatched, 0) == 200
    other = (("method", "OTHER"), ("route", "/health"), ("status", "405"))
    assert requests[other] - requests_before.get(other, 0) == 20
    assert "no-such-page" not in client.get("/metrics").text


def test_each_app_has_its_own_registry(served):
    """Two apps in one process (as in these tests) count their own requests, in their own registries."""
    first, second = create_app(served.settings), create_app(served.settings)
    assert first.state.metrics.registry is not second.state.metrics.registry
    first.state.metrics.observe("GET", "/health", 200, 0.001)
    assert b'route="/health"' in first.state.metrics.render()
    assert b'route="/health"' not in second.state.metrics.render()
