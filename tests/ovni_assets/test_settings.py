"""Settings: the UI addresses that links between Dagster and MLflow are built from."""

from __future__ import annotations

from ovni_assets.settings import OvniSettings


def test_ui_urls_follow_host_and_ports_unless_configured(monkeypatch):
    for name in ("OVNI_HOST", "OVNI_DAGSTER_UI_URL", "OVNI_MLFLOW_UI_URL", "OVNI_MLFLOW_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert OvniSettings().mlflow_ui_url == "http://127.0.0.1:5000"
    assert OvniSettings().dagster_ui_url == "http://127.0.0.1:3000"

    monkeypatch.setenv("OVNI_MLFLOW_PORT", "5123")
    monkeypatch.setenv("OVNI_HOST", "0.0.0.0")  # a bind address, not one to open in a browser
    assert OvniSettings().mlflow_ui_url == "http://127.0.0.1:5123"

    monkeypatch.setenv("OVNI_MLFLOW_UI_URL", "https://mlflow.example.org/")
    monkeypatch.setenv("OVNI_DAGSTER_UI_URL", "https://dagster.example.org/ovni/")
    settings = OvniSettings()
    assert settings.mlflow_ui_url == "https://mlflow.example.org"
    assert settings.dagster_ui_url == "https://dagster.example.org/ovni"
