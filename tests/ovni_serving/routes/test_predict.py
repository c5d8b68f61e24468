"""POST /predict, POST /predict/features, the features of a pair and a customer's recommendations, with
their errors."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from builders import FEATURES, TARGET_WEEK, load_version

from ovni_serving.schemas import MAX_PAIRS

# --- /predict -----------------------------------------------------------------------------------------


def test_predict_answers_candidates_with_the_batch_probability(client, served, snapshot_frame, candidate):
    customer_id, product_id = candidate
    response = client.post(
        "/predict", json={"pairs": [{"customer_id": customer_id, "product_id": product_id}]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == served.version and body["week_start"] == str(TARGET_WEEK)
    batch = snapshot_frame(
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


def test_predict_keeps_the_order_and_duplicates_of_the_request(client, served, candidate):
    first = candidate
    cold = served.world.non_candidate_pair
    lonely = (served.world.customer_without_candidates, first[1])
    pairs = [first, cold, lonely, first]
    body = client.post(
        "/predict", json={"pairs": [{"customer_id": c, "product_id": p} for c, p in pairs]}
    ).json()
    assert [(p["customer_id"], p["product_id"]) for p in body["predictions"]] == pairs
    assert [p["cold_start"] for p in body["predictions"]] == [False, True, True, False]
    assert all(0.0 <= p["probability"] <= 1.0 for p in body["predictions"])


def test_predict_accepts_the_target_week_and_refuses_another(client, candidate):
    pair = dict(zip(("customer_id", "product_id"), candidate, strict=True))
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
        # a JSON true, a numeral in quotes or a float is no id (not customer 1, 12 or 12)
        (
            {"pairs": [{"customer_id": True, "product_id": 101}]},
            "pairs.0.customer_id: Input should be a valid integer",
        ),
        (
            {"pairs": [{"customer_id": 1, "product_id": "101"}]},
            "pairs.0.product_id: Input should be a valid integer",
        ),
        (
            {"pairs": [{"customer_id": 12.0, "product_id": 101}]},
            "pairs.0.customer_id: Input should be a valid integer",
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


def test_pair_features_round_trip_through_predict_features(client, served, candidate):
    for customer_id, product_id in (candidate, served.world.non_candidate_pair):
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
    body = client.get(f"/customers/{candidate[0]}/products/{candidate[1]}/features").json()
    assert body["features"]["bought_w8"] == candidate_row["bought_w8"]
    assert client.get("/customers/1/products/5/features").status_code == 404


# --- recommendations ----------------------------------------------------------------------------------


def test_recommendations_are_the_customers_top_k_of_the_latest_batch(
    client, served, snapshot_frame, candidate
):
    customer_id = candidate[0]
    body = client.get(f"/customers/{customer_id}/recommendations", params={"k": 3}).json()
    batch = snapshot_frame(
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
        ("/customers/true/recommendations", 422, "customer_id: Input should be a valid integer"),
    ],
)
def test_recommendations_errors(client, path, status, fragment):
    response = client.get(path)
    assert response.status_code == status
    assert fragment in response.json()["detail"]
