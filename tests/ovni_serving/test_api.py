"""Every endpoint and its errors, with FastAPI's TestClient over a real snapshot and MLflow registry."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from builders import FEATURES, TARGET_WEEK, load_version
from fastapi.testclient import TestClient

from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app
from ovni_serving.schemas import MAX_PAIRS


def snapshot_frame(served, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(served.settings.serving_path), read_only=True)
    try:
        return con.execute(sql).fetchdf()
    finally:
        con.close()


def candidate(served) -> tuple[int, int]:
    row = served.world.features.iloc[0]
    return int(row["customer_id"]), int(row["product_id"])


# --- health, readiness, model -------------------------------------------------------------------------


def test_health_answers_while_nothing_is_loaded(new_home):
    with TestClient(create_app(new_home(), poll=False)) as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_ready_is_503_with_reasons_until_a_model_and_snapshot_exist(new_home):
    app = create_app(new_home(), poll=False)
    app.state.store.refresh()
    with TestClient(app) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "loading" and body["model_version"] is None
        assert "no serving snapshot" in body["errors"]["snapshot"]
        assert "ovni-purchase@champion" in body["errors"]["registry"]
        for path in (
            "/model",
            "/model/versions",
            "/drift",
            "/quality",
            "/predictions",
            "/customers",
            "/products",
            "/customers/1/recommendations",
        ):
            not_ready = client.get(path)
            assert not_ready.status_code == 503, path
            assert "GET /ready" in not_ready.json()["detail"]
        assert (
            client.post("/predict", json={"pairs": [{"customer_id": 1, "product_id": 2}]}).status_code == 503
        )


def test_ready_names_the_served_version_and_week(client, served):
    body = client.get("/ready").json()
    assert body == {
        "status": "ready",
        "model_version": served.version,
        "week_start": str(TARGET_WEEK),
        "data_through": None,  # the test snapshot does not say
        "week_in_progress": False,
        "snapshot_created_at": "2024-10-06T22:00:00",
        "errors": {},
    }


def test_model_describes_the_champion(client, served):
    body = client.get("/model").json()
    assert body["name"] == "ovni-purchase"
    assert body["version"] == served.version
    assert body["threshold"] == pytest.approx(served.threshold)
    assert body["training_snapshot_id"] == "snap-0"
    assert body["metrics"]["val_f1"] == pytest.approx(0.6)
    assert body["features"] == FEATURES
    assert len(body["run_id"]) == 32 and body["trained_at"]


# --- /predict -----------------------------------------------------------------------------------------


def test_predict_answers_candidates_with_the_batch_probability(client, served):
    customer_id, product_id = candidate(served)
    response = client.post(
        "/predict", json={"pairs": [{"customer_id": customer_id, "product_id": product_id}]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == served.version and body["week_start"] == str(TARGET_WEEK)
    batch = snapshot_frame(
        served,
        f"SELECT probability, will_buy FROM latest_predictions WHERE week_start = DATE '{TARGET_WEEK}' "
        f"AND customer_id = {customer_id} AND product_id = {product_id}",
    )
    [prediction] = body["predictions"]
    assert prediction["probability"] == pytest.approx(batch["probability"][0])
    assert prediction["will_buy"] == bool(batch["will_buy"][0])
    assert prediction["cold_start"] is False


def test_predict_scores_a_never_seen_pair_from_cold_start_features(client, served):
    customer_id, product_id = served.world.non_candidate_pair
    features = served.world.features
    own = features[features["customer_id"] == customer_id].iloc[0]
    product = features[features["product_id"] == product_id].iloc[0]
    same_type = features[
        (features["customer_type"] == own["customer_type"]) & (features["product_id"] == product_id)
    ]
    expected_row = pd.DataFrame(
        [
            {  # like the pipeline's discovery rows: no history of the pair
                "weeks_since_last": np.nan,
                "bought_w4": 0.0,
                "bought_w8": 0.0,
                "units_w4": 0.0,
                "mean_gap_weeks": np.nan,
                "cust_active_w4": own["cust_active_w4"],
                "cust_weeks_since_last": own["cust_weeks_since_last"],
                "prod_customers_w4": product["prod_customers_w4"],
                "type_share_w8": same_type["type_share_w8"].iloc[0] if len(same_type) else 0.0,
                "num_deliver_per_week": own["num_deliver_per_week"],
                "size": product["size"],
                "customer_type": own["customer_type"],
                "segment": product["segment"],
                "is_discovery": "yes",
            }
        ]
    )
    expected = load_version(served.settings, served.version).predict_proba(expected_row)[0, 1]
    body = client.post(
        "/predict", json={"pairs": [{"customer_id": customer_id, "product_id": product_id}]}
    ).json()
    [prediction] = body["predictions"]
    assert prediction["cold_start"] is True
    assert prediction["probability"] == pytest.approx(expected)
    assert prediction["will_buy"] == (expected >= served.threshold)


def test_cold_start_for_a_customer_without_candidates_uses_the_customer_table(client, served):
    customer_id = served.world.customer_without_candidates
    product_id = int(served.world.products["product_id"].iloc[0])
    app = client.app
    row = app.state.store.bundle.cold_start.row(customer_id, product_id).iloc[0]
    customer = served.world.customers.set_index("customer_id").loc[customer_id]
    assert row["customer_type"] == customer["customer_type"]
    assert row["num_deliver_per_week"] == customer["num_deliver_per_week"]
    assert row["cust_active_w4"] == 0.0  # no recent activity
    assert row["cust_weeks_since_last"] == served.world.features["cust_weeks_since_last"].max()
    assert row["is_discovery"] == "yes" and row["bought_w8"] == 0.0


def test_predict_keeps_the_order_and_duplicates_of_the_request(client, served):
    first = candidate(served)
    cold = served.world.non_candidate_pair
    lonely = (served.world.customer_without_candidates, first[1])
    pairs = [first, cold, lonely, first]
    body = client.post(
        "/predict", json={"pairs": [{"customer_id": c, "product_id": p} for c, p in pairs]}
    ).json()
    assert [(p["customer_id"], p["product_id"]) for p in body["predictions"]] == pairs
    assert [p["cold_start"] for p in body["predictions"]] == [False, True, True, False]
    assert all(0.0 <= p["probability"] <= 1.0 for p in body["predictions"])


def test_predict_accepts_the_target_week_and_refuses_another(client, served):
    pair = dict(zip(("customer_id", "product_id"), candidate(served), strict=True))
    assert client.post("/predict", json={"pairs": [pair], "week_start": str(TARGET_WEEK)}).status_code == 200
    past = TARGET_WEEK - timedelta(days=7)
    response = client.post("/predict", json={"pairs": [pair], "week_start": str(past)})
    assert response.status_code == 422
    assert f"GET /predictions?week_start={past}" in response.json()["detail"]


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ({"customer_id": 999_999, "product_id": 101}, "unknown customer_id 999999"),
        ({"customer_id": 1, "product_id": 5}, "unknown product_id 5"),
    ],
)
def test_predict_unknown_ids_are_404_with_the_id(client, pair, message):
    response = client.post("/predict", json={"pairs": [pair]})
    assert response.status_code == 404
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"pairs": []}, "pairs: List should have at least 1 item"),
        ({"pairs": [{"customer_id": 1, "product_id": 101}] * (MAX_PAIRS + 1)}, f"at most {MAX_PAIRS} items"),
        (
            {"pairs": [{"customer_id": "abc", "product_id": 101}]},
            "pairs.0.customer_id: Input should be a valid integer",
        ),
        (
            {"pairs": [{"customer_id": -1, "product_id": 101}]},
            "pairs.0.customer_id: Input should be greater than",
        ),
        ({"pairs": [{"customer_id": 1}]}, "pairs.0.product_id: Field required"),
        ({"pairs": [{"customer_id": 1, "product_id": 101}], "week_start": "monday"}, "week_start"),
        ({}, "pairs: Field required"),
        ([1, 2], "Input should be a valid dictionary"),
    ],
)
def test_predict_bad_bodies_are_422_in_words(client, body, fragment):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_predict_malformed_json_is_422(client):
    response = client.post("/predict", content=b'{"pairs": [', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "the body is not valid JSON"


# --- /predict/features --------------------------------------------------------------------------------


def feature_rows(served, n: int = 3) -> list[dict]:
    frame = served.world.features[FEATURES].head(n)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_predict_features_scores_rows_like_the_model(client, served):
    rows = feature_rows(served)
    rows[0] = {**rows[0], "bought_w4": 4, "weeks_since_last": 0.0}
    rows[1] = {**rows[1], "weeks_since_last": None, "mean_gap_weeks": None}
    body = client.post("/predict/features", json={"rows": rows}).json()
    frame = pd.DataFrame(rows)[FEATURES].fillna(np.nan).infer_objects()
    expected = load_version(served.settings, served.version).predict_proba(frame)[:, 1]
    assert body["model_version"] == served.version
    assert body["threshold"] == pytest.approx(served.threshold)
    assert [p["probability"] for p in body["predictions"]] == pytest.approx(list(expected))
    assert [p["will_buy"] for p in body["predictions"]] == [bool(e >= served.threshold) for e in expected]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda row: row.pop("units_w4"), "row 0: missing feature(s) units_w4"),
        (lambda row: row.update(colour="red"), "row 0: unknown feature(s) colour"),
        (lambda row: row.update(units_w4="many"), "feature 'units_w4': expected a number"),
        (lambda row: row.update(customer_type=3), "feature 'customer_type': expected text"),
        (lambda row: row.update(units_w4=True), "expected a number"),
    ],
)
def test_predict_features_rows_must_fit_the_signature(client, served, change, fragment):
    rows = feature_rows(served, 1)
    change(rows[0])
    response = client.post("/predict/features", json={"rows": rows})
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_predict_features_limits_the_number_of_rows(client, served):
    rows = feature_rows(served, 1) * 1001
    response = client.post("/predict/features", json={"rows": rows})
    assert response.status_code == 422 and "at most 1000 items" in response.json()["detail"]


# --- recommendations ----------------------------------------------------------------------------------


def test_recommendations_are_the_customers_top_k_of_the_latest_batch(client, served):
    customer_id = candidate(served)[0]
    body = client.get(f"/customers/{customer_id}/recommendations", params={"k": 3}).json()
    batch = snapshot_frame(
        served,
        "SELECT product_id, probability, rank FROM latest_predictions "
        f"WHERE week_start = DATE '{TARGET_WEEK}' AND customer_id = {customer_id} "
        "ORDER BY probability DESC, product_id LIMIT 3",
    )
    assert body["customer_id"] == customer_id and body["model_version"] == served.version
    assert body["week_start"] == str(TARGET_WEEK) and body["lang"] == "es"
    items = body["recommendations"]
    assert [r["product_id"] for r in items] == batch["product_id"].tolist()
    assert [r["probability"] for r in items] == pytest.approx(batch["probability"].tolist())
    assert [r["rank"] for r in items] == [1, 2, 3]
    assert all(r["reasons"] for r in items)


def recommendation_of(client, customer_id: int, product_id: int, lang: str) -> dict:
    body = client.get(f"/customers/{customer_id}/recommendations", params={"k": 100, "lang": lang}).json()
    return next(r for r in body["recommendations"] if r["product_id"] == product_id)


def test_recommendation_reasons_speak_spanish_or_english(client, served):
    features = served.world.features
    row = features[(features["bought_w4"] == 3) & (features["weeks_since_last"] == 0)].iloc[0]
    customer_id, product_id = int(row["customer_id"]), int(row["product_id"])
    gap = f"{row['mean_gap_weeks']:.1f}".removesuffix(".0")
    es = recommendation_of(client, customer_id, product_id, "es")["reasons"]
    assert es[:3] == [
        "compró en 3 de las últimas 4 semanas",
        "última compra la semana pasada",
        f"suele comprarlo cada {gap.replace('.', ',')} semanas",
    ]
    assert es[3].startswith("probabilidad ") and "umbral del modelo (40,0 %)" in es[3]
    en = recommendation_of(client, customer_id, product_id, "en")["reasons"]
    assert en[:3] == [
        "bought in 3 of the last 4 weeks",
        "last purchase last week",
        f"usually buys it every {gap} weeks",
    ]
    assert en[3].startswith("probability ") and "threshold (40.0%)" in en[3]


def test_reasons_for_a_never_bought_candidate_cite_similar_customers(client, served):
    features = served.world.features
    row = features[(features["is_discovery"] == "yes") & (features["type_share_w8"] > 0)].iloc[0]
    es = recommendation_of(client, int(row["customer_id"]), int(row["product_id"]), "es")["reasons"]
    share = f"{row['type_share_w8']:.0%}"
    assert (
        es[0] == f"nunca lo ha comprado; lo compra el {share} de los clientes {row['customer_type']} activos"
    )
    en = recommendation_of(client, int(row["customer_id"]), int(row["product_id"]), "en")["reasons"]
    assert en[0] == f"never bought it; {share} of active {row['customer_type']} customers buy it"


def test_recommendations_for_a_customer_without_candidates_are_empty(client, served):
    body = client.get(f"/customers/{served.world.customer_without_candidates}/recommendations").json()
    assert body["recommendations"] == []


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/customers/999999/recommendations", 404, "unknown customer_id 999999"),
        ("/customers/1/recommendations?k=0", 422, "k: Input should be greater than or equal to 1"),
        ("/customers/1/recommendations?k=101", 422, "k: Input should be less than or equal to 100"),
        ("/customers/1/recommendations?lang=fr", 422, "lang: Input should be 'es' or 'en'"),
        ("/customers/abc/recommendations", 422, "customer_id: Input should be a valid integer"),
    ],
)
def test_recommendations_errors(client, path, status, fragment):
    response = client.get(path)
    assert response.status_code == status
    assert fragment in response.json()["detail"]


# --- catalog ------------------------------------------------------------------------------------------


def test_predictions_are_filtered_and_paged(client, served):
    customer_id = candidate(served)[0]
    everything = client.get("/predictions", params={"limit": 1000}).json()
    total = int(snapshot_frame(served, "SELECT count(*) AS n FROM latest_predictions")["n"][0])
    assert everything["total"] == total
    weeks = [item["week_start"] for item in everything["items"]]
    assert weeks == sorted(weeks, reverse=True)

    mine = client.get(
        "/predictions", params={"customer_id": customer_id, "week_start": str(TARGET_WEEK)}
    ).json()
    expected = snapshot_frame(
        served,
        f"SELECT product_id FROM latest_predictions WHERE customer_id = {customer_id} "
        f"AND week_start = DATE '{TARGET_WEEK}' ORDER BY rank",
    )
    assert [item["product_id"] for item in mine["items"]] == expected["product_id"].tolist()
    assert {item["batch_id"] for item in mine["items"]} == {f"batch-{served.version}-{TARGET_WEEK}"}

    page = client.get(
        "/predictions",
        params={"customer_id": customer_id, "week_start": str(TARGET_WEEK), "limit": 2, "offset": 1},
    ).json()
    assert page["total"] == mine["total"] and page["items"] == mine["items"][1:3]
    buyers = client.get("/predictions", params={"will_buy": True, "limit": 1000}).json()
    assert buyers["items"] and all(item["will_buy"] for item in buyers["items"])
    assert client.get("/predictions", params={"week_start": "2001-01-01"}).json()["total"] == 0


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=1001", "offset=-1", "week_start=yesterday", "will_buy=maybe"]
)
def test_predictions_bad_queries_are_422(client, query):
    response = client.get(f"/predictions?{query}")
    assert response.status_code == 422 and response.json()["detail"]


def test_customer_and_product(client, served):
    customer_id, product_id = candidate(served)
    customer = client.get(f"/customers/{customer_id}").json()
    world = served.world
    assert (
        customer["attributes"]["customer_type"]
        == world.customers.set_index("customer_id").loc[customer_id, "customer_type"]
    )
    assert customer["candidates"] == int((world.features["customer_id"] == customer_id).sum())
    product = client.get(f"/products/{product_id}").json()
    assert product["attributes"]["brand"] == world.products.set_index("product_id").loc[product_id, "brand"]
    assert product["candidates"] == int((world.features["product_id"] == product_id).sum())
    assert 0 <= product["predicted_buyers"] <= product["candidates"]
    assert client.get("/customers/424242").status_code == 404
    assert "unknown product_id 424242" in client.get("/products/424242").json()["detail"]


# --- monitoring ---------------------------------------------------------------------------------------


def test_drift_shows_the_newest_report_drifted_first(client):
    body = client.get("/drift").json()
    assert body["report_id"] == "d1" and body["drifted_features"] == 1
    assert [f["feature"] for f in body["features"]] == ["bought_w4", "units_w4"]


def test_quality_lists_realized_scores(client):
    [row] = client.get("/quality").json()["items"]
    assert row["batch_id"] == "batch-past" and row["f1"] == pytest.approx(0.545)


def test_metrics_are_prometheus_text(client, served):
    client.get("/health")
    client.get("/customers/999999/recommendations")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'ovni_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert (
        'ovni_http_requests_total{method="GET",route="/customers/{customer_id}/recommendations",status="404"}'
        in text
    )
    assert 'ovni_http_request_duration_seconds_bucket{route="/health",le="+Inf"}' in text
    assert f'version="{served.version}"' in text
    assert f"ovni_model_version {served.version}" in text
    assert "ovni_model_ready 1" in text
    assert "ovni_model_last_reload_timestamp_seconds 0\n" not in text


# --- admin and unknown routes -------------------------------------------------------------------------


def test_admin_reload_needs_the_bearer_token(client):
    assert client.post("/admin/reload").status_code == 401
    wrong = client.post("/admin/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.json()["detail"]
    ok = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert ok.json()["swapped"] is False and ok.json()["errors"] == {}


def test_admin_reload_is_disabled_without_a_token(served):
    with TestClient(
        create_app(OvniSettings(home=served.settings.home, api_token=None), poll=False)
    ) as client:
        response = client.post("/admin/reload", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 403 and "OVNI_API_TOKEN" in response.json()["detail"]


def test_unknown_route_and_method_are_json_4xx(client):
    assert client.get("/nope").json() == {"detail": "Not Found"}
    assert client.get("/predict").status_code == 405


def test_a_body_that_is_not_utf8_is_a_4xx_in_words(client):
    response = client.post("/predict", content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "JSON" in response.json()["detail"]


def test_pair_features_round_trip_through_predict_features(client, served):
    for customer_id, product_id in (candidate(served), served.world.non_candidate_pair):
        body = client.get(f"/customers/{customer_id}/products/{product_id}/features").json()
        assert body["week_start"] == str(TARGET_WEEK) and body["model_version"] == served.version
        assert list(body["features"]) == FEATURES
        scored = client.post("/predict/features", json={"rows": [body["features"]]}).json()["predictions"][0]
        predicted = client.post(
            "/predict", json={"pairs": [{"customer_id": customer_id, "product_id": product_id}]}
        ).json()["predictions"][0]
        assert scored["probability"] == pytest.approx(predicted["probability"])
        assert body["cold_start"] == predicted["cold_start"]
    candidate_row = served.world.features.iloc[0]
    body = client.get(f"/customers/{candidate(served)[0]}/products/{candidate(served)[1]}/features").json()
    assert body["features"]["bought_w8"] == candidate_row["bought_w8"]
    assert client.get("/customers/1/products/5/features").status_code == 404


@pytest.mark.parametrize(
    ("features", "es", "en"),
    [
        (
            {"bought_w4": 4, "weeks_since_last": 0, "mean_gap_weeks": 1.0, "gap_ratio": 0.0},
            [
                "compró todas las últimas 4 semanas",
                "última compra la semana pasada",
                "suele comprarlo cada semana",
            ],
            ["bought in each of the last 4 weeks", "last purchase last week", "usually buys it every week"],
        ),
        (
            {"bought_w4": 0, "bought_w8": 2, "weeks_since_last": 4, "mean_gap_weeks": 3.5, "gap_ratio": 1.1},
            [
                "compró en 2 de las últimas 8 semanas",
                "última compra hace 5 semanas",
                "suele comprarlo cada 3,5 semanas; ya le toca",
            ],
            [
                "bought in 2 of the last 8 weeks",
                "last purchase 5 weeks ago",
                "usually buys it every 3.5 weeks; it is due",
            ],
        ),
        (
            {"bought_w4": 1, "weeks_since_last": 1, "mean_gap_weeks": 2.0, "gap_ratio": 1.0},
            [
                "compró en 1 de las últimas 4 semanas",
                "última compra hace 2 semanas",
                "suele comprarlo cada 2 semanas; ya le toca",
            ],
            [
                "bought in 1 of the last 4 weeks",
                "last purchase 2 weeks ago",
                "usually buys it every 2 weeks; it is due",
            ],
        ),
        (
            {"bought_w4": 3, "weeks_since_last": 0, "mean_gap_weeks": 1.04, "gap_ratio": 0.9},
            [
                "compró en 3 de las últimas 4 semanas",
                "última compra la semana pasada",
                "suele comprarlo cada semana",
            ],
            ["bought in 3 of the last 4 weeks", "last purchase last week", "usually buys it every week"],
        ),
        (
            {"bought_w4": 2, "weeks_since_last": 1, "mean_gap_weeks": 1.12, "gap_ratio": 0.5},
            [
                "compró en 2 de las últimas 4 semanas",
                "última compra hace 2 semanas",
                "suele comprarlo cada 1,1 semanas",
            ],
            [
                "bought in 2 of the last 4 weeks",
                "last purchase 2 weeks ago",
                "usually buys it every 1.1 weeks",
            ],
        ),
        (
            {
                "is_discovery": "yes",
                "type_share_w8": 0.25,
                "customer_type": "MAYORISTA",
                "weeks_since_last": None,
            },
            ["nunca lo ha comprado; lo compra el 25% de los clientes MAYORISTA activos"],
            ["never bought it; 25% of active MAYORISTA customers buy it"],
        ),
    ],
)
def test_reasons_in_plain_words(features, es, en):
    from ovni_serving.reasons import reasons

    assert reasons(features, 0.62, 0.3, "es") == [
        *es,
        "probabilidad 62,0 %, sobre el umbral del modelo (30,0 %)",
    ]
    assert reasons(features, 0.12, 0.3, "en") == [
        *en,
        "probability 12.0%, below the model's threshold (30.0%)",
    ]
