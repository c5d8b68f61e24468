"""The HTTP client: down, silent and refusing APIs become the two friendly error types."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import httpx
import pytest

from ovni_ui.api_client import ApiRequestError, ApiUnavailable, OvniApiClient
from ovni_ui.app import render_tabs
from ovni_ui.i18n import Texts
from ovni_ui.page import OvniPage
from ovni_ui.tabs.consult import ConsultTab
from ovni_ui.tabs.explore import ExploreTab
from ovni_ui.tabs.model import ModelTab
from ovni_ui.tabs.recommend import RecommendTab

from .conftest import free_port


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a hung API)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_nobody_listening_is_unavailable():
    client = OvniApiClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ApiUnavailable):
        client.ready()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_an_api_with_nothing_published_yet_reads_as_preparing(lang: str, tmp_path: Path):
    class Preparing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "preparing", "errors": {"snapshot": "no serving snapshot"}})
            self.send_response(503)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Preparing) as api:
        threading.Thread(target=api.serve_forever, daemon=True).start()
        tr = Texts(lang)
        page = OvniPage(OvniApiClient(f"http://127.0.0.1:{api.server_address[1]}"), tr, tmp_path)
        with pytest.raises(ApiUnavailable) as raised:
            page.api.ready()
        assert raised.value.preparing and raised.value.status_code == 503
        assert tr("api_preparing") in page.status() and "ovni-banner error" in page.status()
        api.shutdown()


def test_a_hung_api_times_out_as_unavailable(silent_server: str):
    client = OvniApiClient(silent_server, timeout=httpx.Timeout(1.0))
    with pytest.raises(ApiUnavailable, match="timeout"):
        client.model()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_handlers_answer_with_the_friendly_message_when_the_api_is_down(lang: str, tmp_path: Path):
    tr = Texts(lang)
    page = OvniPage(OvniApiClient(f"http://127.0.0.1:{free_port()}"), tr, tmp_path)
    status, message, card, table = RecommendTab(page).recommend(12, 5)
    assert tr("api_down") in message and (card, table) == ("", "")
    assert "ovni-banner error" in status and tr("api_down") in status  # the header follows the call
    for status, message, *_ in (
        ModelTab(page).monitoring(),
        ConsultTab(page).consult(1, 2),
        ExploreTab(page).explore("2024-05-20", "", "", "", False),
    ):
        assert tr("api_down") in status and tr("api_down") in message
    with gr.Blocks():
        page_load = render_tabs(page, gr.HTML())
    assert tr("api_down") in page_load.load()[0]


def test_a_missing_choice_asks_for_one_without_calling_the_api(tmp_path: Path):
    tr = Texts("es")
    page = OvniPage(OvniApiClient(f"http://127.0.0.1:{free_port()}"), tr, tmp_path)
    assert tr("pick_customer") in RecommendTab(page).recommend(None, 5)[1]
    assert tr("pick_pair") in ConsultTab(page).consult(3, None)[1]
    assert tr("whatif_pick_first") in ConsultTab(page).simulate(None, 1, 2, 3, 4, 5, 6)[1]


@pytest.mark.slow
def test_the_real_api_answers_and_refusals_carry_its_detail(api_server):
    client = OvniApiClient(api_server.url)
    ready = client.ready()
    assert ready["status"] == "ready"
    assert client.model()["version"] == ready["model_version"]
    with pytest.raises(ApiRequestError) as refused:
        client.recommendations(987_654_321, 5, "es")
    assert refused.value.status_code == 404
    assert "987654321" in refused.value.detail
    with pytest.raises(ApiRequestError) as invalid:
        client.recommendations(1, 0, "es")
    assert invalid.value.status_code == 422
    with pytest.raises(ApiRequestError, match="unknown customer_type 'ASTRONAUT'"):
        client.customers(customer_type="ASTRONAUT")
    first, second = client.customers(limit=2), client.customers(limit=2, offset=2)
    assert first["total"] == second["total"] and len(first["items"]) == 2
    assert first["items"][-1]["customer_id"] < second["items"][0]["customer_id"]
    assert client.products(limit=1000)["total"] == len(client.products(limit=1000)["items"])
    assert any(
        v["is_champion"] and v["model_version"] == ready["model_version"] for v in client.model_versions()
    )
