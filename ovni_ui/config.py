"""Settings of the Gradio app, read from the environment (the UI imports nothing from the other packages)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_API_URL = "http://127.0.0.1:8000"
LANGUAGES = ("es", "en")


@dataclass(frozen=True)
class UiConfig:
    """Where the API lives and which language the page opens in."""

    api_url: str
    lang: str


def load_config() -> UiConfig:
    """Read `OVNI_API_URL` and `OVNI_UI_LANG` (es or en); raise ValueError on an unknown language."""
    api_url = os.environ.get("OVNI_API_URL", "").strip() or DEFAULT_API_URL
    lang = os.environ.get("OVNI_UI_LANG", "").strip().lower() or "es"
    if lang not in LANGUAGES:
        raise ValueError(f"OVNI_UI_LANG must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return UiConfig(api_url=api_url.rstrip("/"), lang=lang)
