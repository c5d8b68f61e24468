"""The real pipeline feeding the API: `ovni generate` + `ovni run` on small synthetic data."""

from __future__ import annotations

import time

import duckdb
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from serve_process import Load, ovni_serve

from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings
from ovni_serving.app import create_app
from tests.cli import run_ovni

RELOAD_SECONDS = 1.0
pytestmark = pytest.mark.slow


@pytest.fixture
def pipeline_home(tmp_path):
    """A home of this test's own (it retrains and promotes in it), from one `ovni run` over the demo data."""
    run_ovni(tmp_path, "generate", "--out", str(tmp_path / "landing"), "--customers", "80", "--weeks", "20")
    run_ovni(tmp_path, "run")
    assert (tmp_path / "serving.duckdb").exists()
    return tmp_path


def snapshot(home, sql: str):
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchdf()
    finally:
        con.close()


def test_the_api_serves_what_the_pipeline_published(served_home):
    app = create_app(OvniSettings(home=served_home), poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    info = snapshot(served_home, "SELECT target_week::VARCHAR AS week, model_version FROM snapshot_info")
    week, batch_version = info["week"][0], str(info["model_version"][0])
    batch = snapshot(
        served_home,
        f"SELECT customer_id, product_id, probability, will_buy, rank FROM latest_predictions "
        f"WHERE week_start = DATE '{week}' ORDER BY customer_id, rank",
    )
    with TestClient(app) as client:
        ready = client.get("/ready").json()
        assert ready["week_start"] == week and ready["model_version"] == batch_version
        model = client.get("/model").json()
        assert model["version"] == batch_version and 0 < model["threshold"] < 1
        assert model["features"] and model["training_snapshot_id"]

        sample = batch.groupby("customer_id").head(1).head(20)
        pairs = [
            {"customer_id": int(c), "product_id": int(p)}
            for c, p in zip(sample.customer_id, sample.product_id, strict=True)
        ]
        predictions = client.post("/predict", json={"pairs": pairs}).json()["predictions"]
        assert [p["probability"] for p in predictions] == pytest.approx(
            sample["probability"].tolist(), abs=1e-9
        )
        assert [p["will_buy"] for p in predictions] == sample["will_buy"].tolist()
        assert not any(p["cold_start"] for p in predictions)

        customer_id = int(batch["customer_id"].value_counts().idxmax())
        mine = batch[batch["customer_id"] == customer_id].sort_values(
            ["probability", "product_id"], ascending=[False, True]
        )
        for lang in ("es", "en"):
            body = client.get(
                f"/customers/{customer_id}/recommendations", params={"k": 5, "lang": lang}
            ).json()
            items = body["recommendations"]
            assert [r["product_id"] for r in items] == mine["product_id"].head(5).tolist()
            assert [r["rank"] for r in items] == list(range(1, len(items) + 1))
            assert all(len(r["reasons"]) >= 2 for r in items)
        assert any(
            "semanas" in reason or "semana" in reason
            for r in client.get(f"/customers/{customer_id}/recommendations").json()["recommendations"]
            for reason in r["reasons"]
        )

        candidates = set(zip(batch.customer_id, batch.product_id, strict=True))
        products = snapshot(served_home, "SELECT product_id FROM products")["product_id"]
        cold = next((customer_id, int(p)) for p in products if (customer_id, int(p)) not in candidates)
        row = client.get(f"/customers/{cold[0]}/products/{cold[1]}/features").json()
        assert row["cold_start"] is True and row["features"]["is_discovery"] == "yes"
        scored = client.post("/predict/features", json={"rows": [row["features"]]}).json()["predictions"][0]
        predicted = client.post(
            "/predict", json={"pairs": [{"customer_id": cold[0], "product_id": cold[1]}]}
        ).json()
        assert predicted["predictions"][0]["probability"] == pytest.approx(scored["probability"])

        assert client.get("/drift").status_code == 200
        assert client.get("/quality").status_code == 200
        page = client.get("/predictions", params={"week_start": week, "limit": 10}).json()
        assert page["total"] == len(batch) and len(page["items"]) == 10


def test_a_pipeline_run_and_a_promotion_while_serving_fail_no_request(pipeline_home):
    uri = f"sqlite:///{pipeline_home / 'mlflow.db'}"  # registry too: another test may have set the global one
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    before = client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version
    batch = snapshot(pipeline_home, "SELECT customer_id, product_id FROM latest_predictions LIMIT 1")
    pair = {"customer_id": int(batch.customer_id[0]), "product_id": int(batch.product_id[0])}
    requests = [
        lambda http: http.post("/predict", json={"pairs": [pair]}),
        lambda http: http.get(f"/customers/{pair['customer_id']}/recommendations"),
        lambda http: http.get("/ready"),
    ]
    with (
        ovni_serve(pipeline_home, RELOAD_SECONDS) as url,
        Load(url, requests, threads=2, pause_seconds=0.02) as load,
    ):
        load.first_seen(lambda o: o.model_version == str(before), timeout=60)
        run = run_ovni(pipeline_home, "run", "--retrain", timeout=1200)  # succeeds while the API serves

        registry = MlflowClient(tracking_uri=uri, registry_uri=uri)
        versions = sorted(int(v.version) for v in registry.search_model_versions(f"name='{MODEL_NAME}'"))
        champion = int(registry.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version)
        others = [v for v in versions if v != champion]
        assert others, f"one version only after a forced retrain: {versions}\n{run.stdout}"
        target = others[-1]  # the new challenger, or the old champion when the challenger won
        run_ovni(pipeline_home, "promote", str(target))
        load.first_seen(lambda o: o.model_version == str(target), timeout=120)
        time.sleep(1.0)
    assert load.failures() == [], load.failures()[:5]
    assert len(load.observations) > 50
