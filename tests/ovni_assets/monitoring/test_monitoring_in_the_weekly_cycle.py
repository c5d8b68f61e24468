"""Monitoring inside two real `ovni run` cycles on small generated data: the first trains and predicts, the
second lands the predicted week, scores it, reports drift against the champion and keeps the cooldown; the
lineage query of docs/monitoring.md walks from a prediction to the landed files' hashes."""

from __future__ import annotations

import csv
import io
import shutil

import dagster as dg
import duckdb
import pytest

from ovni_assets.cli import main
from ovni_assets.defs.cycle_sensors import cycle_sensor_every
from ovni_assets.monitoring.triggers import decide_retrain, retrain_facts_from_instance
from ovni_assets.settings import get_settings

LINEAGE_QUERY = """
SELECT p.week_start, p.customer_id, p.product_id, round(p.probability, 3) AS probability, p.will_buy,
       p.batch_id, l.model_version, m.threshold, m.val_f1, l.run_id AS mlflow_run_id,
       l.training_snapshot_id, l.train_last_week, l.file_kind, l.file_name, l.file_hash
FROM latest_predictions p
JOIN lineage l USING (batch_id)
JOIN model_versions m ON m.model_version = l.model_version
WHERE p.customer_id = {customer} AND p.product_id = {product}
ORDER BY l.file_kind, l.file_name
"""


def sql_rows(capsys, query: str) -> list[dict[str, str]]:
    capsys.readouterr()  # drop what earlier commands printed
    assert main(["sql", query, "--format", "csv"]) == 0, capsys.readouterr().err
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def latest_metadata(instance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


@pytest.mark.slow
def test_two_weekly_cycles_score_the_predicted_week_and_trace_lineage(ovni_home, tmp_path, capsys):
    source = tmp_path / "source"
    assert main(["generate", "--out", str(source), "--customers", "250", "--weeks", "16", "--seed", "3"]) == 0
    for name in ("clientes.parquet", "productos.parquet"):
        shutil.copy(source / name, ovni_home.landing_dir / name)
    con = duckdb.connect()
    transactions = source / "transacciones.parquet"
    last_week = con.execute(
        f"SELECT max(date_trunc('week', purchase_date)) FROM '{transactions}'"
    ).fetchone()[0]
    for target, condition in (
        (ovni_home.landing_dir / "transacciones_base.parquet", "<"),
        (tmp_path / "transacciones_last_week.parquet", ">="),
    ):
        con.execute(
            f"COPY (SELECT * FROM '{transactions}' WHERE purchase_date {condition} TIMESTAMP '{last_week}') "
            f"TO '{target}' (FORMAT parquet)"
        )
    capsys.readouterr()

    # cycle 1: no champion → the drift report says so, training, a batch for the last (held back) week
    assert main(["run"]) == 0, capsys.readouterr().err
    with dg.DagsterInstance.get() as instance:
        assert "No champion yet" in latest_metadata(instance, "drift_report")["report"]
        assert latest_metadata(instance, "prediction_quality")["batches_scored"] == 0
        [train_run] = instance.get_runs(filters=dg.RunsFilter(job_name="train_job"))
        assert train_run.tags["ovni/retrain_reason"] == "no champion: train the first model"
    [batch] = sql_rows(capsys, "SELECT DISTINCT week_start, batch_id, model_version FROM latest_predictions")
    assert batch["week_start"] == str(last_week.date())

    # the lineage query reaches the hashes of exactly the files that were landed
    [pair] = sql_rows(
        capsys, "SELECT customer_id, product_id FROM latest_predictions ORDER BY probability DESC LIMIT 1"
    )
    lineage = sql_rows(capsys, LINEAGE_QUERY.format(customer=pair["customer_id"], product=pair["product_id"]))
    assert {row["file_name"] for row in lineage} == {
        "clientes.parquet",
        "productos.parquet",
        "transacciones_base.parquet",
    }
    assert all(row["batch_id"] == batch["batch_id"] and row["mlflow_run_id"] for row in lineage)
    with duckdb.connect(str(ovni_home.warehouse_path), read_only=True) as warehouse:
        landed = dict(warehouse.execute("SELECT file_name, file_hash FROM ingested_files").fetchall())
    assert {row["file_name"]: row["file_hash"] for row in lineage} == landed

    # cycle 2: the predicted week lands → its batch is scored; drift is measured against champion v1
    shutil.move(tmp_path / "transacciones_last_week.parquet", ovni_home.landing_dir)
    assert main(["run"]) == 0, capsys.readouterr().err
    [quality] = sql_rows(capsys, "SELECT * FROM prediction_quality")
    assert quality["batch_id"] == batch["batch_id"] and quality["week_start"] == batch["week_start"]
    assert int(quality["n_actual"]) > 0 and int(quality["n_predicted"]) > 0
    assert 0 < float(quality["f1"]) < 1
    drift = sql_rows(capsys, "SELECT DISTINCT week_start, reference_model_version FROM drift_reports")
    assert drift == [{"week_start": batch["week_start"], "reference_model_version": batch["model_version"]}]

    with dg.DagsterInstance.get() as instance:
        quality_metadata = latest_metadata(instance, "prediction_quality")
        assert quality_metadata["latest_f1"] == pytest.approx(float(quality["f1"]))
        assert quality_metadata["latest_model_version"] == batch["model_version"]
        facts = retrain_facts_from_instance(instance, champion=batch["model_version"])
        assert facts.has_champion and facts.realized_f1 == pytest.approx(float(quality["f1"]))
        assert facts.drifted_features is not None
        assert decide_retrain(facts).reason.startswith("cooldown")  # trained minutes ago
        assert len(instance.get_runs(filters=dg.RunsFilter(job_name="train_job"))) == 1
        # the daemon's sensor reads the same facts: nothing is left to do after the cycle
        context = dg.build_sensor_context(instance=instance, resources={"settings": get_settings()})
        result = cycle_sensor_every(30)(context)
        assert "are current" in result.skip_message
