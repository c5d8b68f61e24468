"""GET /predictions (filtered and paged), GET /customers and GET /products (paged lists and by id) and
GET /model/versions, with their errors."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
import pytest
from builders import TARGET_WEEK, load_version, make_world, publish_snapshot, register_version
from fastapi.testclient import TestClient

from ovni_serving.app import create_app
from ovni_serving.schemas import MAX_PAGE


def test_predictions_are_filtered_and_paged(client, served, snapshot_frame, candidate):
    customer_id = candidate[0]
    everything = client.get("/predictions", params={"limit": 1000}).json()
    total = int(snapshot_frame("SELECT count(*) AS n FROM latest_predictions")["n"][0])
    assert everything["total"] == total
    weeks = [item["week_start"] for item in everything["items"]]
    assert weeks == sorted(weeks, reverse=True)

    mine = client.get(
        "/predictions", params={"customer_id": customer_id, "week_start": str(TARGET_WEEK)}
    ).json()
    expected = snapshot_frame(
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


def test_customer_and_product(client, served, candidate):
    customer_id, product_id = candidate
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


def all_pages(client: TestClient, path: str, limit: int, **params) -> tuple[int, list[dict]]:
    items: list[dict] = []
    while True:
        page = client.get(path, params={**params, "limit": limit, "offset": len(items)}).json()
        items.extend(page["items"])
        if not page["items"]:
            return page["total"], items


# --- customers -------------------------------------------------------------------------------------------


def test_customers_list_every_customer_with_the_attributes_of_customers_by_id(client, served):
    body = client.get("/customers").json()
    expected = served.world.customers.sort_values("customer_id")
    assert body["total"] == len(expected) and body["limit"] == 100 and body["offset"] == 0
    assert [c["customer_id"] for c in body["items"]] == expected["customer_id"].tolist()
    first = body["items"][0]
    assert first["attributes"] == client.get(f"/customers/{first['customer_id']}").json()["attributes"]
    assert first["customer_type"] == expected["customer_type"].iloc[0]
    assert first["num_deliver_per_week"] == pytest.approx(expected["num_deliver_per_week"].iloc[0])


def test_customer_pages_cover_every_customer_once(client, served):
    total, items = all_pages(client, "/customers", limit=7)
    ids = [c["customer_id"] for c in items]
    assert total == len(served.world.customers) == len(ids) == len(set(ids))
    past_the_end = client.get("/customers", params={"offset": total + 5}).json()
    assert past_the_end["total"] == total and past_the_end["items"] == []


def test_customers_filter_by_type_in_any_case_and_by_text(client, served):
    customers = served.world.customers
    wanted = customers["customer_type"].iloc[0]
    body = client.get("/customers", params={"customer_type": wanted.lower(), "limit": MAX_PAGE}).json()
    expected = sorted(customers.loc[customers["customer_type"] == wanted, "customer_id"].tolist())
    assert body["total"] == len(expected)
    assert [c["customer_id"] for c in body["items"]] == expected
    assert {c["customer_type"] for c in body["items"]} == {wanted}
    by_text = client.get("/customers", params={"q": wanted[:4].lower(), "limit": MAX_PAGE}).json()
    assert [c["customer_id"] for c in by_text["items"]] == expected
    by_id = client.get("/customers", params={"q": "12"}).json()
    assert [c["customer_id"] for c in by_id["items"]] == [12]
    by_digit = client.get("/customers", params={"q": "1"}).json()  # region_id = 1 is not text: not matched
    assert [c["customer_id"] for c in by_digit["items"]] == [
        c for c in customers["customer_id"] if "1" in str(c)
    ]
    nothing = client.get("/customers", params={"q": "no such customer"}).json()
    assert nothing == {"total": 0, "limit": 100, "offset": 0, "items": []}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_PAGE + 1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"q": ""}, "q"),
        ({"customer_type": "ASTRONAUT"}, "unknown customer_type 'ASTRONAUT'; the snapshot has: ABARROTES"),
    ],
)
def test_customers_refuse_bad_parameters_with_a_readable_detail(client, params, words):
    response = client.get("/customers", params=params)
    assert response.status_code == 422
    assert words in response.json()["detail"]


# --- products --------------------------------------------------------------------------------------------


def test_products_list_filter_by_segment_and_brand(client, served):
    products = served.world.products
    body = client.get("/products").json()
    assert body["total"] == len(products)
    assert [p["product_id"] for p in body["items"]] == sorted(products["product_id"].tolist())
    first = body["items"][0]
    assert first["attributes"] == client.get(f"/products/{first['product_id']}").json()["attributes"]
    row = products.iloc[0]
    both = client.get("/products", params={"segment": row["segment"].lower(), "brand": row["brand"]}).json()
    expected = products[(products["segment"] == row["segment"]) & (products["brand"] == row["brand"])]
    assert [p["product_id"] for p in both["items"]] == sorted(expected["product_id"].tolist())
    assert {(p["segment"], p["brand"]) for p in both["items"]} == {(row["segment"], row["brand"])}
    total, items = all_pages(client, "/products", limit=5)
    assert total == len(items) == len(products)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"brand": "Brand 99"}, "unknown brand 'Brand 99'; the snapshot has: Brand 0, Brand 1"),
        ({"segment": "GOLD"}, "unknown segment 'GOLD'"),
        ({"limit": MAX_PAGE + 1}, "limit"),
        ({"segment": "x" * 101}, "segment"),
    ],
)
def test_products_refuse_bad_parameters_with_a_readable_detail(client, params, words):
    response = client.get("/products", params=params)
    assert response.status_code == 422
    assert words in response.json()["detail"]


# --- model versions --------------------------------------------------------------------------------------


def test_model_versions_lists_the_served_champion(client, served):
    items = client.get("/model/versions").json()["items"]
    assert len(items) == 1
    assert items[0]["model_version"] == served.version and items[0]["is_champion"] is True
    assert items[0]["val_f1"] == pytest.approx(0.6)
    assert items[0]["threshold"] == pytest.approx(served.threshold)


def test_model_versions_newest_first_with_every_column(new_home):
    settings = new_home()
    world = make_world(seed=2)
    version = register_version(settings, world, seed=2)
    path = publish_snapshot(
        settings, world, load_version(settings, version), version, skip_tables=("model_versions",)
    )
    versions = pd.DataFrame(
        {
            "model_version": ["1", "3", "2", "4"],
            "run_id": ["a" * 32, "c" * 32, "b" * 32, "d" * 32],
            "trained_at": [
                datetime(2024, 9, 1),
                datetime(2024, 9, 20),
                datetime(2024, 9, 10),
                None,
            ],
            "val_f1": [0.5, 0.62, 0.58, None],
            "val_precision": [0.4, 0.6, 0.55, None],
            "val_recall": [0.7, 0.64, 0.61, None],
            "val_pr_auc": [0.3, 0.4, 0.35, None],
            "threshold": [0.3, 0.35, 0.32, 0.4],
            "training_snapshot_id": ["s1", "s3", "s2", None],
            "is_champion": [False, True, False, False],
        }
    )
    con = duckdb.connect(str(path))
    try:
        con.register("frame", versions)
        con.execute("CREATE TABLE model_versions AS SELECT * FROM frame")
    finally:
        con.close()
    app = create_app(settings, poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    with TestClient(app) as client:
        items = client.get("/model/versions").json()["items"]
    assert [v["model_version"] for v in items] == ["3", "2", "1", "4"]
    assert items[0] == {
        "model_version": "3",
        "run_id": "c" * 32,
        "trained_at": "2024-09-20T00:00:00",
        "val_f1": pytest.approx(0.62),
        "val_precision": pytest.approx(0.6),
        "val_recall": pytest.approx(0.64),
        "threshold": pytest.approx(0.35),
        "training_snapshot_id": "s3",
        "is_champion": True,
    }
    assert items[-1]["trained_at"] is None and items[-1]["val_f1"] is None


def test_model_versions_is_empty_when_the_snapshot_has_none(new_home):
    settings = new_home()
    world = make_world(seed=3)
    version = register_version(settings, world, seed=3)
    publish_snapshot(
        settings, world, load_version(settings, version), version, skip_tables=("model_versions",)
    )
    app = create_app(settings, poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    with TestClient(app) as client:
        assert client.get("/model/versions").json() == {"items": []}
