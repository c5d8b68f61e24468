"""Data that parses but is wrong is held back: stray or tiny weeks, files still being written, a second file
under an ingested name; and `retract_batch` takes an ingested batch back out, losing nothing."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ovni_assets.data.ingestion import (
    RejectedFile,
    implausible_new_weeks,
    ingest_landing,
    scan_landing,
    wait_until_settled,
)
from ovni_assets.data.retraction import UnknownBatch, retract_batch
from ovni_assets.data.schema import table_for_file_name
from ovni_assets.prediction.batch import ensure_prediction_tables

from .test_ingestion import CUSTOMERS, PRODUCTS, warehouse_fingerprint

MONDAY = date(2024, 1, 1)


def week(n: int) -> date:
    return MONDAY + timedelta(weeks=n)


def weeks_of(*lines: int) -> dict[date, int]:
    return {week(n): count for n, count in enumerate(lines)}


# Known: weeks 0..3 with a median of 100 lines.
KNOWN = weeks_of(90, 110, 100, 100)


@pytest.mark.parametrize(
    ("incoming", "rejected_week"),
    [
        ({week(4): 95}, None),  # the next week, normal volume
        ({week(4): 10}, None),  # exactly the minimum share (10 %)
        ({week(4): 9}, week(4)),  # below it: no believable week
        ({week(4): 3}, week(4)),  # the 3-line file
        ({week(4): 100, week(5): 100}, None),  # two whole weeks at once (a backfill)
        ({week(4): 100, week(5): 2}, week(5)),  # a whole week, then a handful of lines
        ({week(13): 1}, week(4)),  # one stray line ten weeks ahead: empty weeks before it
        ({week(4): 100, week(6): 100}, week(5)),  # a gap between two normal weeks
        ({week(3): 2}, None),  # late lines in a week the data already holds
        ({week(0) - timedelta(weeks=5): 1}, None),  # old lines before the data starts
        ({}, None),
    ],
)
def test_new_weeks_must_each_hold_a_believable_share_of_the_median_week(incoming, rejected_week):
    reason = implausible_new_weeks(KNOWN, incoming)
    if rejected_week is None:
        assert reason is None
    else:
        assert (
            reason is not None
            and f"week {rejected_week} would hold {incoming.get(rejected_week, 0)}" in reason
        )
        assert "median weekly volume (100 lines" in reason


def test_the_median_is_of_the_newest_weeks_so_it_follows_growth():
    known = weeks_of(*([10] * 20 + [1000] * 12))  # the business grew 100x twelve weeks ago
    assert implausible_new_weeks(known, {week(32): 50}) is not None  # 5 % of today's normal week
    assert implausible_new_weeks(known, {week(32): 500}) is None


def test_a_first_file_is_judged_against_its_own_weeks():
    assert implausible_new_weeks({}, weeks_of(100, 120, 80)) is None
    reason = implausible_new_weeks({}, {**weeks_of(100, 120, 80), week(12): 1})
    assert reason is not None and f"week {week(3)} would hold 0 line(s)" in reason


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("transacciones_2024w40.parquet", "transactions"),
        ("TRANSACCIONES_W40.CSV", "transactions"),
        ("Clientes.Parquet", "customers"),
        ("productos.csv", "products"),
        ("transacciones_2024w40.parquet.part", None),
        ("transacciones_2024w40.csv.tmp", None),
        (".transacciones_2024w40.parquet", None),  # rsync's temporary name
        ("ventas.parquet", None),
        ("transacciones.xlsx", None),
    ],
)
def test_one_definition_of_a_landing_file(name, kind):
    table = table_for_file_name(name)
    assert (table.kind if table else None) == kind


@pytest.fixture
def home(tmp_path: Path):
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    landing.mkdir()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield con, landing, quarantine
    con.close()


def transactions_of_week(n: int, lines: int, first_order: int = 1) -> pd.DataFrame:
    """`lines` order lines spread over Monday..Saturday of week `n`."""
    return pd.DataFrame(
        {
            "customer_id": [1 + i % 2 for i in range(lines)],
            "product_id": [10 + i % 2 for i in range(lines)],
            "order_id": range(first_order, first_order + lines),
            "purchase_date": [pd.Timestamp(week(n)) + pd.Timedelta(days=i % 6) for i in range(lines)],
            "items": [1.0] * lines,
        }
    )


def land_four_weeks(landing: Path) -> None:
    CUSTOMERS.to_parquet(landing / "clientes.parquet")
    PRODUCTS.to_parquet(landing / "productos.parquet")
    for n in range(4):
        transactions_of_week(n, 50, first_order=1000 * n).to_parquet(landing / f"transacciones_w{n}.parquet")


def test_a_three_line_file_cannot_move_the_data_a_week_forward(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    ingest_landing(con, landing, quarantine)
    before = warehouse_fingerprint(con)

    transactions_of_week(4, 3, first_order=9000).to_csv(landing / "transacciones_w4.csv", index=False)
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert "week 2024-01-29 would hold 3 line(s), 6.0% of the median weekly volume (50 lines" in str(
        raised.value
    )
    assert warehouse_fingerprint(con) == before
    assert (quarantine / "transacciones_w4.csv.reason.txt").exists()

    # A whole week is taken; so are late lines in a week already held.
    transactions_of_week(4, 45, first_order=9000).to_parquet(landing / "transacciones_w4_full.parquet")
    transactions_of_week(3, 2, first_order=8000).to_parquet(landing / "transacciones_w3_late.parquet")
    report = ingest_landing(con, landing, quarantine)
    assert sorted(f.name for f, _ in report.ingested) == [
        "transacciones_w3_late.parquet",
        "transacciones_w4_full.parquet",
    ]


def test_files_in_one_drop_are_judged_together(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    ingest_landing(con, landing, quarantine)
    transactions_of_week(4, 50, first_order=9000).to_parquet(landing / "transacciones_w4.parquet")
    transactions_of_week(5, 50, first_order=9500).to_parquet(landing / "transacciones_w5.parquet")
    report = ingest_landing(con, landing, quarantine)
    assert len(report.ingested) == 2


def test_a_new_file_under_an_ingested_name_is_held_with_how_to_replace_the_batch(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    ingest_landing(con, landing, quarantine)
    batch_id = con.execute(
        "SELECT batch_id FROM ingested_files WHERE file_name = 'transacciones_w3.parquet'"
    ).fetchone()[0]
    before = warehouse_fingerprint(con)

    # The complete export arrives under the name of the half one ingested earlier.
    transactions_of_week(3, 60, first_order=3000).to_parquet(landing / "transacciones_w3.parquet")
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert f"already ingested as batch {batch_id} with other bytes" in raised.value.reason
    assert f"run `ovni retract {batch_id}`, then land the new file again" in raised.value.reason
    assert warehouse_fingerprint(con) == before
    assert (quarantine / "transacciones_w3.parquet").exists()
    reason = (quarantine / "transacciones_w3.parquet.reason.txt").read_text()
    assert f"ovni retract {batch_id}" in reason

    # Replacing it the documented way: retract, then land the new file.
    retract_batch(con, batch_id, landing, quarantine)
    (quarantine / "transacciones_w3.parquet").rename(landing / "transacciones_w3.parquet")
    report = ingest_landing(con, landing, quarantine)
    assert [(f.name, rows) for f, rows in report.ingested] == [("transacciones_w3.parquet", 60)]
    assert (
        con.execute("SELECT count(*) FROM raw_transactions WHERE purchase_date >= '2024-01-22'").fetchone()[0]
        == 60
    )


def make_old(path: Path, seconds: float = 3600) -> None:
    stamp = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(stamp, stamp))


def test_a_file_still_being_written_waits_until_it_has_settled(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    for path in landing.iterdir():
        make_old(path)
    ingest_landing(con, landing, quarantine, settle_seconds=30)
    before = warehouse_fingerprint(con)

    growing = landing / "transacciones_w4.csv"
    transactions_of_week(4, 50, first_order=9000).head(20).to_csv(growing, index=False)  # half written
    (landing / "transacciones_w5.parquet.part").write_bytes(b"partial")
    report = ingest_landing(con, landing, quarantine, settle_seconds=30)
    assert report.ingested == [] and report.unsettled == [growing]
    assert warehouse_fingerprint(con) == before
    assert {f.name for f in scan_landing(landing, settle_seconds=30)} == {
        "clientes.parquet",
        "productos.parquet",
        *(f"transacciones_w{n}.parquet" for n in range(4)),
    }

    transactions_of_week(4, 50, first_order=9000).to_csv(growing, index=False)  # the writer finishes
    make_old(growing, seconds=31)
    report = ingest_landing(con, landing, quarantine, settle_seconds=30)
    assert [(f.name, rows) for f, rows in report.ingested] == [("transacciones_w4.csv", 50)]
    assert list(quarantine.glob("*")) == []


def test_waiting_for_files_to_settle_is_bounded(tmp_path):
    fresh = tmp_path / "transacciones_new.csv"
    fresh.write_text("customer_id\n1\n")
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        time.sleep(seconds)

    assert wait_until_settled(tmp_path, settle_seconds=3600, max_wait_seconds=0.3, sleep=nap) == [fresh]
    assert naps and sum(naps) <= 0.3 + 0.05  # it gives up at its bound (a nap lasts at least 0.05 s)
    assert wait_until_settled(tmp_path, settle_seconds=0.2, max_wait_seconds=10) == []


def test_retracting_a_batch_removes_its_rows_and_keeps_its_file(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    ingest_landing(con, landing, quarantine)
    before = warehouse_fingerprint(con)

    transactions_of_week(4, 50, first_order=9000).to_parquet(landing / "transacciones_w4.parquet")
    report = ingest_landing(con, landing, quarantine)
    ((file, _),) = report.ingested
    landed_bytes = file.path.read_bytes()

    retracted = retract_batch(con, file.batch_id, landing, quarantine)
    assert (retracted.kind, retracted.rows) == ("transactions", 50)
    assert warehouse_fingerprint(con) == before
    assert not file.path.exists()
    assert retracted.kept_at == quarantine / "retracted" / "transacciones_w4.parquet"
    assert retracted.kept_at.read_bytes() == landed_bytes
    reason = (quarantine / "retracted" / "transacciones_w4.parquet.reason.txt").read_text()
    assert f"retracted by `ovni retract {file.batch_id}`" in reason

    with pytest.raises(UnknownBatch, match="no ingested batch"):
        retract_batch(con, file.batch_id, landing, quarantine)


def test_retracting_a_batch_whose_file_is_gone_writes_its_rows_out(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    ingest_landing(con, landing, quarantine)
    batch_id, rows = con.execute(
        "SELECT batch_id, row_count FROM ingested_files WHERE file_name = 'transacciones_w2.parquet'"
    ).fetchone()
    expected = con.execute(
        "SELECT customer_id, product_id, order_id, purchase_date, items FROM raw_transactions "
        "WHERE batch_id = ? ORDER BY source_row",
        [batch_id],
    ).df()
    (landing / "transacciones_w2.parquet").unlink()

    retracted = retract_batch(con, batch_id, landing, quarantine)
    kept = pd.read_parquet(retracted.kept_at)
    pd.testing.assert_frame_equal(kept, expected, check_dtype=False)
    assert (
        "written from the raw rows"
        in retracted.kept_at.with_name(retracted.kept_at.name + ".reason.txt").read_text()
    )
    assert (
        con.execute("SELECT count(*) FROM raw_transactions WHERE batch_id = ?", [batch_id]).fetchone()[0] == 0
    )

    # Landing the kept file again brings the same rows back.
    retracted.kept_at.rename(landing / "transacciones_w2.parquet")
    report = ingest_landing(con, landing, quarantine)
    assert [r for _, r in report.ingested] == [rows]


def test_retracting_a_batch_withdraws_the_predictions_made_since_it_was_ingested(home):
    con, landing, quarantine = home
    land_four_weeks(landing)
    ingest_landing(con, landing, quarantine)
    transactions_of_week(4, 50, first_order=9000).to_parquet(landing / "transacciones_w4.parquet")
    ((file, _),) = ingest_landing(con, landing, quarantine).ingested
    ingested_at = con.execute("SELECT ingested_at FROM ingested_files WHERE batch_id = ?", [file.batch_id])
    ingested_at = ingested_at.fetchone()[0]
    ensure_prediction_tables(con)
    week4, week5 = date(2024, 1, 29), date(2024, 2, 5)
    for batch, week, created in [
        ("before", week4, ingested_at - timedelta(hours=1)),  # scored before the file came
        ("after-w4", week4, ingested_at + timedelta(minutes=1)),  # rescored with its rows
        ("after-w5", week5, ingested_at + timedelta(minutes=2)),  # the week it made the target
    ]:
        con.execute(
            "INSERT INTO predictions VALUES "
            "(?, 1, 10, 0.5, true, 1, '1', ?, ?), (?, 2, 10, 0.2, false, 1, '1', ?, ?)",
            [week, batch, created, week, batch, created],
        )
        con.execute(
            "INSERT INTO prediction_batches VALUES (?, ?, ?, '1', 'run', 0.3, 2, 1, ?)",
            [batch, week, week - timedelta(weeks=1), created],
        )

    retracted = retract_batch(con, file.batch_id, landing, quarantine)

    assert retracted.withdrawn_batches == ("after-w4", "after-w5")
    assert con.execute("SELECT DISTINCT batch_id, week_start FROM latest_predictions").fetchall() == [
        ("before", week4)
    ]
    assert con.execute("SELECT batch_id FROM prediction_batches").fetchall() == [("before",)]
    kept = con.execute(
        "SELECT batch_id, count(*), min(withdrawn_reason) FROM withdrawn_predictions GROUP BY ALL ORDER BY 1"
    ).fetchall()
    reason = f"built with retracted batch {file.batch_id}"
    assert kept == [("after-w4", 2, reason), ("after-w5", 2, reason)]
    assert con.execute("SELECT count(*) FROM withdrawn_prediction_batches").fetchone() == (2,)
