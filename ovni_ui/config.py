"""Settings of the Gradio app, read from the environment.

The UI imports nothing from the other packages but the uvicorn protocol of `ovni_serving.header_timeout`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_HEADER_TIMEOUT_SECONDS = 30.0
LANGUAGES = ("es", "en")


@dataclass(frozen=True)
class UiConfig:
    """Where the API lives, which language the page opens in, and how long request headers may take."""

    api_url: str
    lang: str
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS


def load_config() -> UiConfig:
    """Read `OVNI_API_URL`, `OVNI_UI_LANG` (es or en) and `OVNI_HEADER_TIMEOUT_SECONDS`; raise ValueError on
    an unknown language or a timeout that is not a positive number."""
    api_url = os.environ.get("OVNI_API_URL", "").strip() or DEFAULT_API_URL
    lang = os.environ.get("OVNI_UI_LANG", "").strip().lower() or "es"
    if lang not in LANGUAGES:
        raise ValueError(f"OVNI_UI_LANG must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    raw_timeout = os.environ.get("OVNI_HEADER_TIMEOUT_SECONDS", "").strip()
    try:
        header_timeout = float(raw_timeout) if raw_timeout else DEFAULT_HEADER_TIMEOUT_SECONDS
    except ValueError:
        header_timeout = -1.0
    if not header_timeout > 0:
        raise ValueError(
            f"OVNI_HEADER_TIMEOUT_SECONDS must be a positive number of seconds, got {raw_timeout!r}"
        )
    return UiConfig(api_url=api_url.rstrip("/"), lang=lang, header_timeout_seconds=header_timeout)
