"""Plausible-but-wrong input on a home that serves predictions: `ovni run` holds it back and what is served
stays as it was; `ovni retract` takes a landed week back out and serves what was served before it; a held
week a person releases is served."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from ovni_assets.data.schema import MAX_ID, SOURCE_TABLES
from tests.cli import run_ovni
from tests.webhook import Receiver

from .test_pipeline import land_all_but_the_last_week

# Tables a retraction may leave changed: they record history (every batch, report and build ever made).
HISTORY_TABLES = {
    "predictions",
    "prediction_batches",
    "drift_reports",
    "prediction_quality",
    "model_versions",
    "feature_build_state",
    "feature_build_weeks",
    "withdrawn_predictions",
    "withdrawn_prediction_batches",
}


def table_digests(path: Path, skip: set[str] = frozenset()) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        digests = {}
        for table in sorted(set(tables) - skip):
            # Sums of floats differ in the last bits from one rebuild to the next: compare them rounded.
            described = con.execute(f'SELECT column_name, column_type FROM (DESCRIBE "{table}")').fetchall()
            columns = [
                f'round("{name}", 9)' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
                for name, kind in described
            ]
            frame = con.execute(f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY ALL').df()
            digests[table] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
        return digests
    finally:
        con.close()


def champion(home: Path) -> str:
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        return con.execute("SELECT model_version FROM model_versions WHERE is_champion").fetchall()[0][0]
    finally:
        con.close()


def served(home: Path) -> tuple:
    """Target week, model version and every served prediction (not the batch id or creation time)."""
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        info = con.execute("SELECT target_week, model_version FROM snapshot_info").fetchall()[0]
        rows = con.execute(
            "SELECT week_start, customer_id, product_id, round(probability, 9), will_buy "
            "FROM latest_predictions ORDER BY ALL"
        ).fetchall()
        return info, rows
    finally:
        con.close()


def served_batch(home: Path) -> str:
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        return con.execute("SELECT batch_id FROM snapshot_info").fetchone()[0]
    finally:
        con.close()


def served_weeks(home: Path) -> dict:
    """{week: batch id} of `latest_predictions`, the newest batch of every week."""
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        return dict(con.execute("SELECT DISTINCT week_start, batch_id FROM latest_predictions").fetchall())
    finally:
        con.close()


def target_week_predictions(home: Path) -> pd.DataFrame:
    """The served predictions of the snapshot's target week, with the week and model version."""
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT p.week_start, p.model_version, p.customer_id, p.product_id, p.probability, p.will_buy "
            "FROM latest_predictions p JOIN snapshot_info s ON p.week_start = s.target_week ORDER BY ALL"
        ).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def serving_home(small_landing, tmp_path_factory) -> tuple[Path, Path]:
    """A home that has ingested all but the last week, trained a champion and published; the last week's
    file beside it."""
    root = tmp_path_factory.mktemp("guards")
    home = root / "home"
    (home / "landing").mkdir(parents=True)
    last_week = root / "transacciones_last_week.parquet"
    land_all_but_the_last_week(small_landing, home / "landing", last_week)
    run_ovni(home, "run")
    return home, last_week


def newest_date(home: Path) -> pd.Timestamp:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return pd.Timestamp(con.execute("SELECT max(purchase_date) FROM raw_transactions").fetchall()[0][0])
    finally:
        con.close()


def sample_lines(home: Path, lines: int) -> pd.DataFrame:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            f"SELECT customer_id, product_id, order_id + 10000000 AS order_id, purchase_date, items "
            f"FROM raw_transactions ORDER BY purchase_date DESC, order_id LIMIT {lines}"
        ).df()
    finally:
        con.close()


def write_stray_line(home: Path, path: Path) -> None:
    """One line dated ten weeks after the newest data (inside any calendar window)."""
    sample_lines(home, 1).assign(purchase_date=newest_date(home) + pd.Timedelta(weeks=10)).to_csv(
        path, index=False
    )


def write_three_lines_next_week(home: Path, path: Path) -> None:
    sample_lines(home, 3).assign(purchase_date=newest_date(home) + pd.Timedelta(days=2)).to_csv(
        path, index=False
    )


def write_nan_units(home: Path, path: Path) -> None:
    frame = sample_lines(home, 4).astype({"items": str})
    frame.loc[1, "items"] = "nan"
    frame.to_csv(path, index=False)


def write_id_past_json_range(home: Path, path: Path) -> None:
    frame = sample_lines(home, 4).astype({"customer_id": object})
    frame.loc[0, "customer_id"] = MAX_ID + 2
    frame.to_csv(path, index=False)


def write_other_bytes_under_an_ingested_name(home: Path, path: Path) -> None:
    sample_lines(home, 50).to_parquet(path)


def write_reexported_week(home: Path, path: Path) -> None:
    """The newest landed week again, every order renumbered."""
    newest = newest_date(home)
    lines = sample_lines(home, 1_000_000)
    week_start = newest.normalize() - pd.Timedelta(days=newest.dayofweek)
    lines[lines["purchase_date"] >= week_start].to_parquet(path)


