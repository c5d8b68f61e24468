"""The real pipeline feeding the API: `ovni generate` + `ovni run` on small synthetic data, built once."""

from __future__ import annotations

import os
import subprocess
import time

import duckdb
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from serve_process import OVNI, Load, metric, ovni_serve

from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings
from ovni_serving.app import create_app

RELOAD_SECONDS = 1.0
pytestmark = pytest.mark.slow


def ovni(home, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    env = {**os.environ, "OVNI_HOME": str(home), "OVNI_HPO_SECONDS": "2", "OVNI_HPO_MAX_TRIALS": "1"}
    return subprocess.run([OVNI, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def pipeline_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("ovni-pipeline")
    generated = ovni(home, "generate", "--out", str(home / "landing"), "--customers", "80", "--weeks", "20")
    assert generated.returncode == 0, generated.stderr
    run = ovni(home, "run")
    assert run.returncode == 0, run.stderr
    assert (home / "serving.duckdb").exists()
    return home


def snapshot(home, sql: str):
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchdf()
    finally:
        con.close()


def test_the_api_serves_what_the_pipeline_published(pipeline_home):
    app = create_app(OvniSettings(home=pipeline_home), poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    info = snapshot(pipeline_home, "SELECT target_week::VARCHAR AS week, model_version FROM snapshot_info")
    week, batch_version = info["week"][0], str(info["model_version"][0])
    batch = snapshot(
        pipeline_home,
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
        products = snapshot(pipeline_home, "SELECT product_id FROM products")["product_id"]
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
        run = ovni(pipeline_home, "run", "--retrain")
        assert run.returncode == 0, run.stdout + run.stderr  # a pipeline run succeeds while the API serves

        registry = MlflowClient(tracking_uri=uri, registry_uri=uri)
        versions = sorted(int(v.version) for v in registry.search_model_versions(f"name='{MODEL_NAME}'"))
        champion = int(registry.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version)
        others = [v for v in versions if v != champion]
        assert others, f"one version only after a forced retrain: {versions}\n{run.stdout}"
        target = others[-1]  # the new challenger, or the old champion when the challenger won
        promoted = ovni(pipeline_home, "promote", str(target), timeout=300)
        assert promoted.returncode == 0, promoted.stderr
        promoted_at = time.monotonic()  # the alias moved at the latest now (the CLI starts slowly)
        seen_at = load.first_seen(lambda o: o.model_version == str(target), timeout=120)
        load_seconds = metric(url, "ovni_model_last_load_duration_seconds")
        assert seen_at - promoted_at <= RELOAD_SECONDS + load_seconds + 5.0
        time.sleep(1.0)
    assert load.failures() == [], load.failures()[:5]
    assert len(load.observations) > 50
