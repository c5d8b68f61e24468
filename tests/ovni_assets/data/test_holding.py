"""Held files and a person's decision: `held_files` lists quarantine, `release_file` takes one on purpose."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from ovni_assets.data.holding import ReleaseRefused, held_files, release_file
from ovni_assets.data.ingestion import RejectedFile, ingest_landing
from ovni_assets.defs.release import release_job
from ovni_assets.defs.resources import warehouse_resource
from ovni_assets.settings import OvniSettings

from .test_ingestion import CUSTOMERS

RELEASED_AT = datetime(2024, 3, 26, 9, 30)


def week_lines(monday: str, lines: int, first_order: int) -> pd.DataFrame:
    """`lines` transaction lines spread over the week starting `monday`."""
    start = pd.Timestamp(monday)
    return pd.DataFrame(
        {
            "customer_id": [1 + i % 2 for i in range(lines)],
            "product_id": [10 + i % 5 for i in range(lines)],
            "order_id": [first_order + i for i in range(lines)],
            "purchase_date": [start + pd.Timedelta(days=i % 6) for i in range(lines)],
            "items": [1.0 + i % 3 for i in range(lines)],
        }
    )


@pytest.fixture
def home(tmp_path: Path):
    """A warehouse holding twelve weeks of 40 lines; yields (connection, landing, quarantine)."""
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    landing.mkdir()
    weeks = [
        week_lines(str(pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=w)), 40, 1000 * w) for w in range(12)
    ]
    pd.concat(weeks).to_parquet(landing / "transacciones.parquet")
    CUSTOMERS.to_parquet(landing / "clientes.parquet")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_landing(con, landing, quarantine)
    yield con, landing, quarantine
    con.close()


def hold_a_short_week(con, landing: Path, quarantine: Path, name: str = "transacciones_w13.csv") -> None:
    """Land a week with two lines (a holiday week, say): held by the plausibility of new weeks."""
    week_lines("2024-03-25", 2, 50_000).to_csv(landing / name, index=False)
    with pytest.raises(RejectedFile, match="would hold 2 line"):
        ingest_landing(con, landing, quarantine)


def raw_lines(con) -> int:
    return con.execute("SELECT count(*) FROM raw_transactions").fetchall()[0][0]


def test_a_held_file_is_listed_with_when_and_why(home):
    con, landing, quarantine = home
    hold_a_short_week(con, landing, quarantine)

    (held,) = held_files(quarantine)

    assert held.name == held.original_name == "transacciones_w13.csv"
    assert "would hold 2 line(s)" in held.reason and held.check == "plausible_new_weeks" and held.releasable
    assert len(held.sha256) == 64 and held.held_at.startswith("20")


def test_a_released_file_is_recorded_and_taken_without_the_checks_against_the_data(home):
    con, landing, quarantine = home
    hold_a_short_week(con, landing, quarantine)
    before = raw_lines(con)

    released = release_file(
        con, quarantine, landing, "transacciones_w13.csv", " Semana  de feriado ", RELEASED_AT
    )

    assert released.landed_at == landing / "transacciones_w13.csv" and released.landed_at.exists()
    assert held_files(quarantine) == []
    (record,) = con.execute("SELECT * FROM released_files").fetchall()
    assert record[:4] == (released.sha256, "transacciones_w13.csv", RELEASED_AT, "Semana de feriado")
    assert "would hold 2 line(s)" in record[4]
    (kept,) = (quarantine / "released").iterdir()
    assert "release_reason: Semana de feriado" in kept.read_text() and "would hold 2" in kept.read_text()

    report = ingest_landing(con, landing, quarantine)

    assert raw_lines(con) == before + 2
    assert [(f.name, reason) for f, reason in report.released] == [
        ("transacciones_w13.csv", "Semana de feriado")
    ]
    assert report.released_for("transactions") == [
        {"file": "transacciones_w13.csv", "reason": "Semana de feriado"}
    ]


def test_a_released_file_is_still_validated(home):
    con, landing, quarantine = home
    bad = week_lines("2024-03-25", 2, 50_000).astype({"items": str})
    bad.loc[0, "items"] = "nan"
    quarantine.mkdir()
    bad.to_csv(quarantine / "transacciones_w13.csv", index=False)
    (quarantine / "transacciones_w13.csv.reason.txt").write_text(
        "file: transacciones_w13.csv\nsha256: x\nrejected_at: 2024-03-25T10:00:00\n"
        "check: plausible_new_weeks\nreason: would hold 2 line(s)\n"
    )
    release_file(con, quarantine, landing, "transacciones_w13.csv", "checked by hand", RELEASED_AT)
    before = raw_lines(con)

    with pytest.raises(RejectedFile, match="column items has 1 NaN"):
        ingest_landing(con, landing, quarantine)

    assert raw_lines(con) == before
    assert [f.name for f in held_files(quarantine)] == ["transacciones_w13.csv"]


def test_a_second_hold_of_the_same_name_is_released_under_its_landed_name(home):
    con, landing, quarantine = home
    hold_a_short_week(con, landing, quarantine)
    hold_a_short_week(con, landing, quarantine)  # landed again while the first is held: kept beside it
    (stamped,) = [f.name for f in held_files(quarantine) if f.name != "transacciones_w13.csv"]
    assert stamped.startswith("transacciones_w13.") and stamped.endswith(".csv")

    released = release_file(con, quarantine, landing, stamped, "feriado", RELEASED_AT)

    assert released.landed_at == landing / "transacciones_w13.csv"
    assert [f.name for f in held_files(quarantine)] == ["transacciones_w13.csv"]


@pytest.mark.parametrize(
    ("name", "reason", "message"),
    [
        ("transacciones_w13.csv", "   ", "give the reason for the release"),
        ("transacciones_w99.csv", "feriado", "no held file named transacciones_w99.csv"),
    ],
)
def test_a_release_without_a_reason_or_of_an_unknown_file_changes_nothing(home, name, reason, message):
    con, landing, quarantine = home
    hold_a_short_week(con, landing, quarantine)

    with pytest.raises(ReleaseRefused, match=message):
        release_file(con, quarantine, landing, name, reason, RELEASED_AT)

    assert [f.name for f in held_files(quarantine)] == ["transacciones_w13.csv"]
    assert con.execute("SELECT count(*) FROM released_files").fetchall() == [(0,)]
    assert not (landing / "transacciones_w13.csv").exists()


def test_a_release_does_not_overwrite_a_file_in_landing(home):
    con, landing, quarantine = home
    hold_a_short_week(con, landing, quarantine)
    (landing / "transacciones_w13.csv").write_text("another export\n")

    with pytest.raises(ReleaseRefused, match=r"landing/ already holds a file named transacciones_w13\.csv"):
        release_file(con, quarantine, landing, "transacciones_w13.csv", "feriado", RELEASED_AT)

    assert (landing / "transacciones_w13.csv").read_text() == "another export\n"
    assert (quarantine / "transacciones_w13.csv").exists()


def test_what_a_release_cannot_answer_is_refused_with_the_way_out(home, tmp_path):
    con, landing, quarantine = home
    week_lines("2024-01-01", 5, 900_000).to_parquet(landing / "transacciones.parquet.new")
    (landing / "transacciones.parquet").unlink()
    (landing / "transacciones.parquet.new").rename(landing / "transacciones.parquet")
    with pytest.raises(RejectedFile, match="already ingested as batch"):
        ingest_landing(con, landing, quarantine)
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n")
    os.symlink(outside, landing / "transacciones_link.csv")
    with pytest.raises(RejectedFile, match="symbolic link"):
        ingest_landing(con, landing, quarantine)

    nan_units = week_lines("2024-03-25", 40, 50_000).astype({"items": str})
    nan_units.loc[0, "items"] = "nan"
    nan_units.to_csv(landing / "transacciones_nan.csv", index=False)
    with pytest.raises(RejectedFile, match="NaN"):
        ingest_landing(con, landing, quarantine)

    held = {f.name: f for f in held_files(quarantine)}
    assert not any(held[name].releasable for name in held)
    with pytest.raises(ReleaseRefused, match="it was held for: column items has 1 NaN"):
        release_file(con, quarantine, landing, "transacciones_nan.csv", "it is right", RELEASED_AT)
    with pytest.raises(
        ReleaseRefused,
        match=r"cannot be released: only a file held by a check against the data can be; it was held "
        r"for: a file named transacciones\.parquet was already",
    ):
        release_file(con, quarantine, landing, "transacciones.parquet", "it is right", RELEASED_AT)
    with pytest.raises(ReleaseRefused, match="it was held for: is a symbolic link"):
        release_file(con, quarantine, landing, "transacciones_link.csv", "it is right", RELEASED_AT)


def test_nothing_held_and_retracted_batches_are_not_listed(tmp_path):
    assert held_files(tmp_path / "missing") == []
    (tmp_path / "retracted").mkdir()
    (tmp_path / "retracted" / "transacciones.parquet").write_bytes(b"x")
    assert held_files(tmp_path) == []


def test_release_job_releases_from_the_dagster_ui_and_refuses_with_the_reason(home, tmp_path):
    con, landing, quarantine = home
    hold_a_short_week(con, landing, quarantine)
    con.close()
    settings = OvniSettings(home=tmp_path)
    assert (settings.landing_dir, settings.quarantine_dir) == (landing, quarantine)

    def run(file: str, reason: str) -> dg.ExecuteInProcessResult:
        with dg.DagsterInstance.ephemeral() as instance:
            return release_job.execute_in_process(
                run_config={"ops": {"release_held_file": {"config": {"file": file, "reason": reason}}}},
                resources={"warehouse": warehouse_resource(settings), "settings": settings},
                instance=instance,
                raise_on_error=False,
            )

    refused = run("transacciones_w99.csv", "feriado")
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "no held file named transacciones_w99.csv" in failure.step_failure_data.error.message

    result = run("transacciones_w13.csv", "semana de feriado")
    assert result.success and result.output_for_node("release_held_file") == "transacciones_w13.csv"
    (output,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    metadata = output.step_output_data.metadata
    assert metadata["reason"].value == "semana de feriado" and len(metadata["sha256"].value) == 64
    assert (landing / "transacciones_w13.csv").exists() and held_files(quarantine) == []
    with duckdb.connect(str(settings.warehouse_path)) as again:
        assert again.execute("SELECT file_name, release_reason FROM released_files").fetchall() == [
            ("transacciones_w13.csv", "semana de feriado")
        ]


def test_a_file_held_by_a_check_against_the_data_own_weeks_can_be_released(home):
    con, landing, quarantine = home
    # The newest week again, its order ids renumbered.
    week_lines("2024-03-18", 40, 90_000).to_csv(landing / "transacciones_again.csv", index=False)
    with pytest.raises(RejectedFile, match=r"^rejected transacciones_again\.csv: reexported_lines: "):
        ingest_landing(con, landing, quarantine)
    (held,) = held_files(quarantine)
    assert held.check == "reexported_lines" and held.releasable
    before = raw_lines(con)

    release_file(con, quarantine, landing, held.name, "the ERP really sold it twice", RELEASED_AT)
    report = ingest_landing(con, landing, quarantine)

    assert [(f.name, rows) for f, rows in report.ingested] == [("transacciones_again.csv", 40)]
    assert raw_lines(con) == before + 40
