"""Registry on a real MLflow SQLite store: first champion, gate against a worse challenger, `ovni promote`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import mlflow
import pytest

from ovni_assets.cli.promote import promote_cli
from ovni_assets.features.target_week import ONE_WEEK
from ovni_assets.model import challenger, estimator, promotion, registry, tracking, training
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME

FAST = {**estimator.DEFAULT_PARAMS, "max_iter": 30}  # a quick model: these tests check plumbing


@pytest.fixture
def trained(small_warehouse):
    con = duckdb.connect(str(small_warehouse))
    result = training.train_purchase_model(con, hpo_seconds=0.1, max_trials=1, first_params=FAST)
    yield con, result
    con.close()


def register(settings, result, monkeypatch, run_tags: dict | None = None, tagged: bool = True) -> str:
    """Log a training run and tag its version the way `purchase_model` does; returns the version.
    `tagged=False` leaves the version as a training killed right after registering it leaves it."""
    experiment_id = registry.ensure_experiment(settings)
    with mlflow.start_run(experiment_id=experiment_id, tags=run_tags):
        logged = tracking.log_training_run(result, ["sha-of-a-file"], settings)
    client = registry.client_for(settings)
    if not tagged:
        return logged.version
    tags = {
        "training_rows": str(len(result.training.frame)),
        "threshold": repr(result.validation.threshold),
        "training_snapshot_id": result.training.snapshot_id,
        "train_last_week": str(result.training.last_week + ONE_WEEK),
        "val_f1": repr(result.validation.f1),
        "val_weeks": ",".join(str(w) for w in result.validation.weeks),
        "val_weekly_f1": registry.json_weekly_f1(result.weekly_f1()),
    }
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, logged.version, key, value)
    return logged.version


def alias_target(settings) -> str | None:
    version = registry.champion_version(registry.client_for(settings))
    return str(version.version) if version else None


def test_experiment_keeps_artifacts_under_ovni_home(ovni_home):
    experiment_id = registry.ensure_experiment(ovni_home)
    assert registry.ensure_experiment(ovni_home) == experiment_id
    experiment = registry.client_for(ovni_home).get_experiment(experiment_id)
    assert experiment.artifact_location == ovni_home.mlartifacts_dir.as_uri()


def test_experiment_is_a_described_classic_ml_experiment_even_when_it_existed_before(ovni_home):
    client = registry.client_for(ovni_home)
    existing = client.create_experiment(registry.EXPERIMENT_NAME)  # as an older OVNI left it: no tags
    client.set_experiment_tag(existing, registry.EXPERIMENT_KIND_TAG, "genai_development")
    assert registry.ensure_experiment(ovni_home) == existing
    tags = client.get_experiment(existing).tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    assert tags["mlflow.note.content"] == registry.EXPERIMENT_DESCRIPTION


def test_only_the_first_model_skips_the_search(ovni_home, trained):
    _, result = trained
    champion = registry.Champion(result.pipeline, "1", "run", result.validation.threshold, {})
    assert challenger.skips_search(ovni_home, None)
    assert not challenger.skips_search(ovni_home, champion)
    assert not challenger.skips_search(ovni_home.model_copy(update={"search_first_model": True}), None)


def test_training_run_is_named_described_and_linked_to_its_dagster_run(
    ovni_home, trained, monkeypatch, tmp_path
):
    settings = ovni_home.model_copy(update={"dagster_ui_url": "http://dagster.example:3999"})
    _, result = trained
    version = register(settings, result, monkeypatch, run_tags={"dagster_run_id": "abcdef12-run"})
    client = registry.client_for(ovni_home)
    model_version = client.get_model_version(MODEL_NAME, version)
    run = client.get_run(model_version.run_id)
    training_data = result.training

    assert (
        run.info.run_name
        == f"purchase-model {training_data.first_week}..{training_data.last_week + ONE_WEEK}"
    )
    assert run.data.tags["dagster_run"] == "http://dagster.example:3999/runs/abcdef12-run"
    assert "[abcdef12](http://dagster.example:3999/runs/abcdef12-run)" in run.data.tags["mlflow.note.content"]
    assert "abcdef12-run" in model_version.description and "promotion_reason" in model_version.description
    assert client.get_registered_model(MODEL_NAME).description == registry.REGISTERED_MODEL_DESCRIPTION

    # per-week metrics: step = index of the validation week, the week itself in param val_week_<step>
    history = client.get_metric_history(run.info.run_id, "val_week_f1")
    weeks = list(result.validation.weekly["week_start"])
    assert sorted(m.step for m in history) == list(range(len(weeks)))
    assert {run.data.params[f"val_week_{m.step}"]: m.value for m in history} == pytest.approx(
        {str(week): f1 for week, f1 in result.weekly_f1().items()}
    )

    [dataset_input] = run.inputs.dataset_inputs
    assert dataset_input.dataset.digest == training_data.snapshot_id
    assert [t.value for t in dataset_input.tags if t.key == "mlflow.data.context"] == ["training"]
    profile = json.loads(dataset_input.dataset.profile)
    assert profile["num_rows"] == len(training_data.frame)

    pr_curve = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="report/pr_curve.png", dst_path=str(tmp_path)
    )
    assert Path(pr_curve).stat().st_size > 0


def test_a_run_outside_dagster_says_so_instead_of_linking(ovni_home, trained, monkeypatch):
    _, result = trained
    version = register(ovni_home, result, monkeypatch)
    client = registry.client_for(ovni_home)
    run = client.get_run(client.get_model_version(MODEL_NAME, version).run_id)
    assert "dagster_run" not in run.data.tags
    assert run.data.tags["mlflow.note.content"].startswith("Trained outside Dagster")


def test_first_version_becomes_champion_and_a_worse_one_does_not(ovni_home, trained, monkeypatch):
    con, result = trained
    assert registry.load_champion(ovni_home) is None
    first = register(ovni_home, result, monkeypatch)
    decision = promotion.decide_promotion(con, None, result.weekly_f1())
    assert decision.promote and "first model" in decision.reason
    registry.move_champion(registry.client_for(ovni_home), first)
    assert alias_target(ovni_home) == first

    champion = registry.load_champion(ovni_home)
    assert champion.version == first and champion.threshold == pytest.approx(result.validation.threshold)
    frame = result.validation_frame.head(50)
    assert (
        estimator.predict_probability(champion.model, frame)
        == estimator.predict_probability(result.pipeline, frame)
    ).all()

    # a challenger 0.05 worse on every validation week loses against the champion's record
    worse = {week: f1 - 0.05 for week, f1 in result.weekly_f1().items()}
    second = register(ovni_home, result, monkeypatch)
    decision = promotion.decide_promotion(con, champion, worse)
    assert not decision.promote
    assert decision.champion_f1 == pytest.approx(result.validation.f1)
    assert "does not beat" in decision.reason
    assert alias_target(ovni_home) == first  # never missing, not moved

    better = {week: f1 + 0.01 for week, f1 in result.weekly_f1().items()}
    assert promotion.decide_promotion(con, champion, better).promote
    previous = registry.move_champion(registry.client_for(ovni_home), second)
    assert previous == first and alias_target(ovni_home) == second
    tags = registry.client_for(ovni_home).get_model_version(MODEL_NAME, first).tags
    assert tags[registry.PREVIOUS_CHAMPION_TAG] == "true"


def test_champion_is_rescored_on_weeks_it_never_saw(ovni_home, trained, monkeypatch):
    con, result = trained
    version = register(ovni_home, result, monkeypatch)
    registry.move_champion(registry.client_for(ovni_home), version)
    champion = registry.load_champion(ovni_home)
    # pretend the champion was trained two weeks earlier: its newest two validation weeks are unseen
    champion.tags["train_last_week"] = str(result.validation.weeks[-2])
    scores, notes = promotion.champion_weekly_f1(con, champion, result.validation.weeks)
    assert set(scores) == set(result.validation.weeks)
    recorded = result.weekly_f1()
    for week in result.validation.weeks[:2]:
        assert scores[week] == pytest.approx(recorded[week])  # from its recorded validation
    rescored = result.validation.weeks[-1]
    assert scores[rescored] != pytest.approx(recorded[rescored])  # the refit model scored it anew
    assert all("recorded" in note for note in notes)


def test_promote_by_hand_moves_the_alias_and_updates_model_versions(ovni_home, trained, monkeypatch, capsys):
    con, result = trained
    first = register(ovni_home, result, monkeypatch)
    second = register(ovni_home, result, monkeypatch)
    client = registry.client_for(ovni_home)
    registry.move_champion(client, second)
    con.close()  # promote takes the run lock and opens the warehouse itself
    monkeypatch.setenv("OVNI_HOME", str(ovni_home.home))

    assert promote_cli("99") == 1
    err = capsys.readouterr().err
    assert "unknown version '99'" in err and f"{first}, {second}" in err
    assert alias_target(ovni_home) == second

    assert promote_cli(first) == 0  # rollback
    assert f"-> version {first}" in capsys.readouterr().out
    assert alias_target(ovni_home) == first
    with dg.DagsterInstance.get() as instance:  # the OVNI instance: the promotion is in the asset's history
        [observation] = instance.fetch_observations(dg.AssetKey("purchase_model"), limit=5).records
    metadata = observation.asset_observation.metadata
    assert metadata["previous_champion_version"].value == second
    assert client.get_model_version(MODEL_NAME, second).tags[registry.PREVIOUS_CHAMPION_TAG] == "true"
    warehouse = duckdb.connect(str(ovni_home.warehouse_path), read_only=True)
    rows = warehouse.execute(
        "SELECT model_version, is_champion, threshold, train_last_week FROM model_versions ORDER BY 1"
    ).fetchall()
    warehouse.close()
    assert [(v, c) for v, c, _, _ in rows] == [(first, True), (second, False)]
    assert rows[0][2] == pytest.approx(result.validation.threshold)
    assert rows[0][3] == result.training.last_week + ONE_WEEK

    assert promote_cli(first) == 0
    assert "already the champion" in capsys.readouterr().out


def test_a_half_made_version_is_never_champion_listed_or_promoted(ovni_home, trained, monkeypatch, capsys):
    con, result = trained
    first = register(ovni_home, result, monkeypatch)
    half_made = register(ovni_home, result, monkeypatch, tagged=False)
    client = registry.client_for(ovni_home)
    registry.move_champion(client, first)
    con.close()
    monkeypatch.setenv("OVNI_HOME", str(ovni_home.home))

    assert promote_cli(half_made) == 1
    err = capsys.readouterr().err
    assert f"version {half_made} of {MODEL_NAME} is half-made" in err and "threshold" in err
    assert alias_target(ovni_home) == first
    assert [str(v.version) for v in registry.registered_versions(client)] == [first]
    assert [row["model_version"] for row in registry.model_version_rows(client)] == [first]

    # Moved onto it by hand in the MLflow UI: nothing takes it for a champion (a new model gets trained).
    client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, half_made)
    assert registry.champion_version(client) is None and registry.load_champion(ovni_home) is None


def test_registry_module_imports_no_dagster():
    code = "import sys, ovni_assets.model.registry; sys.exit(1 if 'dagster' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_failed_dagster_run_ends_the_mlflow_run_its_killed_training_left_running(ovni_home):
    """A training killed with -9 leaves its MLflow run RUNNING: recording its Dagster run's failure marks it
    KILLED, once, whoever records it first (`ovni run` or the daemon's sensor); other runs are left alone:
    another Dagster run's, a notebook's."""
    from ovni_assets.keys import DAGSTER_RUN_ID_TAG, FAILURE_REASON_TAG, INTERRUPTED_TAG
    from ovni_assets.monitoring.run_failures import recent_run_failures, record_failed_run

    client = registry.client_for(ovni_home)
    experiment_id = registry.ensure_experiment(ovni_home)
    with dg.instance_for_test() as instance:
        dead_run = instance.create_run_for_job(dg.GraphDefinition("train").to_job())
        other_run = instance.create_run_for_job(dg.GraphDefinition("other").to_job())
        dead = client.create_run(experiment_id, tags={DAGSTER_RUN_ID_TAG: dead_run.run_id}).info.run_id
        other = client.create_run(experiment_id, tags={DAGSTER_RUN_ID_TAG: other_run.run_id}).info.run_id
        notebook = client.create_run(experiment_id).info.run_id

        assert record_failed_run(instance, ovni_home, dead_run, "Marked failed by OVNI: its process died.")
        assert client.get_run(dead).info.status == "KILLED"
        assert dead_run.run_id in client.get_run(dead).data.tags[INTERRUPTED_TAG]
        assert client.get_run(other).info.status == "RUNNING"
        assert client.get_run(notebook).info.status == "RUNNING"
        tags = instance.get_run_by_id(dead_run.run_id).tags
        assert tags[FAILURE_REASON_TAG] == "Marked failed by OVNI: its process died."

        assert not record_failed_run(instance, ovni_home, dead_run, "the sensor's later look")
        assert [line["run_id"] for line in recent_run_failures(ovni_home)] == [dead_run.run_id]


def test_a_training_killed_as_it_promotes_leaves_a_champion_with_its_lineage(
    ovni_home, small_warehouse, monkeypatch
):
    """The lineage (raw files of the training snapshot) is written before the alias moves: a process that
    dies at the alias leaves no champion the serving snapshot cannot trace."""
    from ovni_assets.defs.resources import mlflow_resource
    from ovni_assets.model import challenger

    def killed(*_args):
        raise KeyboardInterrupt("the process dies as the alias moves")

    monkeypatch.setattr(registry, "move_champion", killed)
    with duckdb.connect(str(small_warehouse)) as con:
        with pytest.raises(KeyboardInterrupt), mlflow_resource(ovni_home).training_run("killed-run"):
            challenger.train_challenger(con, ovni_home, "killed-run")
        lineage = con.execute("SELECT DISTINCT model_version FROM training_snapshot_files").fetchall()
    assert lineage == [("1",)]
