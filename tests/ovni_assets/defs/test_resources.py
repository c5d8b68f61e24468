"""The MLflow resource trains into the home it is configured for, whatever the environment says."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow

from ovni_assets.defs.resources import MlflowTracking, mlflow_resource, resources_for
from ovni_assets.model.registry import client_for
from ovni_assets.settings import OvniSettings, settings_from


def home_at(folder: Path) -> OvniSettings:
    folder.mkdir(parents=True, exist_ok=True)
    return settings_from(home=folder)


def train_once(resource: MlflowTracking, dagster_run_id: str) -> str:
    """One training run through the resource, with a text artifact; its MLflow run id."""
    with resource.training_run(dagster_run_id) as run:
        mlflow.log_text("hello", "note.txt")
    return run.info.run_id


def test_the_resource_uses_its_config_not_the_environment(tmp_path, monkeypatch):
    settings = home_at(tmp_path / "home")
    monkeypatch.setenv("OVNI_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("OVNI_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.setenv("OVNI_HPO_SECONDS", "not a number")  # settings read from here would not validate

    run_id = train_once(mlflow_resource(settings), "a-dagster-run")

    run = client_for(settings).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert (settings.mlartifacts_dir / run_id / "artifacts" / "note.txt").read_text() == "hello"
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "elsewhere.db").exists()


def test_a_training_in_a_copied_home_writes_into_the_copy(tmp_path):
    original = home_at(tmp_path / "original")
    first = train_once(mlflow_resource(original), "first-dagster-run")
    original_files = sorted(p for p in original.mlartifacts_dir.rglob("*") if p.is_file())
    copy = home_at(tmp_path / "copy")
    shutil.copytree(original.home, copy.home, dirs_exist_ok=True)

    second = train_once(mlflow_resource(copy), "second-dagster-run")

    assert (copy.mlartifacts_dir / second / "artifacts" / "note.txt").exists()
    assert sorted(p for p in original.mlartifacts_dir.rglob("*") if p.is_file()) == original_files
    client = client_for(original)
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert [r.info.run_id for r in client.search_runs(experiments)] == [first]  # the original store too


def test_the_resource_config_is_the_settings_it_needs_and_shows_in_dagster(tmp_path):
    settings = settings_from(home=tmp_path / "home", mlflow_tracking_uri="sqlite:///elsewhere.db")
    resource = resources_for(settings)["mlflow"]
    assert (resource.home, resource.mlflow_tracking_uri) == (str(settings.home), "sqlite:///elsewhere.db")
    assert resource.settings.tracking_uri == settings.tracking_uri
    fields = resource.get_resource_definition().config_schema.config_type.fields
    assert set(fields) == {"home", "mlflow_tracking_uri"}
    assert all(field.description for field in fields.values())
