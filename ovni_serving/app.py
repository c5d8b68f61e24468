"""The FastAPI application factory: `create_app(settings)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi_offline import FastAPIOffline

from ovni_assets.settings import OvniSettings, get_settings
from ovni_serving.errors import install_error_handlers
from ovni_serving.limits import BodyLimitMiddleware
from ovni_serving.metrics import Metrics, MetricsMiddleware
from ovni_serving.model_store import ModelStore
from ovni_serving.routes import ALL
from ovni_serving.schemas import MAX_BODY_BYTES

logger = logging.getLogger("ovni_serving")

DESCRIPTION = """\
Next-week purchase probabilities for every customer and product of SodAI Drinks.

Answers come from memory: the published snapshot (`serving.duckdb`, read-only) and the MLflow champion
(`models:/ovni-purchase@champion`), scored once when they are loaded. A background task polls both and swaps
in a new bundle without dropping a request; `GET /ready` shows what is served and the last load errors.
"""


# FastAPI's built-in OpenTelemetry spans and metrics cost more than the whole /predict handler; the API
# exports its own Prometheus metrics at GET /metrics instead.
DOCS_ASSETS_URL = "/docs-assets"
# ReDoc's sidebar shows a logo from its makers' CDN; this policy keeps the browser on the API's own files.
REDOC_CONTENT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:"
)

STACK_OPTIONS = {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}


async def poll_forever(store: ModelStore, interval_seconds: float) -> None:
    """Check the registry and the snapshot every `interval_seconds`, loading off the event loop."""
    reported: dict[str, str] = {}
    while True:
        try:
            if await asyncio.to_thread(store.refresh):
                bundle = store.bundle
                logger.info("serving model %s for week %s", bundle.version, bundle.snapshot.target_week)
            errors = dict(store.status())
            for part, message in errors.items():
                if reported.get(part) != message:
                    serving = (
                        f"still serving model {store.bundle.version}"
                        if store.bundle
                        else "nothing served yet"
                    )
                    logger.warning("%s: %s (%s)", part, message, serving)
            reported = errors
        except Exception:  # refresh records its own errors; this only keeps the poller alive
            logger.exception("reload check failed")
        await asyncio.sleep(interval_seconds)


def create_app(settings: OvniSettings | None = None, *, poll: bool = True) -> FastAPI:
    """Build the API. With `poll`, the app's lifespan runs the reload poller (the first check at startup,
    in the background: /health answers at once, /ready turns 200 when a bundle is loaded).

    `/docs` (Swagger UI) and `/redoc` load their scripts and styles from the API itself (the files ship in
    `fastapi-offline`), so they work without internet; `GET /` leads to `/docs`."""
    settings = settings or get_settings()
    store = ModelStore(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(poll_forever(store, settings.reload_interval_seconds)) if poll else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPIOffline(
        title="OVNI API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS_URL,
        redoc_url=None,
        **STACK_OPTIONS,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = Metrics(store)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    for router in ALL:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def front_door() -> RedirectResponse:
        return RedirectResponse(url="docs")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = REDOC_CONTENT_POLICY
        return page

    return app
