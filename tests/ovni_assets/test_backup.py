"""`ovni backup` / `ovni restore`: a whole home copied while it runs, verified, and put back elsewhere."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ovni_assets.backup import (
    COMPLETE,
    MANIFEST,
    PARTIAL_PREFIX,
    BackupError,
    complete_backups,
    find_backup,
    restore_backup,
    write_backup,
)
from ovni_assets.cli import main
from ovni_assets.defs.backup import backup_job, backup_schedules
from ovni_assets.settings import OvniSettings
from ovni_serving.app import create_app
from tests.cli import OVNI, ovni_env, run_ovni

TRANSIENT = shutil.ignore_patterns("warehouse.lock", "run_liveness", ".built")


@pytest.fixture
def home(served_home: Path, tmp_path: Path) -> Path:
    """A copy of the session's served home (champion, snapshot, Dagster runs) this test may change."""
    copy = tmp_path / "home"
    shutil.copytree(served_home, copy, ignore=TRANSIENT)
    return copy


def served_answers(home: Path) -> dict[str, bytes]:
    """What the API answers over `home`: readiness, the batch of the week and a customer's recommendations."""
    app = create_app(OvniSettings(home=home), poll=False)
    assert app.state.store.refresh(), app.state.store.errors
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        customer = con.execute("SELECT min(customer_id) FROM latest_predictions").fetchone()[0]
    with TestClient(app) as client:
        answers = {
            path: client.get(path)
            for path in ("/ready", "/predictions?limit=500", f"/customers/{customer}/recommendations")
        }
        model = client.get("/model").json()
    assert all(answer.status_code == 200 for answer in answers.values()), answers
    return {
        **{path: answer.content for path, answer in answers.items()},
        "champion": f"{model['version']} {model['run_id']} {model['threshold']}".encode(),
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def holds_run_lock(home: Path) -> bool:
    """Whether some process holds the warehouse run lock of `home` now."""
    lock = home / "warehouse.lock"
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def land_next_week(home: Path) -> str:
    """The newest landed week again, a week later and under new order ids: the next week's export."""
    frames = [pd.read_parquet(p) for p in sorted((home / "landing").glob("transacciones*.parquet"))]
    transactions = pd.concat(frames)
    weeks = transactions["purchase_date"].dt.to_period("W-SUN").dt.start_time
    week = transactions[weeks == weeks.max()].copy()
    week["purchase_date"] += pd.Timedelta(days=7)
    week["order_id"] = week["order_id"].rank(method="dense").astype("int64") + int(
        transactions["order_id"].max()
    )
    week.to_parquet(home / "landing" / "transacciones_next_week.parquet", index=False)
    return str((weeks.max() + pd.Timedelta(days=14)).date())


def served_week(home: Path) -> str:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return str(con.execute("SELECT target_week FROM snapshot_info").fetchone()[0])


@pytest.mark.slow
def test_a_lost_home_comes_back_from_its_backup_and_takes_the_next_week(home: Path, tmp_path: Path):
    backups = tmp_path / "backups"
    before = served_answers(home)
    snapshot_sha = sha256(home / "serving.duckdb")
    done = run_ovni(home, "backup", str(backups))
    assert "complete and verified" in done.stdout and "serving week" in done.stdout
    shutil.rmtree(home)  # the whole home is lost

    restored = tmp_path / "restored"
    done = run_ovni(restored, "restore", str(backups))
    assert "restored into" in done.stdout
    assert sha256(restored / "serving.duckdb") == snapshot_sha
    assert served_answers(restored) == before  # same batch, probabilities and champion, byte for byte
    with sqlite3.connect(restored / "mlflow.db") as db:
        sources = [row[0] for row in db.execute("SELECT storage_location FROM model_versions")]
    assert sources and all(source.startswith((restored / "mlartifacts").as_uri()) for source in sources)

    # the next week lands on the restored home; a backup taken meanwhile waits for the run's writes
    next_week = land_next_week(restored)
    run = subprocess.Popen(
        [OVNI, "run"], env=ovni_env(restored), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not holds_run_lock(restored):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "ovni run never took the run lock"
            time.sleep(0.05)
        during = run_ovni(restored, "backup", str(backups))
        _, stderr = run.communicate(timeout=600)
    finally:
        run.kill()
    assert run.returncode == 0, stderr
    assert "waiting for the running OVNI run to finish" in during.stdout
    assert served_week(restored) == next_week

    again = tmp_path / "again"  # what the backup taken during the run holds carries on from there
    run_ovni(again, "restore", str(backups))
    assert (again / "landing" / "transacciones_next_week.parquet").exists()
    run_ovni(again, "run")
    assert served_week(again) == next_week
    assert b'"status":"ready"' in served_answers(again)["/ready"]


def test_a_backup_killed_halfway_never_counts(home: Path, tmp_path: Path):
    backups = tmp_path / "backups"
    first = run_ovni(home, "backup", str(backups)).stdout.split()[2]
    held = home / "quarantine" / "held_export.bin"
    with held.open("wb") as handle:  # big enough to be caught mid-copy
        handle.truncate(400 << 20)
    backup = subprocess.Popen([OVNI, "backup", str(backups)], env=ovni_env(home))
    try:
        deadline = time.monotonic() + 60
        copying = None
        while copying is None:
            assert backup.poll() is None, "the backup ended before it could be killed"
            assert time.monotonic() < deadline
            partial = [p / "home" / "quarantine" / held.name for p in backups.glob(f"{PARTIAL_PREFIX}*")]
            copying = next((p for p in partial if p.exists() and p.stat().st_size > 0), None)
            time.sleep(0.005)
        os.kill(backup.pid, signal.SIGKILL)
        backup.wait(timeout=30)
    finally:
        backup.kill()
    assert copying.stat().st_size < held.stat().st_size  # it died copying
    assert [p.name for p in complete_backups(backups)] == [Path(first).name]
    assert find_backup(backups) == Path(first)

    restored = tmp_path / "restored"
    assert "ovni-backup-" in run_ovni(restored, "restore", str(backups)).stdout
    assert not (restored / "quarantine" / held.name).exists()  # the complete backup, from before
    assert served_week(restored) == served_week(home)

    held.unlink()
    run_ovni(home, "backup", str(backups))
    assert not list(backups.glob(f"{PARTIAL_PREFIX}*"))  # the next backup cleared what the killed one left
    assert len(complete_backups(backups)) == 2


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda b: flip_a_byte(b / "home" / "warehouse.duckdb"), "warehouse.duckdb checksum differs"),
        (lambda b: flip_a_byte(b / "home" / "mlflow.db"), "mlflow.db checksum differs"),
        (lambda b: (b / "home" / "serving.duckdb").unlink(), "serving.duckdb is missing"),
        (
            lambda b: (b / MANIFEST).write_text((b / MANIFEST).read_text() + " "),
            "does not match its COMPLETE",
        ),
        (lambda b: (b / COMPLETE).unlink(), "not complete"),
    ],
    ids=["flipped-warehouse-byte", "flipped-mlflow-byte", "missing-file", "edited-manifest", "no-marker"],
)
def test_a_damaged_backup_is_refused_naming_the_file(
    home: Path, tmp_path: Path, monkeypatch, capsys, damage, named
):
    backup = write_backup(OvniSettings(home=home), tmp_path / "backups", keep=3).path
    damage(backup)
    target = tmp_path / "restored"
    monkeypatch.setenv("OVNI_HOME", str(target))
    assert main(["restore", str(backup)]) == 1
    error = capsys.readouterr().err
    assert named in error and "nothing was restored" in error and len(error.splitlines()) == 1
    assert not target.exists()


