"""A home is self-contained: a copied or moved OVNI_HOME trains and loads models from itself only."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression

from ovni_assets.home import prepare_home
from ovni_assets.model.registry import EXPERIMENT_NAME, client_for, ensure_experiment
from ovni_assets.settings import OvniSettings

MODEL = "relocation-check"


def files_under(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def log_run(settings: OvniSettings, with_model: bool) -> str:
    """One MLflow run of the home's experiment with a text artifact (and a small registered model); its id."""
    experiment_id = ensure_experiment(settings)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_text("hello", "note.txt")
        if with_model:
            model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
            mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name=MODEL,
                serialization_format="pickle",
                pip_requirements=["scikit-learn"],  # skips inferring them (slow)
            )
    return run.info.run_id


def test_a_copied_home_writes_only_into_itself_and_loads_after_the_original_is_gone(tmp_path):
    original = prepare_home(OvniSettings(home=tmp_path / "original"))
    first_run = log_run(original, with_model=True)
    original_files = files_under(original.mlartifacts_dir)

    copy = prepare_home(OvniSettings(home=tmp_path / "copy"))
    shutil.copytree(original.home, copy.home, dirs_exist_ok=True)

    experiment_id = ensure_experiment(copy)
    experiment = client_for(copy).get_experiment(experiment_id)
    assert experiment.name == EXPERIMENT_NAME
    assert experiment.artifact_location == copy.mlartifacts_dir.as_uri()

    new_run = log_run(copy, with_model=False)
    assert files_under(original.mlartifacts_dir) == original_files  # the original was not written
    assert (copy.mlartifacts_dir / new_run / "artifacts" / "note.txt").exists()

    # Moved: the original is gone; the model registered there loads from the copy, its run's files too.
    shutil.rmtree(original.home)
    client_for(copy)  # the copy's store is the process default for the loads below
    assert mlflow.sklearn.load_model(f"models:/{MODEL}/1").predict(np.array([[3.0]])) == [1]
    assert mlflow.artifacts.load_text(f"runs:/{first_run}/note.txt") == "hello"


def test_a_home_in_its_own_place_is_left_as_it_is(tmp_path):
    settings = prepare_home(OvniSettings(home=tmp_path / "home"))
    experiment_id = ensure_experiment(settings)
    before = settings.mlflow_db_path.read_bytes()
    assert ensure_experiment(settings) == experiment_id
    assert settings.mlflow_db_path.read_bytes() == before
