"""The OVNI Gradio app: recommendations, look-up with what-if, batch explorer, model monitoring, help.

`build_app(api_url, lang)` builds the page in one language from the tabs of `ovni_ui/tabs/`;
`launch(host, port)` serves the page in `OVNI_UI_LANG` at `/` and in the other language at `/en/` or `/es/`
(the button in the header switches). Every handler talks to the API through `OvniApiClient`; when the API
is down or refuses, the page shows a plain message instead of a traceback.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import gradio as gr

from ovni_ui import views
from ovni_ui.api_client import ApiError, OvniApiClient
from ovni_ui.catalogue import CatalogueCache
from ovni_ui.config import load_config
from ovni_ui.i18n import LANG_NAMES, Texts
from ovni_ui.page import OvniPage, Tab
from ovni_ui.tabs.consult import ConsultTab
from ovni_ui.tabs.explore import ExploreTab
from ovni_ui.tabs.help import render_help
from ovni_ui.tabs.model import ModelTab
from ovni_ui.tabs.recommend import RecommendTab

TABS = (RecommendTab, ConsultTab, ExploreTab, ModelTab)  # then Ayuda, which calls nothing


class PageLoad:
    """The call that opens the page: the header status, and the choices of every tab's pickers."""

    def __init__(self, page: OvniPage, tabs: Sequence[Tab]):
        self.page = page
        self.tabs = tabs

    @property
    def pickers(self) -> list[gr.Dropdown]:
        return [picker for tab in self.tabs for picker in tab.pickers]

    def load(self, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008 (Gradio's progress tracker)
        """Reads the catalogue once for every picker; when that fails the header says why and the pickers
        keep what they have."""
        page = self.page
        try:
            catalogue = page.catalogue.get(progress, page.tr("loading_predictions"))
            choices = [choice for tab in self.tabs for choice in tab.picker_choices(catalogue)]
        except ApiError as error:
            return (page.error_banner(error), *(gr.skip() for _ in self.pickers))
        return (page.status(), *choices)


def render_tabs(page: OvniPage, status: gr.HTML) -> PageLoad:
    """Every tab, laid out and wired to the header status; the page load that fills their pickers."""
    with gr.Tabs():
        tabs = [tab(page) for tab in TABS]
        for tab in tabs:
            tab.render(status)
        render_help(page.tr)
    return PageLoad(page, tabs)


def render_header(tr: Texts, switch_url: str | None) -> gr.HTML:
    """Title and intro beside the language button; returns the status line under them."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=6):
            gr.HTML(views.header(tr))
        with gr.Column(scale=1, min_width=120):
            gr.Button(
                LANG_NAMES[tr.other_lang],
                link=switch_url or f"../{tr.other_lang}/",
                size="sm",
                elem_id="ovni-language",
            )
    return gr.HTML(elem_id="ovni-status")


def build_app(
    api_url: str, lang: str, switch_url: str | None = None, catalogue: CatalogueCache | None = None
) -> gr.Blocks:
    """The whole page in one language (es or en), reading from the API at `api_url`.

    `switch_url` is where the language button leads (the page in the other language); pages of both
    languages on one server share one `catalogue`."""
    tr = Texts(lang)
    api = catalogue.api if catalogue else OvniApiClient(api_url)
    page = OvniPage(api, tr, Path(tempfile.mkdtemp(prefix="ovni-ui-")), catalogue)
    with gr.Blocks(title=tr("page_title"), analytics_enabled=False) as demo:
        status = render_header(tr, switch_url)
        page_load = render_tabs(page, status)
        demo.load(page_load.load, outputs=[status, *page_load.pickers], api_name="load_page")
    return demo


def theme() -> gr.themes.Base:
    """The default theme with local fonts only (nothing is fetched from the internet)."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate")


def create_server(api_url: str, default_lang: str):
    """A FastAPI app with the page in `default_lang` at / and in the other language at /<lang>/."""
    from fastapi import FastAPI

    other_lang = Texts(default_lang).other_lang
    server = FastAPI(title="OVNI UI", docs_url=None, redoc_url=None, openapi_url=None)
    pages = {other_lang: (f"/{other_lang}", "../"), default_lang: ("/", f"./{other_lang}/")}
    catalogue = CatalogueCache(OvniApiClient(api_url))
    for lang, (path, switch_url) in pages.items():  # the other language first: / would catch everything
        gr.mount_gradio_app(
            server,
            build_app(api_url, lang, switch_url=switch_url, catalogue=catalogue),
            path=path,
            theme=theme(),
            css=views.CSS,
            footer_links=[],
        )
    return server


def launch(host: str = "127.0.0.1", port: int = 7860) -> int:
    """Serve the UI with uvicorn until interrupted (`ovni ui`)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        config = load_config()
    except ValueError as error:
        print(f"ovni ui: {error}", file=sys.stderr)
        return 2
    import uvicorn

    from ovni_serving.header_timeout import header_timeout_protocol

    print(f"OVNI UI on http://{host}:{port}/ (API: {config.api_url})", flush=True)
    uvicorn.run(
        create_server(config.api_url, config.lang),
        host=host,
        port=port,
        http=header_timeout_protocol(config.header_timeout_seconds),
        log_level="warning",
    )
    return 0
