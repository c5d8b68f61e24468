"""The page in real headless Chromium against real `ovni ui` and `ovni serve` processes.

Screenshots of every tab (desktop 1400 px and laptop 1280×800) are saved under pytest's temp folder; the
test prints where.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .conftest import CHROMIUM, CHROMIUM_ARGS, Server, start_api, start_ui

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TABS_ES = ["Recomendaciones", "Consultar", "Explorar", "Modelo y monitoreo", "Ayuda"]
TABS_EN = ["Recommendations", "Look up", "Explore", "Model and monitoring", "Help"]
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class OpenPage:
    """A browser page that records every request leaving this machine."""

    def __init__(self, browser: Browser, width: int, height: int):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="es-CL")
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.page.on("request", self._record)

    def _record(self, request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in {"http", "https", "ws", "wss"} and parsed.hostname not in LOCAL_HOSTS:
            self.external.append(request.url)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator:
    pages: list[OpenPage] = []

    def make(width: int = 1400, height: int = 900) -> OpenPage:
        pages.append(OpenPage(browser, width, height))
        return pages[-1]

    yield make
    for page in pages:
        page.close()


def wait_loaded(page: Page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    expect(page.locator("#ovni-status .ovni-banner")).to_be_visible(timeout=WAIT_MS)


def pick_customer(page: Page, customer_id: int, box: str = "#ovni-customer") -> None:
    """Search the picker by typing the id, then choose that customer's entry."""
    page.locator(f"{box} input").click()
    page.locator(f"{box} input").press_sequentially(str(customer_id), delay=30)
    page.get_by_role("option", name=re.compile(rf"^{customer_id} · ")).first.click()


def test_the_customer_picker_searches_by_type(
    open_page, ui_server: Server, api: httpx.Client, customer_id: int
):
    page = open_page().page
    wait_loaded(page, ui_server.url + "/")
    customer_type = api.get(f"/customers/{customer_id}").json()["attributes"]["customer_type"]
    page.locator("#ovni-customer input").click()
    page.locator("#ovni-customer input").press_sequentially(customer_type, delay=30)
    options = page.get_by_role("option")
    expect(options.first).to_contain_text(customer_type)
    texts = options.all_inner_texts()
    assert texts and all(customer_type in text for text in texts)


@pytest.fixture(scope="module")
def customer_id(api: httpx.Client) -> int:
    week = api.get("/ready").json()["week_start"]
    return api.get("/predictions", params={"week_start": week, "limit": 1}).json()["items"][0]["customer_id"]


def test_page_loads_offline_with_title_tabs_and_the_served_model(open_page, ui_server: Server, api):
    opened = open_page()
    page = opened.page
    wait_loaded(page, ui_server.url + "/")
    ready = api.get("/ready").json()
    expect(page.locator("#ovni-status")).to_contain_text(f"modelo v{ready['model_version']}")
    expect(page.locator("h1")).to_have_text("OVNI · Predicción de compras")
    assert page.get_by_role("tab").all_inner_texts() == TABS_ES
    assert page.title() == "OVNI · Qué ofrecer la próxima semana"
    assert opened.external == []


def test_picking_a_customer_shows_the_api_recommendations(
    open_page, ui_server: Server, api: httpx.Client, customer_id: int, screenshots_dir: Path
):
    page = open_page().page
    wait_loaded(page, ui_server.url + "/")
    pick_customer(page, customer_id)
    rows = page.locator("#ovni-recommendations tbody tr")
    expected = api.get(f"/customers/{customer_id}/recommendations", params={"k": 5, "lang": "es"}).json()
    expect(rows).to_have_count(len(expected["recommendations"]), timeout=WAIT_MS)
    shown = [int(rows.nth(i).get_attribute("data-product-id")) for i in range(rows.count())]
    assert shown == [r["product_id"] for r in expected["recommendations"]]
    expect(page.locator("[data-model-version]")).to_have_attribute(
        "data-model-version", expected["model_version"]
    )
    expect(page.locator(".ovni-heading h3")).to_contain_text(str(expected["week_start"]))
    expect(rows.first).to_contain_text(expected["recommendations"][0]["reasons"][0])
    page.screenshot(path=screenshots_dir / "recomendaciones-1400.png", full_page=True)


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (1280, 800)])
def test_every_tab_renders_without_horizontal_scroll(
    open_page, ui_server: Server, customer_id: int, screenshots_dir: Path, width: int, height: int
):
    opened = open_page(width, height)
    page = opened.page
    wait_loaded(page, ui_server.url + "/")
    pick_customer(page, customer_id)
    expect(page.locator("#ovni-recommendations tbody tr").first).to_be_visible(timeout=WAIT_MS)
    checks = {
        "Recomendaciones": "#ovni-recommendations",
        "Consultar": "#ovni-consult",
        "Explorar": ".ovni-kpis",
        "Modelo y monitoreo": "#ovni-champion",
        "Ayuda": "text=Cómo leer esta página",
    }
    for index, (tab, selector) in enumerate(checks.items()):
        page.get_by_role("tab", name=tab).click()
        expect(page.locator(selector).first).to_be_visible(timeout=WAIT_MS)
        page.wait_for_timeout(800)  # let the charts finish drawing before the screenshot
        page.screenshot(
            path=screenshots_dir / f"{index}-{tab.split()[0].lower()}-{width}.png", full_page=True
        )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{tab} scrolls sideways by {overflow}px at {width}px"
    assert page.locator("text=Traceback").count() == 0
    assert opened.external == []
    print(f"screenshots in {screenshots_dir}")


def test_the_language_button_switches_to_english(open_page, ui_server: Server, customer_id: int):
    page = open_page().page
    wait_loaded(page, ui_server.url + "/")
    page.locator("#ovni-language").click()
    page.wait_for_url(re.compile(r"/en/$"), timeout=WAIT_MS)
    expect(page.locator("#ovni-status")).to_contain_text("Service online", timeout=WAIT_MS)
    assert page.get_by_role("tab").all_inner_texts() == TABS_EN
    pick_customer(page, customer_id)
    expect(page.locator(".ovni-heading h3")).to_contain_text(
        f"What to offer customer {customer_id}", timeout=WAIT_MS
    )
    expect(page.locator("#ovni-language")).to_have_text("Español")


def test_with_the_api_stopped_the_page_says_so(
    open_page, served_home: Path, logs_dir: Path, customer_id: int, screenshots_dir: Path
):
    api = start_api(served_home, logs_dir)
    ui = start_ui(served_home, api.url, logs_dir)
    try:
        page = open_page().page
        wait_loaded(page, ui.url + "/")
        expect(page.locator("#ovni-status .ovni-banner.ok")).to_be_visible()
        api.stop()
        pick_customer(page, customer_id)
        friendly = "El servicio de predicciones no responde"
        expect(page.get_by_text(friendly).first).to_be_visible(timeout=WAIT_MS)
        page.reload(wait_until="domcontentloaded")
        expect(page.locator("#ovni-status")).to_contain_text(friendly, timeout=WAIT_MS)
        page.get_by_role("tab", name="Modelo y monitoreo").click()
        expect(page.get_by_text(friendly).nth(1)).to_be_visible(timeout=WAIT_MS)
        page.screenshot(path=screenshots_dir / "api-stopped.png", full_page=True)
        assert page.locator("text=Traceback").count() == 0
    finally:
        ui.stop()
        api.stop()
