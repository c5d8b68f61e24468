"""The app's functions called through gradio_client on a real `ovni ui` process backed by a real API."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from ovni_ui import views
from ovni_ui.i18n import Texts
from ovni_ui.whatif import BEHAVIOURS, readable_behaviours, simulated_row

from .conftest import STALE_DAYS, served_week

pytestmark = pytest.mark.slow

PRODUCT_ROW = re.compile(r'data-product-id="(\d+)"')
MODEL_PILL = re.compile(r'data-model-version="([^"]+)"')


@pytest.fixture(scope="module")
def client(ui_server, tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(
        ui_server.url + "/",
        verbose=False,
        analytics_enabled=False,
        download_files=str(tmp_path_factory.mktemp("gradio_downloads")),
    )


@pytest.fixture(scope="module")
def english_client(ui_server, tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(
        ui_server.url + "/en/",
        verbose=False,
        analytics_enabled=False,
        download_files=str(tmp_path_factory.mktemp("gradio_downloads_en")),
    )


@pytest.fixture(scope="module")
def week(api: httpx.Client) -> str:
    return str(api.get("/ready").json()["week_start"])


@pytest.fixture(scope="module")
def customer_id(api: httpx.Client, week: str) -> int:
    """A customer with a full candidate list in the served week."""
    items = api.get("/predictions", params={"week_start": week, "limit": 1000}).json()["items"]
    counts: dict[int, int] = {}
    for item in items:
        counts[item["customer_id"]] = counts.get(item["customer_id"], 0) + 1
    return max(counts, key=lambda c: (counts[c], -c))


def test_every_handler_is_exposed_by_name(client: Client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/load_page", "/recommend", "/consult", "/simulate", "/explore", "/monitoring"} <= set(endpoints)


def test_page_load_reports_the_served_model_and_lists_every_customer(client: Client, api: httpx.Client, week):
    status, customers, *_ = client.predict(api_name="/load_page")
    version = api.get("/model").json()["version"]
    assert f"v{version}" in status and week in status
    customer_ids = [value for _label, value in customers["choices"]]
    listed = api.get("/customers", params={"limit": 1000}).json()
    assert customer_ids == [item["customer_id"] for item in listed["items"]]
    assert len(customer_ids) == listed["total"]
    served = api.get("/predictions", params={"week_start": week, "limit": 1000}).json()
    assert {item["customer_id"] for item in served["items"]} <= set(customer_ids)


def test_a_stale_week_is_noticed_under_the_status_on_the_first_screen(
    client: Client, english_client: Client, api: httpx.Client, served_home
):
    ready = api.get("/ready").json()
    assert (ready["status"], ready["fresh"], ready["stale_days"]) == ("ready", False, STALE_DAYS)
    week = served_week(served_home)
    status, *_ = client.predict(api_name="/load_page")
    assert "ovni-banner ok" in status  # still served
    es_date = Texts("es").long_date(week)
    assert re.fullmatch(r"\d{1,2} de [a-z]+ de \d{4}", es_date)
    assert (
        f"Las predicciones servidas son de la semana del {es_date}; llevan {STALE_DAYS} días de atraso: "
        "revise la llegada de datos."
    ) in status
    assert f'data-stale-days="{STALE_DAYS}"' in status and 'role="alert"' in status
    status, *_ = english_client.predict(api_name="/load_page")
    assert (
        f"The served predictions are for the week of {Texts('en').long_date(week)}; they are "
        f"{STALE_DAYS} days late: check that the data has arrived."
    ) in status


def test_recommendations_are_the_rows_the_api_returns(client: Client, api: httpx.Client, customer_id: int):
    status, message, card, table = client.predict(customer_id, 5, api_name="/recommend")
    expected = api.get(f"/customers/{customer_id}/recommendations", params={"k": 5, "lang": "es"}).json()
    assert "ovni-banner ok" in status and f"modelo v{expected['model_version']}" in status
    passing = sum(r["will_buy"] for r in expected["recommendations"])
    threshold = Texts("es").percent(api.get("/model").json()["threshold"])
    if passing:
        assert f"{passing} de 5 superan el umbral de decisión ({threshold})" in message
    else:
        assert f"Ninguno supera el umbral de decisión ({threshold})" in message
    assert [int(p) for p in PRODUCT_ROW.findall(table)] == [
        r["product_id"] for r in expected["recommendations"]
    ]
    assert MODEL_PILL.findall(table) == [expected["model_version"]]
    assert str(expected["week_start"]) in table
    for reason in expected["recommendations"][0]["reasons"]:
        assert reason in table.replace("&#x27;", "'")
    customer_type = api.get(f"/customers/{customer_id}").json()["attributes"]["customer_type"]
    assert f"Cliente {customer_id}" in card and customer_type in card


def test_an_unknown_customer_is_said_in_the_page_language(client: Client, english_client: Client):
    status, message, card, table = client.predict(987654321, 5, api_name="/recommend")
    assert "El cliente 987654321 no está en las predicciones publicadas." in message
    assert "ovni-banner error" in message and "unknown" not in message
    assert (card, table) == ("", "")
    assert "ovni-banner ok" in status  # the API answered: the service is up
    _status, message, *_ = english_client.predict(987654321, 5, api_name="/recommend")
    assert "Customer 987654321 is not in the published predictions." in message


def test_an_unknown_product_is_named_in_the_look_up(client: Client, customer_id: int):
    _status, message, result, *_ = client.predict(customer_id, 987654321, api_name="/consult")
    assert "El producto 987654321 no está en las predicciones publicadas." in message
    assert result == ""


def test_fewer_candidates_than_asked_and_none_above_the_threshold_are_said(
    client: Client, api: httpx.Client, week: str
):
    items = api.get("/predictions", params={"week_start": week, "limit": 1000}).json()["items"]
    counts: dict[int, int] = {}
    for item in items:
        counts[item["customer_id"]] = counts.get(item["customer_id"], 0) + 1
    few = min(counts, key=lambda c: (counts[c], c))
    assert counts[few] < 20
    _status, message, _card, table = client.predict(few, 20, api_name="/recommend")
    assert f"Este cliente tiene sólo {counts[few]} productos candidatos esta semana (pidió 20)" in message
    assert len(PRODUCT_ROW.findall(table)) == counts[few]
    buyers = {item["customer_id"] for item in items if item["will_buy"]}
    nobody = min(c for c in counts if c not in buyers)
    _status, message, *_ = client.predict(nobody, 5, api_name="/recommend")
    assert "Ninguno supera el umbral de decisión" in message


def _top_product(api: httpx.Client, customer_id: int) -> dict:
    return api.get(f"/customers/{customer_id}/recommendations", params={"k": 1}).json()["recommendations"][0]


def test_look_up_matches_predict_with_the_reasons(client: Client, api: httpx.Client, customer_id: int):
    top = _top_product(api, customer_id)
    pair = {"customer_id": customer_id, "product_id": top["product_id"]}
    probability = api.post("/predict", json={"pairs": [pair]}).json()["predictions"][0]["probability"]
    _status, message, result, _whatif_message, _whatif_result, *_values = client.predict(
        customer_id, top["product_id"], api_name="/consult"
    )
    assert message == ""
    assert Texts("es").percent(probability) in result
    assert f"Cliente {customer_id} y producto {top['product_id']}" in result
    for reason in top["reasons"]:
        assert reason in result.replace("&#x27;", "'")


def test_look_up_of_a_pair_never_bought_still_answers(client: Client, api: httpx.Client, customer_id: int):
    candidates = {
        item["product_id"]
        for item in api.get("/predictions", params={"customer_id": customer_id, "limit": 1000}).json()[
            "items"
        ]
    }
    week = api.get("/ready").json()["week_start"]
    others = api.get("/predictions", params={"week_start": week, "limit": 1000}).json()["items"]
    product_id = next(item["product_id"] for item in others if item["product_id"] not in candidates)
    _status, message, result, *_ = client.predict(customer_id, product_id, api_name="/consult")
    assert message == "" and "ovni-pair-result" in result


def test_the_what_if_starts_from_readable_values_and_scores_the_consistent_row(
    client: Client, api: httpx.Client, customer_id: int
):
    top = _top_product(api, customer_id)
    row = api.get(f"/customers/{customer_id}/products/{top['product_id']}/features").json()["features"]
    _status, _message, _result, whatif_message, whatif_result, *start = client.predict(
        customer_id, top["product_id"], api_name="/consult"
    )
    assert whatif_message == "" and whatif_result == ""
    assert start == [readable_behaviours(row)[name] for name in BEHAVIOURS]
    assert start[0] == row["weeks_since_last"] + 1  # 1 = bought last week, as the reasons say
    edits = dict(zip(BEHAVIOURS, start, strict=True)) | {"weeks_ago": 10}
    expected_row = simulated_row(row, edits).row
    assert expected_row["bought_w1"] == 0 and expected_row["days_since_last"] >= 63
    expected = api.post("/predict/features", json={"rows": [expected_row]}).json()["predictions"][0]
    _status, message, simulated, *used = client.predict(*edits.values(), api_name="/simulate")
    assert Texts("es").percent(expected["probability"]) in simulated
    assert Texts("es").percent(top["probability"]) in simulated  # the value before the change
    assert used[0] == 10 and used[1] == 0  # no purchase in the last 4 weeks fits 10 weeks without buying
    assert ("ovni-banner" in message) == (start[1] != 0)  # the moved value is said


def test_explore_summarises_the_batch_and_the_csv_has_every_row(client: Client, api: httpx.Client, week: str):
    _status, message, summary, histogram, expected, table, download = client.predict(
        week, "", "", "", False, api_name="/explore"
    )
    total = api.get("/predictions", params={"week_start": week, "limit": 1}).json()["total"]
    assert "ovni-banner error" not in message
    assert f">{Texts('es').number(total, 0)}<" in summary
    bins = chart_rows(histogram)
    assert sum(row["y"] for row in bins) == total
    assert all(row["y_text"] == Texts("es").number(row["y"], 0) for row in bins)
    products = chart_rows(expected)
    assert 0 < len(products) <= 15
    assert all(re.fullmatch(r"[\d\u202f]+,\d", row["y_text"]) for row in products)  # decimal comma
    assert len(table["data"]) == min(total, 300)
    probability = table["headers"].index("Probabilidad")
    assert all(re.fullmatch(r"\d{1,3},\d %", row[probability]) for row in table["data"])
    raw = Path(download["value"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the accents
    with Path(download["value"]).open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) == total
    assert list(rows[0]) == table["headers"]
    assert all(re.fullmatch(r"\d(,\d+)?", row["Probabilidad"]) for row in rows)


def test_the_english_csv_uses_commas_and_decimal_points(english_client: Client, week: str):
    *_, download = english_client.predict(week, "", "", "", False, api_name="/explore")
    with Path(download["value"]).open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(re.fullmatch(r"\d(\.\d+)?", row["Probability"]) for row in rows)


def test_explore_filters_by_customer_type(client: Client, api: httpx.Client, week: str, customer_id: int):
    customer_type = api.get(f"/customers/{customer_id}").json()["attributes"]["customer_type"]
    *_, table, _download = client.predict(week, customer_type, "", "", False, api_name="/explore")
    type_column = table["headers"].index("Tipo de cliente")
    assert table["data"] and {row[type_column] for row in table["data"]} == {customer_type}


def test_explore_offers_and_reads_a_past_week(client: Client, api: httpx.Client, week: str):
    _status, _customers, _consult_customers, _products, weeks, *_ = client.predict(api_name="/load_page")
    past = [choice for _label, choice in weeks["choices"] if choice != week]
    scored = {str(q["week_start"])[:10] for q in api.get("/quality").json()["items"]}
    assert scored and set(past) == scored
    total = api.get("/predictions", params={"week_start": past[0], "limit": 1}).json()["total"]
    _status, message, summary, *_ = client.predict(past[0], "", "", "", False, api_name="/explore")
    assert "ovni-banner error" not in message
    assert total > 0 and f">{Texts('es').number(total, 0)}<" in summary


def test_explore_with_a_bad_week_says_so_in_spanish(client: Client):
    _status, message, *_ = client.predict("not-a-week", "", "", "", False, api_name="/explore")
    assert "ovni-banner error" in message and "No hay predicciones guardadas para la semana" in message


def shown_plot(output: dict | None) -> dict | None:
    """A chart output as gradio_client returns it: the plot's value, None when it is hidden or empty."""
    if isinstance(output, dict) and output.get("__type__") == "update":
        return output["value"] if output.get("visible") else None
    return output


