"""Fixtures: OVNI homes with a real MLflow registry and a real published snapshot (see builders.py)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from builders import World, load_version, make_world, publish_snapshot, register_version

from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app


@dataclass
class ServedHome:
    settings: OvniSettings
    world: World
    version: str
    threshold: float


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory) -> Path:
    """An initialised, empty MLflow SQLite store (migrations run once per session, then copied)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(scope="session")
def new_home(tmp_path_factory, empty_mlflow_db) -> Callable[[], OvniSettings]:
    """A fresh OVNI_HOME with an empty registry; call it for each situation a test builds."""

    def make() -> OvniSettings:
        settings = OvniSettings(home=tmp_path_factory.mktemp("ovni-home"))
        settings.mlartifacts_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(empty_mlflow_db, settings.mlflow_db_path)
        return settings

    return make


def serve_world(settings: OvniSettings, world: World, seed: int = 0, threshold: float = 0.5) -> ServedHome:
    """Register a champion trained on `world` and publish the snapshot it scored."""
    version = register_version(settings, world, seed=seed, threshold=threshold)
    publish_snapshot(settings, world, load_version(settings, version), version, threshold=threshold)
    return ServedHome(settings, world, version, threshold)


@pytest.fixture(scope="session")
def served(new_home) -> ServedHome:
    """One home shared by read-only tests: champion version 1 and its snapshot."""
    return serve_world(new_home(), make_world(seed=0), threshold=0.4)


@pytest.fixture(scope="session")
def client(served) -> Iterator[TestClient]:
    """The app over `served`, loaded before the first request (no poller: tests call refresh)."""
    app = create_app(OvniSettings(home=served.settings.home, api_token="s3cret"), poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    with TestClient(app) as test_client:
        yield test_client
