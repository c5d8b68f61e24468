"""The code location as the Dagster UI loads it: valid, every asset described and grouped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ovni_assets.definitions import defs

REPO_ROOT = Path(__file__).resolve().parents[2]
GROUPS = {"ingest", "clean", "features", "model", "predictions", "monitoring"}


def test_workspace_loads_and_validates(tmp_path):
    env = {**os.environ, "OVNI_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_every_asset_has_a_description_and_a_known_group():
    graph = defs.resolve_asset_graph()
    keys = [key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable]
    assert {"raw_transactions", "customers", "products", "transactions"} <= {k.to_user_string() for k in keys}
    for key in keys:
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.group_name in GROUPS, f"{key.to_user_string()} is in group {node.group_name!r}"


def test_jobs_run_in_one_process_so_the_run_lock_covers_the_whole_run():
    for job in defs.resolve_all_job_defs():
        if job.name.startswith("__"):
            continue
        assert job.executor_def is dg.in_process_executor or job.executor_def.name == "in_process", job.name


def test_jobs_and_schedules_of_the_code_location():
    jobs = {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}
    assert jobs == {
        "ingest_job",
        "train_job",
        "predict_job",
        "weekly_job",
        "served_week_job",
        "backup_job",
        "release_job",
    }
    schedules = {schedule.name: defs.resolve_schedule_def(schedule.name) for schedule in defs.schedules}
    assert set(schedules) == {"retrain_schedule", "served_week_schedule"}
    assert schedules["served_week_schedule"].job_name == "served_week_job"
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in schedules.values())


def test_only_the_freshness_job_runs_without_the_warehouse():
    """The check job reads serving.duckdb alone: no `warehouse` resource, so no run lock to wait for."""
    for name in ("ingest_job", "train_job", "predict_job", "weekly_job"):
        assert "warehouse" in defs.resolve_job_def(name).required_resource_keys, name
    freshness = defs.resolve_job_def("served_week_job")
    assert freshness.required_resource_keys == {"settings", "io_manager"}
    assert [node.name for node in freshness.graph.node_defs] == ["serving_snapshot_served_week_is_current"]


def test_every_asset_check_has_a_description():
    graph = defs.resolve_asset_graph()
    assert (
        dg.AssetCheckKey(dg.AssetKey("serving_snapshot"), "served_week_is_current") in graph.asset_check_keys
    )
    for key in graph.asset_check_keys:
        assert graph.get_check_spec(key).description, key.to_user_string()