def chart_rows(output: dict | None) -> list[dict]:
    """The data rows of a shown chart (the values of its Vega-Lite specification); none when hidden."""
    plot = shown_plot(output)
    return json.loads(plot["plot"])["data"]["values"] if plot else []


def test_monitoring_shows_the_champion_and_drift(client: Client, api: httpx.Client):
    _status, message, champion, versions, quality_note, quality, drift_note, drift, alerts = client.predict(
        api_name="/monitoring"
    )
    assert alerts == views.alert_delivery(Texts("es"), api.get("/alerts").json())
    quality, drift = chart_rows(quality), chart_rows(drift)
    assert "ovni-banner error" not in message
    assert f"llevan {STALE_DAYS} días de atraso" in message  # the served week's state, in this tab too
    model = api.get("/model").json()
    assert f"v{model['version']}" in champion
    threshold = Texts("es").percent(model["threshold"])
    assert threshold in champion and model["training_snapshot_id"] not in champion
    assert {row[6] for row in versions["data"] if row[1] == "★"} == {threshold}
    champion_row = next(row for row in versions["data"] if row[1] == "★")
    assert champion_row[2] in champion  # one training time per version
    registered = api.get("/model/versions").json()["items"]
    assert [row[0] for row in versions["data"]] == [f"v{v['model_version']}" for v in registered]
    assert [row[1] for row in versions["data"]] == ["★" if v["is_champion"] else "" for v in registered]
    assert f"v{model['version']}" in {
        row[0] for row, v in zip(versions["data"], registered, strict=True) if v["is_champion"]
    }
    drift_report = api.get("/drift").json()
    flagged_names = {f["feature"] for f in drift_report["features"] if f["drifted"]}
    charted = {row["x"] for row in drift}
    assert len(charted) == min(len(drift_report["features"]), max(15, len(flagged_names)))
    assert flagged_names <= charted
    assert {row["x"] for row in drift if row["status"] == "Marcada"} == flagged_names
    assert all(row["y_text"] == Texts("es").number(row["y"], 2) for row in drift)  # 0,25 in the tooltip
    reasons = {row["status"] for row in drift} - {"Marcada"}
    assert reasons <= {Texts("es")(key) for key in ("stable_small", "stable_unconfirmed", "stable_ordinary")}
    for feature in drift_report["features"]:
        if not feature["drifted"] and (feature["psi"] or 0) >= 0.2:
            assert (
                next(row["status"] for row in drift if row["x"] == feature["feature"])
                != "Estable: cambio pequeño"
            )
    if drift_report["features"]:
        flagged = sum(bool(f["drifted"]) for f in drift_report["features"])
        assert f"{flagged} de {len(drift_report['features'])} variables marcadas" in drift_note
        assert "la prueba estadística confirma el cambio" in drift_note
    scored_weeks = [q for q in api.get("/quality").json()["items"] if q["f1"] is not None]
    if len(scored_weeks) == 1:  # one point draws no line: the note says so and compares with validation
        assert quality == [] and "Una sola semana evaluada" in quality_note
        val_f1 = next(
            v["val_f1"] for v in registered if v["model_version"] == scored_weeks[0]["model_version"]
        )
        assert Texts("es").number(val_f1, 3) in quality_note
    else:
        assert len(quality) == 2 * len(scored_weeks)  # realized and validation F1 per week
        realized = {str(q["week_start"])[:10]: q["f1"] for q in scored_weeks}
        for row in quality:  # whole percents
            assert isinstance(row["f1"], int) and 0 <= row["f1"] <= 100
            if row["series"] == "F1 real":
                assert row["f1"] == round(100 * realized[row["week"]])


def test_the_english_page_speaks_english(english_client: Client, customer_id: int):
    _status, message, card, table = english_client.predict(customer_id, 3, api_name="/recommend")
    assert "of 3 are above the decision threshold" in message or "None is above" in message
    assert "What to offer customer" in table and f"Customer {customer_id}" in card
    assert len(PRODUCT_ROW.findall(table)) == 3