def test_restore_takes_only_a_missing_or_empty_home(home: Path, tmp_path: Path):
    backup = write_backup(OvniSettings(home=home), tmp_path / "backups", keep=3).path
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(OvniSettings(home=home), backup)
    assert served_week(home)  # the home it refused is untouched
    empty = tmp_path / "mounted_volume"
    empty.mkdir()
    restore_backup(OvniSettings(home=empty), backup)
    assert sha256(empty / "warehouse.duckdb") == sha256(home / "warehouse.duckdb")
    # a restore killed halfway leaves its marker: the next restore starts that home over
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    (interrupted / ".ovni-restoring").write_text(str(backup))
    (interrupted / "warehouse.duckdb").write_bytes(b"half a file")
    restore_backup(OvniSettings(home=interrupted), backup)
    assert sha256(interrupted / "warehouse.duckdb") == sha256(home / "warehouse.duckdb")
    assert not (interrupted / ".ovni-restoring").exists()


def test_the_manifest_lists_every_file_with_its_checksum_and_leaves_out_what_is_transient(
    home: Path, tmp_path: Path
):
    (home / "run_liveness").mkdir(exist_ok=True)
    (home / "run_liveness" / "some-run").write_text("1234")
    (home / ".serving.duckdb.999.tmp").write_bytes(b"half a snapshot")
    (home / "landing" / "outside.parquet").symlink_to(tmp_path / "elsewhere.parquet")
    info = write_backup(OvniSettings(home=home), tmp_path / "backups", keep=3)
    manifest = json.loads((info.path / MANIFEST).read_text())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert {"warehouse.duckdb", "serving.duckdb", "mlflow.db", "dagster/history/runs.db"} <= set(listed)
    assert not [p for p in listed if p.startswith(("run_liveness", "warehouse.lock", ".serving"))]
    assert "landing/outside.parquet" not in listed  # a symlink is not followed out of the home
    assert listed["mlflow.db"]["kind"] == "sqlite" and listed["warehouse.duckdb"]["kind"] == "duckdb"
    for path, entry in listed.items():
        assert sha256(info.path / "home" / path) == entry["sha256"], path
    assert manifest["served"]["batch_id"] and manifest["mlflow_store"] == "home"
    runs_copy = sqlite3.connect(info.path / "home" / "dagster" / "history" / "runs.db")
    assert runs_copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # self-contained, no -wal
    runs_copy.close()


def test_retention_keeps_the_newest_and_a_backup_stays_out_of_the_home(home: Path, tmp_path: Path):
    settings = OvniSettings(home=home)
    backups = tmp_path / "backups"
    made = [write_backup(settings, backups, keep=2).path for _ in range(3)]
    assert complete_backups(backups) == made[1:]
    with pytest.raises(BackupError, match="inside OVNI_HOME"):
        write_backup(settings, home / "backups", keep=2)


def test_the_backup_schedule_exists_once_a_directory_is_set_and_its_job_backs_up(home: Path, tmp_path: Path):
    assert backup_schedules(OvniSettings(home=home)) == []
    settings = OvniSettings(home=home, backup_dir=tmp_path / "nightly", backup_keep=2)
    (schedule,) = backup_schedules(settings)
    assert schedule.name == "backup_schedule" and schedule.job_name == "backup_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.DagsterInstance.ephemeral() as instance:
        result = backup_job.execute_in_process(instance=instance, resources={"settings": settings})
    assert result.success
    (backup,) = complete_backups(tmp_path / "nightly")
    assert result.output_for_node("home_backup") == str(backup)
