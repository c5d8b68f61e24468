"""The weekly cycle without anybody driving it, and through crashes: a real `dagster-daemon` alone carries
two drops to served predictions through killed runs (training, publish, ingest), and `ovni run` survives
`kill -9` at every stage; both end with the SQL surface an uninterrupted `ovni run` makes from the drops."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import mlflow
import pytest
from dagster._core.events import DagsterEventType

from ovni_assets.data.synthetic.config import GeneratorConfig
from ovni_assets.data.synthetic.writer import write_dataset
from ovni_assets.home import DAGSTER_YAML
from tests.cli import OVNI, ovni_env, run_ovni

BIN = Path(sys.executable).parent
WAIT_SECONDS = 900
STEP_POLL_SECONDS = 0.05


def cycle_env(home: Path) -> dict[str, str]:
    """Short sensor ticks, and the instance of `home` named for the daemon too."""
    return {
        "OVNI_CYCLE_INTERVAL_SECONDS": "3",
        "OVNI_LANDING_SETTLE_SECONDS": "2",  # the daemon must not take a file it is still being copied
        "DAGSTER_HOME": str(home / "dagster"),
    }


def ovni(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ovni(home, *args, env=cycle_env(home))


# Every test here runs several whole cycles in subprocesses; on a loaded machine one takes minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


@pytest.fixture(scope="module")
def drops(tmp_path_factory) -> tuple[Path, Path]:
    """The first drop (customers, products, every week but the last) and the last week's file, of a small
    generated history (the fewest weeks a training needs, and a few more)."""
    folder = tmp_path_factory.mktemp("drops")
    generated = folder / "generated"
    write_dataset(GeneratorConfig(customers=60, weeks=10, seed=5), generated)
    first = folder / "first"
    first.mkdir()
    for name in ("clientes.parquet", "productos.parquet"):
        shutil.copy(generated / name, first / name)
    source = generated / "transacciones.parquet"
    last = folder / "transacciones_last_week.parquet"
    with duckdb.connect() as con:
        [(week,)] = con.execute(
            f"SELECT max(date_trunc('week', purchase_date)) FROM read_parquet('{source}')"
        ).fetchall()
        for target, condition in ((first / "transacciones.parquet", "<"), (last, ">=")):
            con.execute(
                f"COPY (SELECT * FROM read_parquet('{source}') WHERE purchase_date {condition} "
                f"TIMESTAMP '{week}') TO '{target}' (FORMAT parquet)"
            )
    return first, last


def land(home: Path, *files: Path) -> None:
    (home / "landing").mkdir(parents=True, exist_ok=True)
    for path in files:
        for file in path.iterdir() if path.is_dir() else [path]:
            shutil.copy(file, home / "landing" / file.name)


def served(home: Path) -> list[tuple] | None:
    """The served snapshot's target week and the day its data runs through (a week in progress is
    served again when new days land)."""
    try:
        with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
            return con.execute("SELECT target_week, data_through FROM snapshot_info").fetchall()
    except duckdb.Error:
        return None


def surface(home: Path) -> dict:
    """What users read, without what differs run to run (batch ids, times, version numbers)."""
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        served = {
            "served": con.execute("SELECT target_week, data_through FROM snapshot_info").fetchall(),
            "latest_predictions": con.execute(
                "SELECT week_start, customer_id, product_id, round(probability, 6), will_buy, rank "
                "FROM latest_predictions ORDER BY ALL"
            ).fetchall(),
            "duplicated_rows": con.execute(
                "SELECT count(*) - count(DISTINCT (batch_id, customer_id, product_id)) FROM predictions"
            ).fetchall(),
            "champions": con.execute("SELECT count(*) FROM model_versions WHERE is_champion").fetchall(),
        }
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        stored = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()
            for table in (
                "raw_transactions",
                "raw_customers",
                "raw_products",
                "transactions",
                "pair_features",
            )
        }
        stored["ingested_files"] = con.execute(
            "SELECT file_name, row_count FROM ingested_files ORDER BY ALL"
        ).fetchall()
    return {**served, **stored}


def leftovers(home: Path) -> list[str]:
    """Temp files and liveness locks that a finished cycle must not leave behind."""
    temps = [p.name for p in home.glob(".*.tmp*")]
    locks = [p.name for p in (home / "run_liveness").glob("*")] if (home / "run_liveness").exists() else []
    return temps + locks


@pytest.fixture(scope="module")
def reference(drops, tmp_path_factory) -> tuple[dict, dict]:
    """The surface after each drop, made by uninterrupted `ovni run`s."""
    first, last = drops
    home = tmp_path_factory.mktemp("reference") / "home"
    land(home, first)
    ovni(home, "run")
    after_first = surface(home)
    land(home, last)
    ovni(home, "run")
    return after_first, surface(home)


def wait_until(
    condition, what: str, seconds: float = WAIT_SECONDS, log: Path | None = None, every: float = 0.2
):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}\n{tail}")


class Watch:
    """The Dagster instance of `home`, made here before any OVNI process starts (two processes creating its
    storage at once leave two schema heads) and kept open: a poll costs milliseconds, so polling every
    STEP_POLL_SECONDS catches even the short stretch between two quick steps."""

    def __init__(self, home: Path):
        self.home = home
        (home / "dagster").mkdir(parents=True)
        (home / "dagster" / "dagster.yaml").write_text(DAGSTER_YAML)
        self.instance = dg.DagsterInstance.from_config(str(home / "dagster"))

    def unfinished_run(self, holds):
        """An unfinished run for which `holds(run, instance)` is true, or None."""
        for run in self.instance.get_runs():
            if not run.is_finished and holds(run, self.instance):
                return run
        return None

    def idle(self) -> bool:
        """No run queued or in progress."""
        return self.unfinished_run(lambda run, instance: True) is None

    def worker_pid(self, holds) -> int | None:
        """The process id of a daemon-launched unfinished run for which `holds` is true (read from its
        liveness lock), or None."""
        run = self.unfinished_run(holds)
        lock = self.home / "run_liveness" / f"{run.run_id}.lock" if run else None
        text = lock.read_text().strip() if lock and lock.exists() else ""
        return int(text) if text else None


@pytest.fixture
def watch(tmp_path) -> Iterator[Watch]:
    """A watch on the test's home (`tmp_path / "home"`), still empty."""
    watching = Watch(tmp_path / "home")
    yield watching
    watching.instance.dispose()


