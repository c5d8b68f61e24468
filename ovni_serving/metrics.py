"""Prometheus text exposition of request counts, latency, model version and reloads (no extra dependency)."""

from __future__ import annotations

import bisect
import time
from collections import defaultdict

from ovni_serving.model_store import ModelStore

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UNMATCHED = "<unmatched>"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters and a latency histogram per route template (bounded label set: routes, not raw paths)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.bucket_counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        self.bucket_counts[route][bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum[route] += seconds

    def render(self, store: ModelStore) -> str:
        lines = [
            "# HELP ovni_http_requests_total HTTP requests answered, by method, route template and status.",
            "# TYPE ovni_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(
                f'ovni_http_requests_total{{method="{method}",route="{_label(route)}",status="{status}"}} '
                f"{count}"
            )
        lines += [
            "# HELP ovni_http_request_duration_seconds Time to answer a request, by route template.",
            "# TYPE ovni_http_request_duration_seconds histogram",
        ]
        for route, counts in sorted(self.bucket_counts.items()):
            cumulative = 0
            for bound, count in zip([*map(str, BUCKETS), "+Inf"], counts, strict=True):
                cumulative += count
                lines.append(
                    f'ovni_http_request_duration_seconds_bucket{{route="{_label(route)}",le="{bound}"}} '
                    f"{cumulative}"
                )
            lines.append(
                f'ovni_http_request_duration_seconds_sum{{route="{_label(route)}"}} {self.latency_sum[route]}'
            )
            lines.append(f'ovni_http_request_duration_seconds_count{{route="{_label(route)}"}} {cumulative}')
        bundle = store.bundle
        lines += [
            "# HELP ovni_model_ready 1 when a model and a snapshot are loaded and served.",
            "# TYPE ovni_model_ready gauge",
            f"ovni_model_ready {1 if bundle else 0}",
            "# HELP ovni_model_info Champion version served (value always 1).",
            "# TYPE ovni_model_info gauge",
        ]
        if bundle:
            lines.append(
                f'ovni_model_info{{name="{_label(bundle.champion.name)}",version="{_label(bundle.version)}",'
                f'run_id="{_label(bundle.champion.run_id)}",week_start="{bundle.snapshot.target_week}"}} 1'
            )
            if bundle.version.isdigit():
                lines += [
                    "# HELP ovni_model_version Champion version served, as a number.",
                    "# TYPE ovni_model_version gauge",
                    f"ovni_model_version {bundle.version}",
                ]
        stats = store.stats
        lines += [
            "# HELP ovni_model_last_reload_timestamp_seconds When the served bundle was last swapped in.",
            "# TYPE ovni_model_last_reload_timestamp_seconds gauge",
            f"ovni_model_last_reload_timestamp_seconds {stats.last_swap_at or 0}",
            "# HELP ovni_model_last_check_timestamp_seconds When registry and snapshot were last checked.",
            "# TYPE ovni_model_last_check_timestamp_seconds gauge",
            f"ovni_model_last_check_timestamp_seconds {stats.last_check_at or 0}",
            "# HELP ovni_model_last_load_duration_seconds Time to load and score the last swapped-in bundle.",
            "# TYPE ovni_model_last_load_duration_seconds gauge",
            f"ovni_model_last_load_duration_seconds {stats.last_load_seconds or 0}",
            "# HELP ovni_model_reloads_total Bundles swapped in.",
            "# TYPE ovni_model_reloads_total counter",
            f"ovni_model_reloads_total {stats.swaps}",
            "# HELP ovni_model_reload_failures_total Loads that failed (the old bundle kept serving).",
            "# TYPE ovni_model_reload_failures_total counter",
            f"ovni_model_reload_failures_total {stats.failures}",
        ]
        return "\n".join(lines) + "\n"


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
