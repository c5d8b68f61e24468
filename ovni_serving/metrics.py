"""Prometheus metrics of the API on `prometheus_client`: requests and latency by route template, and the
served model's state (version, readiness, reloads) read from the store at every scrape.

Each app has its own `CollectorRegistry` (not the library's global one), so several apps in one process
never share or clash on a series. Label sets are bounded: route templates (`/customers/{customer_id}`),
never raw paths, with every unmatched path under one `<unmatched>` route; the status code the app answered;
the standard HTTP methods, any other method counted as `OTHER`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ovni_serving.model_store import ModelStore

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
CONTENT_TYPE = CONTENT_TYPE_LATEST

# No `*_created` series: a scrape shows counts, sums and buckets only (a process-wide switch of the library).
disable_created_metrics()


class ModelCollector:
    """The served bundle and the reload statistics of a `ModelStore`, as they are when scraped."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        bundle = self.store.bundle
        yield GaugeMetricFamily(
            "ovni_model_ready",
            "1 when a model and a snapshot are loaded and served.",
            value=1 if bundle else 0,
        )
        info = GaugeMetricFamily(
            "ovni_model_info",
            "Champion version served (value always 1).",
            labels=("name", "version", "run_id", "week_start"),
        )
        if bundle:
            champion, week = bundle.champion, str(bundle.snapshot.target_week)
            info.add_metric((champion.name, bundle.version, champion.run_id, week), 1)
        yield info
        if bundle and bundle.version.isdigit():
            yield GaugeMetricFamily(
                "ovni_model_version", "Champion version served, as a number.", value=int(bundle.version)
            )
        stats = self.store.stats
        yield GaugeMetricFamily(
            "ovni_model_last_reload_timestamp_seconds",
            "When the served bundle was last swapped in.",
            value=stats.last_swap_at or 0,
        )
        yield GaugeMetricFamily(
            "ovni_model_last_check_timestamp_seconds",
            "When registry and snapshot were last checked.",
            value=stats.last_check_at or 0,
        )
        yield GaugeMetricFamily(
            "ovni_model_last_load_duration_seconds",
            "Time to load and score the last swapped-in bundle.",
            value=stats.last_load_seconds or 0,
        )
        yield CounterMetricFamily("ovni_model_reloads_total", "Bundles swapped in.", value=stats.swaps)
        yield CounterMetricFamily(
            "ovni_model_reload_failures_total",
            "Loads that failed (the old bundle kept serving).",
            value=stats.failures,
        )


class Metrics:
    """The app's registry: a request counter and a latency histogram per route template, and the model's
    state from `store`."""

    def __init__(self, store: ModelStore) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ovni_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "ovni_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ("route",),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(ModelCollector(store))
        # children by label values: a request does one dict look-up instead of `labels()`'s validation
        self._request_counters: dict[tuple[str, str, int], Counter] = {}
        self._route_latencies: dict[str, Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method if method in METHODS else "OTHER", route, status)
        counter = self._request_counters.get(key)
        if counter is None:
            counter = self._request_counters[key] = self.requests.labels(key[0], route, str(status))
        counter.inc()
        latency = self._route_latencies.get(route)
        if latency is None:
            latency = self._route_latencies[route] = self.latency.labels(route)
        latency.observe(seconds)

    def render(self) -> bytes:
        """The text exposition of every series (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware) recording every HTTP request."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            self.metrics.observe(
                scope["method"], getattr(route, "path", UNMATCHED), status, time.perf_counter() - started
            )