def write_next_week_in_thousandths(home: Path, path: Path) -> None:
    """The next week's real file with its units read as thousandths (`1.200` as 1.2)."""
    lines = pd.read_parquet(home.parent / "transacciones_last_week.parquet")
    lines.assign(items=lines["items"] / 1000).to_parquet(path)


def write_next_week_with_ambiguous_marks(home: Path, path: Path) -> None:
    """The next week's real file as a `;`-separated export whose units all read `2.000`: 2 or 2000."""
    lines = pd.read_parquet(home.parent / "transacciones_last_week.parquet")
    units = lines["items"].round().clip(lower=1).astype(int)
    lines.assign(items=[f"{u}.000" for u in units]).to_csv(path, sep=";", index=False)


def write_renumbered_customers(home: Path, path: Path) -> None:
    """The whole customers master data again, every id renumbered."""
    columns = ", ".join(f'"{c}"' for c in SOURCE_TABLES["customers"].column_names)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        frame = con.execute(f"SELECT DISTINCT ON (customer_id) {columns} FROM raw_customers").df()
    finally:
        con.close()
    frame.assign(customer_id=frame["customer_id"] + 5_000_000).to_parquet(path)


TRIGGERS = {
    "a stray date ten weeks ahead": ("transacciones_stray.csv", write_stray_line, "would hold 0 line(s)"),
    "three lines of next week": (
        "transacciones_3_lines.csv",
        write_three_lines_next_week,
        "would hold 3 line(s)",
    ),
    "NaN units": ("transacciones_nan.csv", write_nan_units, "column items has 1 NaN or infinite value(s)"),
    "an id JavaScript cannot represent": (
        "transacciones_big_id.csv",
        write_id_past_json_range,
        "column customer_id has 1 negative or above 9,007,199,254,740,991",
    ),
    "a re-exported week": ("transacciones_again.parquet", write_reexported_week, "reexported_lines: 100.0%"),
    "units read as thousandths": (
        "transacciones_thousandths.parquet",
        write_next_week_in_thousandths,
        "units_per_line: week ",
    ),
    "numbers that read 2 or 2000": (
        "transacciones_semicolon.csv",
        write_next_week_with_ambiguous_marks,
        "read either with a decimal mark (1.200 = 1.2) or with a thousands mark (1.200 = 1200)",
    ),
    "customers renumbered": (
        "clientes_renumbered.parquet",
        write_renumbered_customers,
        "changed_ids: 100.0%",
    ),
    "other bytes under an ingested name": (
        "transacciones.parquet",
        write_other_bytes_under_an_ingested_name,
        "with other bytes; a batch is never added twice: to replace it run `ovni retract transactions-",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(TRIGGERS))
def test_wrong_input_is_held_back_and_what_is_served_stays(serving_home, case):
    home, _ = serving_home
    name, write, reason = TRIGGERS[case]
    warehouse, snapshot, model = table_digests(home / "warehouse.duckdb"), served(home), champion(home)
    landing = home / "landing" / name
    if landing.exists():  # the ingested file is moved aside; the new one arrives under its name
        shutil.move(landing, home / f"{name}.ingested")
    write(home, landing)

    receiver = Receiver()
    try:
        result = run_ovni(home, "run", expect=1, env={"OVNI_ALERT_WEBHOOK_URL": receiver.url})
    finally:
        receiver.close()

    assert result.stderr.strip().splitlines()[-1].startswith(f"ovni run: rejected {name}: ")
    (alert,) = receiver.bodies  # one alert: the held file (the run's failure is that same event)
    assert alert["event"] == "file_held" and alert["file"] == name and reason in alert["text"]
    assert reason in result.stderr
    assert (home / "quarantine" / name).exists() and not landing.exists()
    assert reason in (home / "quarantine" / f"{name}.reason.txt").read_text()
    assert table_digests(home / "warehouse.duckdb") == warehouse
    assert served(home) == snapshot and champion(home) == model
    if (home / f"{name}.ingested").exists():
        shutil.move(home / f"{name}.ingested", landing)
    (home / "quarantine" / name).unlink()


@pytest.mark.slow
def test_a_file_still_being_written_is_left_for_a_later_run(serving_home):
    home, last_week = serving_home
    warehouse, snapshot = table_digests(home / "warehouse.duckdb"), served(home)
    growing = home / "landing" / "transacciones_last_week.parquet"
    shutil.copy(last_week, growing)  # just written: modified now

    run_ovni(
        home, "run", env={"OVNI_LANDING_SETTLE_SECONDS": "3600", "OVNI_LANDING_SETTLE_MAX_WAIT_SECONDS": "1"}
    )

    assert growing.exists() and not list((home / "quarantine").glob("transacciones_last_week*"))
    assert table_digests(home / "warehouse.duckdb", skip=HISTORY_TABLES) == {
        k: v for k, v in warehouse.items() if k not in HISTORY_TABLES
    }
    assert served(home) == snapshot
    growing.unlink()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # pipeline runs: land, retract (ingest_job, predict_job), land again
def test_retract_takes_a_landed_week_back_out_and_serves_what_was_served(serving_home):
    home, last_week = serving_home
    warehouse, snapshot, model = (
        table_digests(home / "warehouse.duckdb", HISTORY_TABLES),
        served(home),
        champion(home),
    )
    predicted_before = target_week_predictions(home)
    weeks_before = served_weeks(home)
    shutil.copy(last_week, home / "landing" / "transacciones_last_week.parquet")
    run_ovni(home, "run")
    assert served(home)[0][0] > snapshot[0][0]  # the target week moved forward
    predicted_with_the_week = target_week_predictions(home)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    batch_id = con.execute(
        "SELECT batch_id FROM ingested_files WHERE file_name = 'transacciones_last_week.parquet'"
    ).fetchall()[0][0]
    con.close()

    retracted = run_ovni(home, "retract", batch_id)

    assert f"batch {batch_id} (transactions" in retracted.stdout
    assert "prediction batch(es) made since it was ingested withdrawn" in retracted.stdout
    # Nothing built from the retracted week stays served: the served week and every week's batch go back.
    # The target week is scored again (a new batch); every other week keeps the batch it had.
    target = snapshot[0][0]
    assert served(home)[0][0] == target and served_weeks(home).keys() == weeks_before.keys()
    assert {w: b for w, b in served_weeks(home).items() if w != target} == {
        w: b for w, b in weeks_before.items() if w != target
    }
    assert (
        home / "quarantine" / "retracted" / "transacciones_last_week.parquet"
    ).read_bytes() == last_week.read_bytes()
    assert not (home / "landing" / "transacciones_last_week.parquet").exists()
    assert table_digests(home / "warehouse.duckdb", HISTORY_TABLES) == warehouse  # raw, clean and features
    assert champion(home) == model
    # The target week is predicted again from the same features by the same model: same pairs and decisions.
    # Probabilities agree to 1e-2, not exactly (docs/ingestion.md, "ovni retract").
    pd.testing.assert_frame_equal(
        target_week_predictions(home), predicted_before, check_exact=False, atol=1e-2, rtol=0
    )

    unknown = run_ovni(home, "retract", batch_id, expect=1)
    assert (
        unknown.stderr.strip()
        == f"ovni retract: no ingested batch {batch_id!r} (batch ids are in the ingested_files table)"
    )

    # Landing the same file again serves that week again, within the same tolerance.
    shutil.move(home / "quarantine" / "retracted" / "transacciones_last_week.parquet", home / "landing")
    run_ovni(home, "run")
    pd.testing.assert_frame_equal(
        target_week_predictions(home), predicted_with_the_week, check_exact=False, atol=1e-2, rtol=0
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)  # two pipeline runs: held, then released and served
def test_a_held_week_a_person_releases_is_ingested_and_served(serving_home):
    """A short week (a holiday, say) is held by the plausibility of new weeks; `ovni held` shows why,
    `ovni release` records a person's reason, and the next run takes it and serves the week after it."""
    home, last_week = serving_home
    batch = served_batch(home)
    name = "transacciones_short_week.csv"
    week = pd.read_parquet(last_week)  # a week after the newest data, with a fortieth of its lines
    short = week.sample(n=max(1, len(week) // 40), random_state=0)
    short.assign(purchase_date=short["purchase_date"] + pd.Timedelta(weeks=1)).to_csv(
        home / "landing" / name, index=False
    )
    run_ovni(home, "run", expect=1)

    listed = run_ovni(home, "held")
    assert f"{name}  held 20" in listed.stdout and "would hold" in listed.stdout
    assert f'release it: ovni release {name} --reason "..."' in listed.stdout
    (held,) = json.loads(run_ovni(home, "held", "--format", "json").stdout)
    assert held["file"] == name and held["releasable"] and "would hold" in held["reason"]
    no_reason = run_ovni(home, "release", name, "--reason", " ", expect=1)
    assert "give the reason for the release" in no_reason.stderr

    released = run_ovni(home, "release", name, "--reason", "semana de feriado")
    assert f"ovni release: {name} (sha256 {held['sha256'][:12]}…) released at" in released.stdout
    assert "nothing held" in run_ovni(home, "held").stdout
    run_ovni(home, "run")

    assert served_batch(home) != batch  # scored again with the released week's lines
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        record = con.execute(
            "SELECT r.file_name, r.release_reason, r.held_reason, i.batch_id FROM released_files r "
            "JOIN ingested_files i ON i.file_hash = r.file_hash"
        ).fetchall()
    finally:
        con.close()
    assert [row[:2] for row in record] == [(name, "semana de feriado")] and "would hold" in record[0][2]
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("raw_transactions"))
    metadata = event.asset_materialization.metadata
    assert metadata["files_released"].value == [{"file": name, "reason": "semana de feriado"}]
