"""The Dagster instance OVNI writes (local home and docker-compose) loads, and its UI opens without the
"Join the Dagster community" sign-up dialog (`nux: enabled: false`) and without telemetry."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.instance.config import dagster_instance_config

from ovni_assets.home import DAGSTER_YAML

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_home_instance_loads_without_the_sign_up_dialog(ovni_home):
    written = ovni_home.dagster_home / "dagster.yaml"
    assert written.read_text() == DAGSTER_YAML
    assert yaml.safe_load(DAGSTER_YAML)["nux"] == {"enabled": False}
    with dg.DagsterInstance.from_config(str(ovni_home.dagster_home)) as instance:
        assert instance.nux_enabled is False  # the webserver's `shouldShowNux` is then false
        assert instance.telemetry_enabled is False
        assert instance.get_settings("nux") == {"enabled": False}


def test_the_compose_instance_is_valid_and_has_no_sign_up_dialog(tmp_path: Path, monkeypatch):
    deployed = REPO_ROOT / "deploy" / "dagster.yaml"
    assert yaml.safe_load(deployed.read_text())["nux"] == {"enabled": False}
    for name, value in {
        "DAGSTER_POSTGRES_HOST": "postgres",
        "DAGSTER_POSTGRES_PORT": "5432",
        "DAGSTER_POSTGRES_USER": "dagster",
        "DAGSTER_POSTGRES_PASSWORD": "secret",
        "DAGSTER_POSTGRES_DB": "dagster",
        "DAGSTER_COMPUTE_LOGS_DIR": str(tmp_path / "logs"),
        "DAGSTER_STORAGE_DIR": str(tmp_path / "storage"),
    }.items():
        monkeypatch.setenv(name, value)
    shutil.copy(deployed, tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))  # validated against Dagster's instance schema
    assert config["nux"] == {"enabled": False} and config["telemetry"] == {"enabled": False}
