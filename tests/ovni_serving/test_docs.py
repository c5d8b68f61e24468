"""The API's documentation: `/docs` and `/redoc` work without internet, `GET /` leads there, and every example
the OpenAPI schema documents answers on the demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.ovni_ui.served import CHROMIUM, CHROMIUM_ARGS, Server, start_api

ASSET = re.compile(r'(?:src|href)="([^"]+)"')
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def test_the_front_door_leads_to_the_docs(client: TestClient):
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 307
    assert client.get("/").url.path == "/docs"
    assert "/" not in client.get("/openapi.json").json()["paths"]  # a door, not an endpoint


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_docs_comes_from_the_api(client: TestClient, page: str):
    html = client.get(page)
    assert html.status_code == 200
    assets = ASSET.findall(html.text)
    assert assets, f"{page} references no script or style"
    for asset in assets:
        assert urlparse(asset).netloc == "", f"{page} loads {asset} from another host"
        served = client.get(urljoin(page, asset))
        assert served.status_code == 200 and len(served.content) > 1000, asset
    assert "fonts.googleapis" not in html.text and "cdn." not in html.text


def test_redoc_keeps_the_browser_on_the_api_files(client: TestClient):
    policy = client.get("/redoc").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy


def _documented_requests(schema: dict) -> Iterator[tuple[str, str, dict]]:
    """(method, url, httpx options) for every operation whose request the schema gives an example of: a
    body example, or an example for each path parameter."""
    bodies = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            in_path = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            # FastAPI puts a path parameter's examples on the parameter or on its schema
            given = {p["name"]: p.get("examples") or p.get("schema", {}).get("examples") for p in in_path}
            values = {name: examples[0] for name, examples in given.items() if examples}
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            examples = bodies[body["schema"]["$ref"].rsplit("/", 1)[-1]].get("examples", []) if body else []
            if len(values) < len(in_path) or (body and not examples) or not (in_path or body):
                continue
            for example in examples or [None]:
                yield method.upper(), path.format(**values), {} if example is None else {"json": example}


@pytest.fixture(scope="module")
def demo_api(served_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ovni serve` on the session's served home: demo data made by the real CLI."""
    server = start_api(served_home, tmp_path_factory.mktemp("docs_api_logs"))
    yield server
    server.stop()


@pytest.mark.slow
def test_the_documented_examples_answer_on_the_demo_data(demo_api: Server):
    with httpx.Client(base_url=demo_api.url, timeout=30.0, trust_env=False) as http:
        schema = http.get("/openapi.json").json()
        requests = list(_documented_requests(schema))
        ran = {(method, url) for method, url, _ in requests}
        assert ("POST", "/predict") in ran and ("POST", "/predict/features") in ran
        assert any(url.endswith("/recommendations") for _, url in ran)
        assert any(url.endswith("/features") and method == "GET" for method, url in ran)
        for method, url, options in requests:
            answer = http.request(method, url, **options)
            assert answer.status_code == 200, f"{method} {url}: {answer.status_code} {answer.text[:300]}"
        scored = http.post("/predict", json=requests_body(requests, "/predict")).json()["predictions"]
        assert any(not p["cold_start"] for p in scored)  # a real candidate pair, not only cold start


def requests_body(requests: list[tuple[str, str, dict]], path: str) -> dict:
    return next(options["json"] for method, url, options in requests if method == "POST" and url == path)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize(("page", "rendered"), [("/docs", ".swagger-ui .opblock"), ("/redoc", "h1")])
def test_the_docs_render_in_chromium_from_the_api_alone(demo_api: Server, page: str, rendered: str):
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            elsewhere: list[str] = []
            blocked: list[str] = []  # stopped by the page's content policy before leaving the browser
            failed: list[str] = []
            tab.on(
                "request",
                lambda request: (
                    elsewhere.append(request.url)
                    if urlparse(request.url).scheme in {"http", "https"}
                    and urlparse(request.url).hostname not in LOCAL_HOSTS
                    else None
                ),
            )
            tab.on(
                "requestfailed",
                lambda request: (blocked if request.failure == "csp" else failed).append(request.url),
            )
            tab.goto(demo_api.url + "/", wait_until="networkidle")
            if page == "/redoc":
                tab.goto(demo_api.url + page, wait_until="networkidle")
            assert urlparse(tab.url).path == page
            expect(tab.locator(rendered).first).to_be_visible(timeout=60_000)
            expect(tab.get_by_text("OVNI API").first).to_be_visible()
            expect(tab.get_by_text("/predict/features").first).to_be_visible()
            assert set(elsewhere) <= set(blocked) and failed == []
        finally:
            browser.close()
