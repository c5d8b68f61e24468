"""One writer at a time: the run lock, and two real `ovni run` processes started together."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ovni_assets.warehouse import RunLockTimeout, connect, run_lock
from tests.cli import OVNI, ovni_env

HOLD_LOCK = """
import sys, time
from pathlib import Path
from ovni_assets.warehouse import run_lock
with run_lock(Path(sys.argv[1]), 5):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock_in_another_process(lock_path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_path), str(seconds)], stdout=subprocess.PIPE
    )
    assert holder.stdout.readline().strip() == b"locked"
    return holder


def test_second_holder_waits_until_the_first_releases(tmp_path):
    lock_path = tmp_path / "warehouse.lock"
    holder = hold_lock_in_another_process(lock_path, 1.5)
    waited = []
    started = time.monotonic()
    with run_lock(lock_path, timeout_seconds=30, on_wait=lambda: waited.append(True)):
        acquired_after = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited == [True]
    assert acquired_after > 0.5  # it really waited for the other process


def test_waiting_gives_up_with_a_clear_error(tmp_path):
    lock_path = tmp_path / "warehouse.lock"
    holder = hold_lock_in_another_process(lock_path, 5)
    try:
        with (
            pytest.raises(RunLockTimeout, match="another OVNI run has held"),
            run_lock(lock_path, timeout_seconds=0.5),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    lock_path = tmp_path / "warehouse.lock"
    holder = hold_lock_in_another_process(lock_path, 60)
    holder.kill()
    holder.wait()
    with run_lock(lock_path, timeout_seconds=2):
        pass


@pytest.mark.slow
def test_two_ovni_runs_started_together_both_succeed(ovni_home, small_landing):
    for path in small_landing.glob("*.parquet"):
        shutil.copy(path, ovni_home.landing_dir / path.name)
    with duckdb.connect() as con:
        query = f"SELECT count(*) FROM '{small_landing}/transacciones*.parquet'"
        landed = con.execute(query).fetchone()[0]
    env = ovni_env(ovni_home.home)
    runs = [
        subprocess.Popen([OVNI, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=900), run.stderr.read()) for run in runs]

    assert [code for code, _ in outcomes] == [0, 0], [err[-2000:] for _, err in outcomes]
    with connect(ovni_home.warehouse_path, ovni_home, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_transactions").fetchone()[0] == landed
        assert con.execute("SELECT count(*) FROM ingested_files").fetchone()[0] == 3