def between(done: str, pending: str):
    """A run condition: step `done` has succeeded and step `pending` has not."""

    def holds(run, instance) -> bool:
        events = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_SUCCESS)
        succeeded = {event.step_key for event in events}
        return done in succeeded and pending not in succeeded

    return holds


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def kill_ovni_run_when(
    watch: Watch, args: tuple[str, ...], *, steps: tuple[str, str] | None = None, line: str | None = None
):
    """Start `ovni run ARGS` and kill -9 its whole process group between `steps` (once the first has
    succeeded and before the second has), or when `line` is printed."""
    process = subprocess.Popen(
        [OVNI, *args],
        env=ovni_env(watch.home, cycle_env(watch.home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        if line is not None:

            def printed() -> bool:
                text = process.stdout.readline()
                assert text, f"ovni {' '.join(args)} ended before printing '{line}'"
                return line in text

            seen = wait_until(printed, f"'{line}'")
        else:
            stretch = between(*steps)

            def in_the_stretch() -> bool:
                assert process.poll() is None, f"ovni {' '.join(args)} ended before it was between {steps}"
                return watch.unfinished_run(stretch)

            seen = wait_until(
                in_the_stretch,
                f"{steps[0]} done, {steps[1]} not",
                every=STEP_POLL_SECONDS,
            )
        assert seen
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_ovni_run_recovers_from_kill_9_at_every_stage(drops, reference, watch):
    first, last = drops
    home = watch.home
    land(home, first)

    # inside the ingest: raw rows appended, features not rebuilt
    kill_ovni_run_when(watch, ("run",), steps=("raw_tables", "pair_features"))
    recovered = ovni(home, "run")
    assert "marked run" in recovered.stdout and "failed: its process had died" in recovered.stdout
    assert "ingest: the raw tables are newer than the features" in recovered.stdout
    assert surface(home) == reference[0]

    kill_ovni_run_when(watch, ("run", "--retrain"), line="Created version")  # training, version registered
    ovni(home, "run")
    assert surface(home) == reference[0]

    land(home, last)
    # the batch is appended, not yet published
    kill_ovni_run_when(watch, ("run",), steps=("predictions", "serving_snapshot"))
    ovni(home, "run")
    assert surface(home) == reference[1]
    assert leftovers(home) == []
    again = ovni(home, "run")
    assert "are current" in again.stdout, again.stdout


def test_the_daemon_alone_carries_the_drops_through_killed_runs(drops, reference, watch, tmp_path):
    first, last = drops
    home = watch.home
    log = tmp_path / "daemon.log"
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-m", "ovni_assets.definitions"],
        env=ovni_env(home, cycle_env(home)),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def registered_a_version(run, instance) -> bool:
            return run.job_name == "train_job" and "Created version" in log.read_text()

        def kill_the_run(holds, what: str, every: float = STEP_POLL_SECONDS) -> None:
            kill(wait_until(lambda: watch.worker_pid(holds), what, log=log, every=every))

        land(home, first)
        kill_the_run(registered_a_version, "a training's new version", every=0.2)  # it reads the whole log
        kill_the_run(between("predictions", "serving_snapshot"), "the first publish")
        wait_until(lambda: served(home) == reference[0]["served"] and watch.idle(), "the first week", log=log)
        assert surface(home) == reference[0]

        land(home, last)
        kill_the_run(between("raw_tables", "pair_features"), "the new days' ingest")
        wait_until(lambda: served(home) == reference[1]["served"] and watch.idle(), "the new days", log=log)
        wait_until(lambda: not leftovers(home), "no liveness lock left", seconds=60)
        assert surface(home) == reference[1]
        runs = watch.instance.get_runs()
        assert {run.tags.get("ovni/trigger") for run in runs} == {"sensor"}  # nobody typed ovni run
        failed = [run.tags["ovni/step"] for run in runs if run.status == dg.DagsterRunStatus.FAILURE]
        ingest = "ingest_and_predict" if "ingest_and_predict" in failed else "ingest"
        assert sorted(failed) == sorted([ingest, "predict", "train"])
        tracking = mlflow.MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
        [experiment] = [e for e in tracking.search_experiments() if e.name == "ovni-purchase"]
        statuses = sorted(run.info.status for run in tracking.search_runs([experiment.experiment_id]))
        # None is left running: a training killed before its MLflow run ended has it KILLED, and retrains
        # unless it had promoted its version already; one killed later left a FINISHED run
        assert statuses in (["FINISHED", "KILLED"], ["KILLED"], ["FINISHED"])
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
