"""The ML assets materialized on small data with real resources, and `ovni run` end to end."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import mlflow
import pytest

from ovni_assets.defs import checks
from ovni_assets.defs.assets import (
    clean_assets,
    feature_assets,
    ingest_assets,
    model_assets,
    prediction_assets,
)
from ovni_assets.defs.resources import resources_for
from ovni_assets.model import registry
from ovni_assets.prediction.snapshot import published_batch_id, published_model_versions
from ovni_assets.settings import MODEL_NAME, get_settings
from tests.cli import run_ovni

REPORT_FILES = {
    "pr_curve.png",
    "confusion_matrix.png",
    "confusion_matrix.json",
    "permutation_importance.csv",
    "permutation_importance.png",
    "optuna_trials.csv",
    "optuna_history.png",
    "validation_weekly.csv",
    "training_snapshot.json",
}


def test_the_served_batch_and_versions_are_read_from_the_snapshot(tmp_path):
    assert published_batch_id(tmp_path / "missing.duckdb") is None
    assert published_model_versions(tmp_path / "missing.duckdb") is None
    (tmp_path / "broken.duckdb").write_text("not a database")
    assert published_batch_id(tmp_path / "broken.duckdb") is None
    assert published_model_versions(tmp_path / "broken.duckdb") is None
    with duckdb.connect(str(tmp_path / "serving.duckdb")) as con:
        con.execute("CREATE TABLE snapshot_info AS SELECT 'b2' AS batch_id")
        con.execute("CREATE TABLE model_versions AS SELECT * FROM (VALUES ('1'), ('2')) t(model_version)")
    assert published_batch_id(tmp_path / "serving.duckdb") == "b2"
    assert published_model_versions(tmp_path / "serving.duckdb") == {"1", "2"}


@pytest.mark.slow
def test_ml_assets_materialize_with_real_resources(ovni_home, small_landing, monkeypatch):
    monkeypatch.setenv("OVNI_HPO_SECONDS", "0.5")
    monkeypatch.delenv("OVNI_HPO_MAX_TRIALS")  # the first model skips the search by itself
    monkeypatch.setenv("OVNI_MLFLOW_UI_URL", "http://mlflow.example:5999")
    monkeypatch.setenv("OVNI_DAGSTER_UI_URL", "http://dagster.example:3999")
    for path in small_landing.iterdir():
        shutil.copy(path, ovni_home.landing_dir / path.name)
    assets = dg.load_assets_from_modules(
        [ingest_assets, clean_assets, feature_assets, model_assets, prediction_assets]
    )
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [*assets, *checks.ML_CHECKS],
            resources=resources_for(get_settings()),  # with the URLs set above
            instance=instance,
            run_config={"ops": {"purchase_model": {"config": {"validation_weeks": 3}}}},
        )
    assert result.success
    model = result.asset_materializations_for_node("purchase_model")[0].metadata
    assert len(model["val_weeks"].value.split(",")) == 3  # the asset's config, not the default 4
    assert model["model_version"].value == "1" and model["champion_version"].value == "1"
    assert model["promoted"].value is True and "first model" in model["promotion_reason"].value
    assert model["hpo_trials"].value == 1
    experiment_id = registry.ensure_experiment(ovni_home)
    assert model["mlflow_run"].value.startswith(f"http://mlflow.example:5999/#/experiments/{experiment_id}/")
    # The run opens in MLflow's model-training view (its GenAI view is the UI's default).
    assert model["mlflow_run"].value.endswith(
        f"/runs/{model['mlflow_run_id'].value}?workflowType=machine_learning"
    )

    schema = result.asset_materializations_for_node("pair_features")[0].metadata["dagster/column_schema"]
    undescribed = [c.name for c in schema.value.columns if not c.description]
    assert len(schema.value.columns) > 50 and undescribed == []
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {c.check_key.name for c in checks.ML_CHECKS}
    for name in ("active_customers_have_candidates", "features_present", "probabilities_valid"):
        assert evaluations[name].passed, (name, evaluations[name].metadata)
    assert evaluations["active_customers_predicted"].passed
    gate = {k: v.value for k, v in evaluations["beats_the_simple_rule"].metadata.items()}
    assert gate["val_f1"] == model["val_f1"].value
    assert evaluations["beats_the_simple_rule"].passed == (gate["margin"] > 0)

    client = registry.client_for(ovni_home)
    version = client.get_model_version(MODEL_NAME, "1")
    assert {"threshold", "training_snapshot_id", "train_last_week", "val_f1", "val_weeks"} <= set(
        version.tags
    )
    run = client.get_run(version.run_id)
    assert run.info.status == "FINISHED"  # the resource ends the run it started
    assert run.data.tags["dagster_run_id"] == result.run_id
    assert run.data.tags["search"] == "skipped: first model, default parameters"
    assert run.data.tags["dagster_run"] == f"http://dagster.example:3999/runs/{result.run_id}"
    assert run.info.run_name.startswith("purchase-model ") and run.info.run_name != "__ephemeral_asset_job__"
    assert f"({run.data.tags['dagster_run']})" in run.data.tags["mlflow.note.content"]
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.tags["mlflow.note.content"] == registry.EXPERIMENT_DESCRIPTION
    assert result.run_id in version.description
    assert client.get_registered_model(MODEL_NAME).description == registry.REGISTERED_MODEL_DESCRIPTION
    [dataset] = run.inputs.dataset_inputs
    assert dataset.dataset.digest == version.tags["training_snapshot_id"]
    assert dataset.dataset.source_type == "local"
    assert {"val_f1", "val_precision", "val_recall", "val_pr_auc", "threshold"} <= set(run.data.metrics)
    steps = client.get_metric_history(run.info.run_id, "val_week_f1")
    assert sorted(m.step for m in steps) == [0, 1, 2]
    assert [run.data.params[f"val_week_{i}"] for i in range(3)] == version.tags["val_weeks"].split(",")
    reported = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "report")}
    assert reported >= REPORT_FILES
    assert mlflow.active_run() is None
    assert not Path("mlruns").exists() or Path("mlruns").stat().st_mtime < os.path.getmtime(ovni_home.home)

    serving = duckdb.connect(str(ovni_home.serving_path), read_only=True)
    info = serving.execute("SELECT target_week, model_version FROM snapshot_info").fetchall()[0]
    assert info[1] == "1"
    assert serving.execute("SELECT count(*) FROM latest_predictions WHERE will_buy").fetchall()[0][0] > 0
    versions = serving.execute("SELECT model_version, is_champion FROM model_versions").fetchall()
    serving.close()
    assert versions == [("1", True)]


def land_all_but_the_last_week(source: Path, landing: Path, later: Path) -> None:
    """Customers, products and every transaction week but the last in `landing`; the last week in `later`."""
    for name in ("clientes.parquet", "productos.parquet"):
        shutil.copy(source / name, landing / name)
    transactions = source / "transacciones.parquet"
    con = duckdb.connect()
    last = con.execute(
        f"SELECT max(date_trunc('week', purchase_date)) FROM read_parquet('{transactions}')"
    ).fetchall()[0][0]
    for target, condition in ((landing / "transacciones.parquet", "<"), (later, ">=")):
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{transactions}') WHERE purchase_date {condition} "
            f"TIMESTAMP '{last}') TO '{target}' (FORMAT parquet)"
        )
    con.close()


def cli_runs(home: Path) -> list[str]:
    """Job names of the Dagster runs in the home's instance, oldest first."""
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return [run.job_name for run in reversed(instance.get_runs())]


