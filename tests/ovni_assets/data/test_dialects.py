"""The parsing policy: each landed file's dialect, encoding and number and date formats are decided from its
own bytes, recorded with its batch, and what the file cannot settle is held, never guessed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ovni_assets.data.dialect import decide_number_format, number_observations
from ovni_assets.data.ingestion import RejectedFile, ensure_raw_tables, ingest_landing
from ovni_assets.data.retraction import retract_batch

from .test_ingestion import TRANSACTIONS, warehouse_fingerprint

HEADER = "customer_id;product_id;order_id;purchase_date;items\n"


def recorded_format(con: duckdb.DuckDBPyConnection, file_name: str) -> dict:
    frame = con.execute(
        "SELECT f.* FROM ingested_file_formats f JOIN ingested_files USING (batch_id) WHERE file_name = ?",
        [file_name],
    ).df()
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def held(con, landing: Path, quarantine: Path, name: str) -> str:
    """Ingest a landing zone holding one bad file: the reason, after checking nothing was ingested."""
    ensure_raw_tables(con)
    before = warehouse_fingerprint(con)
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert warehouse_fingerprint(con) == before
    assert (quarantine / name).exists() and not (landing / name).exists()
    assert f"reason: {raised.value.reason}" in (quarantine / f"{name}.reason.txt").read_text()
    return raised.value.reason


def test_semicolon_file_with_decimal_comma_reads_its_numbers_and_records_why(con, dirs):
    landing, quarantine = dirs
    (landing / "transacciones_erp.csv").write_text(
        HEADER + "1;10;100;2024-03-04;0,5\n1;11;100;2024-03-04;1.234,5\n2;10;200;2024-03-05;1.200\n"
        "2;11;200;2024-03-05;-1\n"
    )
    ingest_landing(con, landing, quarantine)
    items = [r[0] for r in con.execute("SELECT items FROM raw_transactions ORDER BY source_row").fetchall()]
    assert items == [0.5, 1234.5, 1200.0, -1.0]
    recorded = recorded_format(con, "transacciones_erp.csv")
    assert (recorded["file_format"], recorded["delimiter"], recorded["decimal_mark"]) == ("csv", ";", ",")
    assert recorded["thousands_mark"] == "."
    assert recorded["number_evidence"].startswith("decimal ',' from items")


def test_semicolon_file_whose_numbers_could_be_either_is_held_naming_the_column(con, dirs):
    landing, quarantine = dirs
    (landing / "transacciones_erp.csv").write_text(
        HEADER + "1;10;100;2024-03-04;1.200\n1;11;100;2024-03-04;3\n2;10;200;2024-03-05;2.500\n"
    )
    reason = held(con, landing, quarantine, "transacciones_erp.csv")
    assert "items '1.200'" in reason or "items '2.500'" in reason
    assert "no value in the file settles which" in reason
    assert "plain '.' decimal mark and no thousands mark" in reason and "parquet" in reason
    assert con.execute("SELECT count(*) FROM raw_transactions").fetchone()[0] == 0


def test_numbers_that_use_both_marks_as_decimals_are_held(con, dirs):
    landing, quarantine = dirs
    (landing / "transacciones_erp.csv").write_text(
        HEADER + "1;10;100;2024-03-04;0,5\n1;11;100;2024-03-04;1.5\n"
    )
    reason = held(con, landing, quarantine, "transacciones_erp.csv")
    assert "contradicting" in reason and "items '0,5'" in reason and "items '1.5'" in reason


@pytest.mark.parametrize(
    ("values", "delimiter", "expected"),
    [
        (["0.5", "1.200"], ";", (".", None)),  # a decimal '.' elsewhere: 1.200 is 1.2
        (["1,5", "1.200"], ";", (",", ".")),  # a decimal ',' elsewhere: 1.200 is 1200
        (["1.234.567"], ";", (",", ".")),  # '.' groups thousands, so ',' is the decimal
        (["1,234.5"], ";", (".", ",")),
        (["0,500"], ";", (",", None)),  # a leading zero is never a thousands group
        (["1.200"], ",", (".", None)),  # the ',' separator rules out a ',' decimal
        (["12", "-3"], "\t", (".", None)),  # nothing to decide
    ],
)
def test_the_file_values_decide_decimal_and_thousands_marks(values, delimiter, expected):
    con = duckdb.connect()
    con.execute("CREATE TABLE exported AS SELECT unnest(?::VARCHAR[]) AS items", [values])
    decimal, thousands, _ = decide_number_format(number_observations(con, "exported", ["items"]), delimiter)
    assert (decimal, thousands) == expected


def test_tab_separated_file_is_read(con, dirs):
    landing, quarantine = dirs
    text = HEADER.replace(";", "\t") + "1\t10\t100\t2024-03-04\t0.5\n2\t11\t200\t2024-03-05\t1.200\n"
    (landing / "transacciones_tabs.csv").write_text(text)
    ingest_landing(con, landing, quarantine)
    assert con.execute("SELECT list(items ORDER BY source_row) FROM raw_transactions").fetchone()[0] == [
        0.5,
        1.2,
    ]
    recorded = recorded_format(con, "transacciones_tabs.csv")
    assert (recorded["delimiter"], recorded["decimal_mark"], recorded["thousands_mark"]) == ("\t", ".", None)


def test_utf8_with_a_byte_order_mark_is_read_and_the_mark_recorded(con, dirs):
    landing, quarantine = dirs
    text = (
        "product_id,brand,category,sub_category,segment,package,size\n10,CAFÉ,BEBIDAS,GASEOSAS,P,LATA,0.35\n"
    )
    (landing / "productos_bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ingest_landing(con, landing, quarantine)
    assert con.execute("SELECT product_id, brand, size FROM raw_products").fetchall() == [(10, "CAFÉ", 0.35)]
    recorded = recorded_format(con, "productos_bom.csv")
    assert (recorded["encoding"], recorded["bom"]) == ("utf-8", True)


def test_latin1_and_windows_1252_text_is_read_right(con, dirs):
    landing, quarantine = dirs
    text = (
        "customer_id;region_id;zone_id;customer_type;Y;X;num_deliver_per_week;num_visit_per_week\n"
        "1;13;5;Ñuñoa;-33,45;-70,6;3;1\n2;13;5;CAFÉ “EL SOL”;-33,5;-70,61;2;1\n"
    )
    (landing / "clientes_erp.csv").write_bytes(text.encode("windows-1252"))
    ingest_landing(con, landing, quarantine)
    rows = con.execute('SELECT customer_type, "Y", "X" FROM raw_customers ORDER BY source_row').fetchall()
    assert rows == [("Ñuñoa", -33.45, -70.6), ("CAFÉ “EL SOL”", -33.5, -70.61)]
    recorded = recorded_format(con, "clientes_erp.csv")
    assert (recorded["encoding"], recorded["bom"], recorded["decimal_mark"]) == ("windows-1252", False, ",")


def test_bytes_of_no_supported_encoding_are_held_naming_the_encodings_and_where(con, dirs):
    landing, quarantine = dirs
    text = b"product_id,brand,category,sub_category,segment,package,size\n10,CAF\x81,B,G,P,L,0.5\n"
    (landing / "productos_bad.csv").write_bytes(text)
    reason = held(con, landing, quarantine, "productos_bad.csv")
    assert "not UTF-8" in reason and "Windows-1252" in reason
    offset = text.index(b"\x81")
    assert f"byte 0x81 at offset {offset} (line 2)" in reason


def test_a_file_mixing_utf8_and_latin1_is_held(con, dirs):
    landing, quarantine = dirs
    header = b"customer_id,region_id,zone_id,customer_type,Y,X,num_deliver_per_week,num_visit_per_week\n"
    rows = "1,13,5,Ñuñoa,-33.4,-70.6,3,1\n".encode() + "2,13,5,Ñuñoa,-33.4,-70.6,3,1\n".encode("latin-1")
    (landing / "clientes_mixed.csv").write_bytes(header + rows)
    assert "two encodings in one file" in held(con, landing, quarantine, "clientes_mixed.csv")


def test_zoned_timestamps_keep_the_calendar_date_they_were_written_with(con, dirs):
    landing, quarantine = dirs
    (landing / "transacciones_tz.csv").write_text(
        HEADER.replace(";", ",")
        + "1,10,100,2024-03-04T00:30:00-03:00,1.0\n1,11,101,2024-03-04T23:30:00-03:00,2.0\n"
        "2,10,200,2024-03-04T00:30:00+05:00,1.5\n2,11,201,2024-03-04 12:00:00Z,1.0\n"
    )
    con.execute("SET TimeZone = 'Asia/Tokyo'")  # a session zone far from every offset written
    ingest_landing(con, landing, quarantine)
    stored = con.execute("SELECT list(purchase_date ORDER BY source_row) FROM raw_transactions").fetchone()[0]
    assert [t.date().isoformat() for t in stored] == ["2024-03-04"] * 4
    assert [t.hour for t in stored] == [0, 23, 0, 12]
    assert recorded_format(con, "transacciones_tz.csv")["date_zone_policy"] == "local_time_as_written"


def test_excel_serial_dates_are_held_with_what_to_export(con, dirs):
    landing, quarantine = dirs
    (landing / "transacciones_xl.csv").write_text(
        HEADER.replace(";", ",") + "1,10,100,45355,1.0\n1,11,101,45356,2.0\n"
    )
    reason = held(con, landing, quarantine, "transacciones_xl.csv")
    assert "purchase_date looks like Excel serial day numbers" in reason
    assert "export dates as YYYY-MM-DD" in reason


def test_parquet_instants_with_a_zone_are_held(con, dirs):
    landing, quarantine = dirs
    frame = TRANSACTIONS.assign(purchase_date=TRANSACTIONS.purchase_date.dt.tz_localize("America/Santiago"))
    frame.to_parquet(landing / "transacciones_tz.parquet")
    assert "purchase_date holds instants with a time zone" in held(
        con, landing, quarantine, "transacciones_tz.parquet"
    )


def test_a_file_without_header_is_held_saying_so(con, dirs):
    landing, quarantine = dirs
    (landing / "transacciones_nohead.csv").write_text("1,10,100,2024-03-04,1.5\n2,11,101,2024-03-05,2.0\n")
    assert "needs a header row" in held(con, landing, quarantine, "transacciones_nohead.csv")


def test_the_normal_csv_and_parquet_read_as_before_and_are_recorded(con, dirs):
    landing, quarantine = dirs
    TRANSACTIONS.to_csv(landing / "transacciones.csv", index=False)
    TRANSACTIONS.to_parquet(landing / "transacciones_copy.parquet")
    ingest_landing(con, landing, quarantine)
    for name in ("transacciones.csv", "transacciones_copy.parquet"):
        stored = con.execute(
            "SELECT customer_id, product_id, order_id, purchase_date, items FROM raw_transactions "
            "WHERE source_file = ? ORDER BY source_row",
            [name],
        ).df()
        pd.testing.assert_frame_equal(stored, TRANSACTIONS, check_dtype=False)
    csv = recorded_format(con, "transacciones.csv")
    assert {k: csv[k] for k in ("file_format", "delimiter", "quote", "encoding", "decimal_mark")} == {
        "file_format": "csv",
        "delimiter": ",",
        "quote": '"',
        "encoding": "utf-8",
        "decimal_mark": ".",
    }
    assert (csv["bom"], csv["header"], csv["thousands_mark"], csv["date_zone_policy"]) == (
        False,
        True,
        None,
        "no_zone",
    )
    parquet = recorded_format(con, "transacciones_copy.parquet")
    assert (parquet["file_format"], parquet["delimiter"], parquet["decimal_mark"]) == ("parquet", None, None)


def test_retracting_a_batch_removes_its_recorded_format(con, dirs, tmp_path):
    landing, quarantine = dirs
    TRANSACTIONS.to_csv(landing / "transacciones.csv", index=False)
    report = ingest_landing(con, landing, quarantine)
    retract_batch(con, report.ingested[0][0].batch_id, landing, quarantine)
    assert con.execute("SELECT count(*) FROM ingested_file_formats").fetchone()[0] == 0
