"""GET /predictions (filtered and paged), GET /customers/{id} and GET /products/{id}."""

from __future__ import annotations

import pytest
from builders import TARGET_WEEK


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
