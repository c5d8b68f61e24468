"""The page in real headless Chromium against real `ovni ui` and `ovni serve` processes.

Screenshots of every tab (desktop 1400 px and laptop 1280×800) are saved under pytest's temp folder; the
test prints where.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .conftest import CHROMIUM, CHROMIUM_ARGS, STALE_DAYS, Server, start_api, start_ui

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TABS_ES = ["Recomendaciones", "Consultar", "Explorar", "Modelo y monitoreo", "Ayuda"]
TABS_EN = ["Recommendations", "Look up", "Explore", "Model and monitoring", "Help"]
WAIT_MS = 120_000  # a page's first load on a loaded machine


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
    """Search the picker by typing the id (over what it shows), then choose that entry."""
    page.locator(f"{box} input").click()
    page.locator(f"{box} input").fill("")
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
    notice = page.locator("#ovni-status .ovni-notice")  # the API judges the served week 3 days late
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(f"llevan {STALE_DAYS} días de atraso: revise la llegada de datos.")
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


def test_the_header_status_follows_the_api_going_down_and_coming_back(
    open_page, served_home: Path, logs_dir: Path, customer_id: int, screenshots_dir: Path
):
    api = start_api(served_home, logs_dir)
    ui = start_ui(served_home, api.url, logs_dir)
    port = int(urlparse(api.url).port)
    try:
        page = open_page().page
        wait_loaded(page, ui.url + "/")
        expect(page.locator("#ovni-status .ovni-banner.ok")).to_be_visible()
        api.stop()
        pick_customer(page, customer_id)
        friendly = "El servicio de predicciones no responde"
        expect(page.locator("#ovni-status .ovni-banner.error")).to_contain_text(friendly, timeout=WAIT_MS)
        expect(page.get_by_text(friendly).nth(1)).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("tab", name="Modelo y monitoreo").click()
        expect(page.locator("#ovni-model-message")).to_contain_text(friendly, timeout=WAIT_MS)
        page.screenshot(path=screenshots_dir / "api-stopped.png", full_page=True)
        assert page.locator("text=Traceback").count() == 0
        api = start_api(served_home, logs_dir, port=port)
        page.get_by_role("button", name="Actualizar").click()
        expect(page.locator("#ovni-status .ovni-banner.ok")).to_contain_text(
            "Servicio en línea", timeout=WAIT_MS
        )
        expect(page.locator("#ovni-champion")).to_be_visible(timeout=WAIT_MS)
        english = open_page().page
        wait_loaded(english, ui.url + "/en/")
        api.stop()
        english.get_by_role("tab", name="Model and monitoring").click()
        expect(english.locator("#ovni-status .ovni-banner.error")).to_contain_text(
            "The prediction service is not responding", timeout=WAIT_MS
        )
    finally:
        ui.stop()
        api.stop()


LANGS = {
    "es": {
        "path": "/",
        "unknown": "El cliente 987654321 no está en las predicciones publicadas.",
        "threshold": re.compile(r"(\d+ de \d+ superan|Ninguno supera) el umbral de decisión \(\d+,\d %\)"),
        "consult_tab": "Consultar",
        "explore_tab": "Explorar",
        "model_tab": "Modelo y monitoreo",
        "quality_one": "Una sola semana evaluada",
        "drift_rule": "la prueba estadística confirma el cambio",
        "csv": (";", ","),
    },
    "en": {
        "path": "/en/",
        "unknown": "Customer 987654321 is not in the published predictions.",
        "threshold": re.compile(r"(\d+ of \d+ are|None is) above the decision threshold \(\d+\.\d%\)"),
        "consult_tab": "Look up",
        "explore_tab": "Explore",
        "model_tab": "Model and monitoring",
        "quality_one": "One week evaluated",
        "drift_rule": "the statistical test confirms the change",
        "csv": (",", "."),
    },
}


def type_custom_value(page: Page, box: str, value: str) -> None:
    page.locator(f"{box} input").click()
    page.locator(f"{box} input").fill(value)
    page.locator(f"{box} input").press("Enter")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_refusals_and_the_threshold_are_said_in_the_page_language(
    open_page, ui_server: Server, customer_id: int, lang: str
):
    texts = LANGS[lang]
    page = open_page().page
    wait_loaded(page, ui_server.url + texts["path"])
    pick_customer(page, customer_id)
    expect(page.get_by_text(texts["threshold"]).first).to_be_visible(timeout=WAIT_MS)
    type_custom_value(page, "#ovni-customer", "987654321")
    expect(page.get_by_text(texts["unknown"])).to_be_visible(timeout=WAIT_MS)
    assert page.get_by_text("unknown customer_id").count() == 0
    expect(page.locator("#ovni-status .ovni-banner.ok")).to_be_visible()  # the API answered


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_what_if_starts_readable_and_moves_the_probability(
    open_page, ui_server: Server, api: httpx.Client, customer_id: int, lang: str, screenshots_dir: Path
):
    texts = LANGS[lang]
    top = api.get(f"/customers/{customer_id}/recommendations", params={"k": 2}).json()["recommendations"]
    page = open_page().page
    wait_loaded(page, ui_server.url + texts["path"])
    page.get_by_role("tab", name=texts["consult_tab"]).click()
    pick_customer(page, customer_id, "#ovni-consult-customer")
    pick_customer(page, top[0]["product_id"], "#ovni-consult-product")
    page.locator("#ovni-consult").click()
    expect(page.locator("#ovni-pair-result")).to_be_visible(timeout=WAIT_MS)
    weeks_ago = page.locator("#ovni-whatif-weeks_ago input")
    expect(weeks_ago).not_to_have_value("", timeout=WAIT_MS)
    for name in ("weeks_ago", "bought_w4", "bought_w12", "units_w4", "mean_gap_weeks", "cust_active_w4"):
        value = page.locator(f"#ovni-whatif-{name} input").input_value()
        assert re.fullmatch(r"\d+(\.\d)?|", value), f"{name} starts from {value!r}"
    weeks_ago.fill("10")
    page.locator("#ovni-simulate").click()
    result = page.locator("#ovni-whatif-result")
    expect(result).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#ovni-whatif-bought_w4 input")).to_have_value("0")  # moved with the recency
    page.screenshot(path=screenshots_dir / f"whatif-{lang}.png", full_page=True)

    pick_customer(page, top[1]["product_id"], "#ovni-consult-product")  # another pair: the old answer goes
    expect(result).to_have_count(0, timeout=WAIT_MS)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_csv_download_opens_in_columns_in_the_language_spreadsheet(
    open_page, ui_server: Server, api: httpx.Client, lang: str
):
    texts = LANGS[lang]
    separator, decimal = texts["csv"]
    page = open_page().page
    wait_loaded(page, ui_server.url + texts["path"])
    page.get_by_role("tab", name=texts["explore_tab"]).click()
    button = page.locator("a[download], button").filter(has_text=re.compile("CSV"))
    expect(button.first).to_be_visible(timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as download:
        button.first.click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, first = raw[3:].decode("utf-8").splitlines()[:2]
    assert len(header.split(separator)) == 8 and len(first.split(separator)) == 8
    probability = first.split(separator)[6]
    assert re.fullmatch(rf"\d(\{decimal}\d+)?", probability), probability


@pytest.mark.parametrize("lang", ["es", "en"])
def test_model_health_says_why_a_chart_is_missing_and_why_features_are_stable(
    open_page, ui_server: Server, api: httpx.Client, lang: str
):
    texts = LANGS[lang]
    page = open_page().page
    wait_loaded(page, ui_server.url + texts["path"])
    page.get_by_role("tab", name=texts["model_tab"]).click()
    expect(page.locator("#ovni-champion")).to_be_visible(timeout=WAIT_MS)
    threshold = api.get("/model").json()["threshold"]
    shown = f"{threshold * 100:.1f} %".replace(".", ",") if lang == "es" else f"{threshold * 100:.1f}%"
    expect(page.locator("#ovni-champion")).to_contain_text(shown)
    scored = [q for q in api.get("/quality").json()["items"] if q["f1"] is not None]
    if len(scored) == 1:
        expect(page.locator("#ovni-quality-note")).to_contain_text(texts["quality_one"])
        expect(page.locator("#ovni-quality-plot")).to_be_hidden()
    if api.get("/drift").json()["features"]:
        expect(page.locator("#ovni-drift-note")).to_contain_text(texts["drift_rule"])
        expect(page.locator("#ovni-drift-plot")).to_be_visible()
        decimal = texts["csv"][1]  # the tallest bar's tooltip writes its PSI with the page's decimal mark
        assert re.search(rf"PSI\s+\d+\{decimal}\d\d\b", bar_tooltip(page, "#ovni-drift-plot")), decimal


def bar_tooltip(page: Page, plot: str) -> str:
    """The tooltip of the first bar of a chart (the tallest, bars sorted by height): the pointer goes down
    the bar's column until Vega shows one."""
    canvas = page.locator(f"{plot} canvas")
    expect(canvas).to_be_visible(timeout=WAIT_MS)
    canvas.scroll_into_view_if_needed()  # the pointer only hovers what is inside the viewport
    box = canvas.bounding_box()
    tooltip = page.locator("#vg-tooltip-element")
    for x, step in itertools.product((90, 70, 110), range(5, 20)):
        page.mouse.move(box["x"] + x, box["y"] + box["height"] * step / 25)
        page.wait_for_timeout(100)
        if tooltip.count() and tooltip.is_visible() and tooltip.inner_text().strip():
            return tooltip.inner_text()
    raise AssertionError(f"no tooltip over the first bar of {plot}")