@pytest.mark.slow
def test_ovni_run_end_to_end(tmp_path, small_landing):
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    last_week = tmp_path / "transacciones_last_week.parquet"
    land_all_but_the_last_week(small_landing, home / "landing", last_week)

    first = run_ovni(home, "run")
    assert "no champion" in first.stdout and "predicted week" in first.stdout
    assert "DEBUG" not in first.stderr  # Dagster's per-event logs stay off the console
    snapshot = (home / "serving.duckdb").read_bytes()

    again = run_ovni(home, "run")
    assert "no retrain" in again.stdout and "are current" in again.stdout
    assert (home / "serving.duckdb").read_bytes() == snapshot

    forced = run_ovni(home, "run", "--retrain")
    assert "forced" in forced.stdout and "trained model v2" in forced.stdout
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    versions = dict(con.execute("SELECT model_version, is_champion FROM model_versions").fetchall())
    batches = con.execute("SELECT DISTINCT model_version FROM latest_predictions").fetchall()
    con.close()
    assert set(versions) == {"1", "2"} and sum(versions.values()) == 1  # exactly one champion
    champion = next(v for v, is_champion in versions.items() if is_champion)
    assert batches == [(champion,)]

    # A new week lands within the champion's cooldown: ingest, monitoring and predictions in one run.
    runs_before = cli_runs(home)
    shutil.copy(last_week, home / "landing" / "transacciones_last_week.parquet")
    weekly = run_ovni(home, "run")
    assert "no retrain: cooldown" in weekly.stdout and "in the same run" in weekly.stdout
    assert cli_runs(home)[len(runs_before) :] == ["weekly_job"]
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    target, version = con.execute("SELECT target_week, model_version FROM snapshot_info").fetchall()[0]
    drift_weeks = con.execute("SELECT max(week_start) FROM drift_reports").fetchall()[0][0]
    con.close()
    assert version == champion and drift_weeks == target - timedelta(days=7)  # the new week's drift report
    assert f"predicted week {target}" in weekly.stdout
    newest_snapshot = (home / "serving.duckdb").read_bytes()

    # The batch was appended but its publish failed (the previous week's snapshot stayed): the next run
    # republishes it.
    (home / "serving.duckdb").write_bytes(snapshot)
    republished = run_ovni(home, "run")
    assert "republish: the served snapshot does not hold the newest batch" in republished.stdout
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    assert con.execute("SELECT target_week FROM snapshot_info").fetchall() == [(target,)]
    con.close()
    again = run_ovni(home, "run")
    assert "republished" not in again.stdout, again.stdout
    snapshot = (home / "serving.duckdb").read_bytes()
    assert snapshot != newest_snapshot  # published again (new created_at), same batch

    (home / "landing" / "transacciones_broken.csv").write_text("customer_id,product_id\n1,2\n")
    failed = run_ovni(home, "run", expect=None)
    assert failed.returncode != 0
    assert len(failed.stderr.strip().splitlines()) >= 1
    assert failed.stderr.strip().splitlines()[-1].startswith("ovni run: ")
    assert (home / "serving.duckdb").read_bytes() == snapshot
    assert (home / "quarantine" / "transacciones_broken.csv").exists()
