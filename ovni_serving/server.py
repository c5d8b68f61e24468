"""`ovni serve`: the API under uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from ovni_assets.settings import get_settings
from ovni_serving.app import create_app
from ovni_serving.header_timeout import header_timeout_protocol


def serve(host: str = "127.0.0.1", port: int = 8000) -> int:
    """Run until interrupted; exit code for the CLI. Access logs are off (GET /metrics counts requests)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=header_timeout_protocol(settings.header_timeout_seconds),
        access_log=False,
        log_level="info",
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1
