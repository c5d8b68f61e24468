"""The experiment is a classic-ML one from its creation, and the MLflow links OVNI prints and writes open
the UI's model-training view (MLflow 3 starts on its GenAI view otherwise)."""

from __future__ import annotations

from mlflow.exceptions import MlflowException

from ovni_assets.model import registry, tracking
from ovni_assets.settings import get_settings

TRAINING_VIEW = "workflowType=machine_learning"


def test_a_new_experiment_is_created_tagged_classic_ml(ovni_home):
    client = registry.client_for(ovni_home)
    assert client.get_experiment_by_name(registry.EXPERIMENT_NAME) is None
    experiment_id = registry.ensure_experiment(ovni_home)
    tags = client.get_experiment(experiment_id).tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    assert registry.ensure_experiment(ovni_home) == experiment_id  # idempotent: no second experiment
    assert len(client.search_experiments(filter_string=f"name = '{registry.EXPERIMENT_NAME}'")) == 1


def test_the_experiment_link_opens_its_runs_in_the_training_view(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_MLFLOW_UI_URL", "http://mlflow.example:5999/")
    settings = get_settings()
    url = registry.training_runs_url(settings)  # creates the experiment on a new home
    experiment = registry.client_for(settings).get_experiment_by_name(registry.EXPERIMENT_NAME)
    experiment_id = experiment.experiment_id
    assert url == f"http://mlflow.example:5999/#/experiments/{experiment_id}/runs?{TRAINING_VIEW}"
    run_url = tracking.mlflow_run_url(settings, experiment_id, "abc123")
    assert run_url == f"http://mlflow.example:5999/#/experiments/{experiment_id}/runs/abc123?{TRAINING_VIEW}"


def test_the_experiment_link_falls_back_to_the_training_home_when_the_store_fails(ovni_home, monkeypatch):
    def unreachable(settings):
        raise MlflowException("database is locked")

    monkeypatch.setattr(registry, "ensure_experiment", unreachable)
    assert registry.training_runs_url(ovni_home) == f"{ovni_home.mlflow_ui_url}/#/?{TRAINING_VIEW}"
