"""Hot reload: a new champion or snapshot is swapped in whole; a failed load keeps the old bundle."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import duckdb
import pytest
from builders import FEATURES, TARGET_WEEK, load_version, make_world, publish_snapshot, register_version
from conftest import serve_world
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, OvniSettings
from ovni_serving.app import create_app
from ovni_serving.model_store import ModelStore


def first_pair(home) -> dict:
    row = home.world.features.iloc[0]
    return {"customer_id": int(row["customer_id"]), "product_id": int(row["product_id"])}


def move_alias(settings: OvniSettings, version: str) -> None:
    MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri
    ).set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version)


@pytest.fixture
def home(new_home):
    return serve_world(new_home(), make_world(seed=1), threshold=0.5)


def test_serving_package_never_imports_dagster():
    code = (
        "import sys\n"
        "from ovni_serving.app import create_app\n"
        "import ovni_serving.server\n"
        "create_app(poll=False)\n"
        "assert 'dagster' not in sys.modules, sorted(m for m in sys.modules if m.startswith('dagster'))\n"
        "assert 'mlflow' not in sys.modules, 'mlflow loads lazily, with the first model'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_promoted_version_is_swapped_in_and_answers_at_once(home):
    store = ModelStore(home.settings)
    assert store.refresh() and store.bundle.version == home.version
    old_bundle = store.bundle
    assert not store.refresh(), "nothing changed: no swap"

    new_version = register_version(home.settings, home.world, seed=7, threshold=0.3, make_champion=False)
    assert not store.refresh(), "a registered version is not served until it is champion"
    move_alias(home.settings, new_version)
    assert store.refresh()
    bundle = store.bundle
    assert bundle is not old_bundle and bundle.version == new_version
    assert bundle.champion.threshold == pytest.approx(0.3)
    assert old_bundle.version == home.version, "the old bundle is never mutated"

    with TestClient(create_app(home.settings, poll=False)) as client:
        client.app.state.store = store
        body = client.post("/predict", json={"pairs": [first_pair(home)]}).json()
        assert body["model_version"] == new_version
        expected = load_version(home.settings, new_version).predict_proba(
            home.world.features.iloc[[0]][FEATURES]
        )[0, 1]
        assert body["predictions"][0]["probability"] == pytest.approx(expected)

    move_alias(home.settings, home.version)  # rollback
    assert store.refresh() and store.bundle.version == home.version


def test_a_new_snapshot_is_reopened_when_the_file_is_replaced(home):
    store = ModelStore(home.settings)
    store.refresh()
    next_week = TARGET_WEEK + timedelta(days=7)
    publish_snapshot(
        home.settings,
        home.world,
        load_version(home.settings, home.version),
        home.version,
        target_week=next_week,
    )
    assert store.refresh()
    assert store.bundle.snapshot.target_week == next_week


def test_a_half_made_champion_keeps_the_old_bundle_and_shows_the_error(home):
    store = ModelStore(home.settings)
    store.refresh()
    broken = register_version(home.settings, home.world, seed=3, make_champion=False)
    MlflowClient(
        tracking_uri=home.settings.tracking_uri, registry_uri=home.settings.tracking_uri
    ).delete_model_version_tag(MODEL_NAME, broken, "threshold")
    move_alias(home.settings, broken)
    assert not store.refresh()
    assert store.bundle.version == home.version
    assert "is half-made" in store.errors["registry"] and "no threshold" in store.errors["registry"]
    failures = store.stats.failures
    assert not store.refresh() and store.stats.failures == failures, (
        "a broken version is not retried every poll"
    )

    with TestClient(create_app(home.settings, poll=False)) as client:
        client.app.state.store = store
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["model_version"] == home.version
        assert "threshold" in ready.json()["errors"]["registry"]
        assert (
            client.post("/predict", json={"pairs": [first_pair(home)]}).json()["model_version"]
            == home.version
        )

    move_alias(home.settings, home.version)
    store.refresh()
    assert "registry" not in store.errors


def test_a_model_whose_artifacts_vanished_keeps_the_old_bundle(home):
    store = ModelStore(home.settings)
    store.refresh()
    version = register_version(home.settings, home.world, seed=4, make_champion=False)
    source = (
        MlflowClient(tracking_uri=home.settings.tracking_uri, registry_uri=home.settings.tracking_uri)
        .get_model_version(MODEL_NAME, version)
        .source
    )
    model_id = source.rstrip("/").rsplit("/", 1)[-1]
    [model_file] = [f for f in home.settings.mlartifacts_dir.rglob("model.skops") if model_id in str(f)]
    model_file.unlink()
    move_alias(home.settings, version)
    assert not store.refresh()
    assert store.bundle.version == home.version and store.errors["registry"]


def test_a_corrupt_snapshot_keeps_the_old_one(home):
    store = ModelStore(home.settings)
    store.refresh()
    temp = home.settings.serving_path.with_suffix(".tmp")
    temp.write_bytes(b"this is not a duckdb file" * 100)
    os.replace(temp, home.settings.serving_path)
    assert not store.refresh()
    assert store.bundle.snapshot.target_week == TARGET_WEEK
    assert "serving.duckdb" in store.errors["snapshot"]


def test_a_snapshot_without_the_model_features_keeps_the_old_bundle(home):
    store = ModelStore(home.settings)
    store.refresh()
    publish_snapshot(
        home.settings,
        home.world,
        load_version(home.settings, home.version),
        home.version,
        skip_tables=("next_week_features",),
    )
    assert not store.refresh()
    assert "next_week_features" in store.errors["snapshot"]
    assert store.bundle.snapshot.target_week == TARGET_WEEK


def test_the_api_holds_no_lock_on_the_snapshot(home):
    """A pipeline may open serving.duckdb for writing at any time while the API serves from memory."""
    with TestClient(create_app(home.settings, poll=False)) as client:
        client.app.state.store.refresh()
        assert client.get("/ready").status_code == 200
        writer = duckdb.connect(str(home.settings.serving_path))
        try:
            writer.execute("CREATE TABLE written_while_serving AS SELECT 1 AS x")
        finally:
            writer.close()
        assert client.get("/customers/1").status_code == 200


def test_the_poller_loads_at_startup_and_picks_up_a_new_champion(home):
    settings = OvniSettings(home=home.settings.home, reload_interval_seconds=0.2)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 60
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, client.get("/ready").json()
            time.sleep(0.1)
        assert client.get("/ready").json()["model_version"] == home.version
        new_version = register_version(home.settings, home.world, seed=5, make_champion=False)
        move_alias(home.settings, new_version)
        deadline = time.monotonic() + 60
        while (
            client.post("/predict", json={"pairs": [first_pair(home)]}).json()["model_version"] != new_version
        ):
            assert time.monotonic() < deadline, client.get("/ready").json()
            time.sleep(0.1)
        assert "ovni_model_reloads_total 2.0\n" in client.get("/metrics").text


def test_loading_reads_only_the_ovni_store(home, tmp_path):
    """No MLflow default store (./mlflow.db, ./mlruns) is created or consulted in the working directory."""
    code = (
        "from ovni_assets.settings import get_settings\n"
        "from ovni_serving.model_store import ModelStore\n"
        "store = ModelStore(get_settings())\n"
        "assert store.refresh(), store.errors\n"
        "print(store.bundle.version)\n"
    )
    env = {**os.environ, "OVNI_HOME": str(home.settings.home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == home.version
    assert list(tmp_path.iterdir()) == []
