"""Landing zone → raw tables: idempotency by content hash, lineage, and quarantine of every bad-file kind."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ovni_assets.data.ingestion import RejectedFile, ingest_landing, scan_landing
from ovni_assets.data.schema import SOURCE_TABLES

TRANSACTIONS = pd.DataFrame(
    {
        "customer_id": [1, 1, 2, 2],
        "product_id": [10, 11, 10, 10],
        "order_id": [100, 100, 200, 201],
        "purchase_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-10"]),
        "items": [1.0, 2 / 3, 3.0, -1.0],
    }
)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [1, 2],
        "region_id": [80, 80],
        "zone_id": [5148, 5148],
        "customer_type": ["ABARROTES", "MAYORISTA"],
        "Y": [-46.1, -46.2],
        "X": [-108.0, -108.1],
        "num_deliver_per_week": [3, 2],
        "num_visit_per_week": [1, 1],
    }
)
PRODUCTS = pd.DataFrame(
    {
        "product_id": [10, 11],
        "brand": ["Brand 1", "Brand 2"],
        "category": ["BEBIDAS CARBONATADAS", "BEBIDAS NO CARBONATADAS"],
        "sub_category": ["GASEOSAS", "JUGOS"],
        "segment": ["PREMIUM", "LOW"],
        "package": ["BOTELLA", "TETRA"],
        "size": [0.5, 1.0],
    }
)


def land_all(landing: Path) -> None:
    TRANSACTIONS.to_parquet(landing / "transacciones_2024w01.parquet")
    CUSTOMERS.to_parquet(landing / "clientes.parquet")
    PRODUCTS.to_csv(landing / "productos.csv", index=False)


def warehouse_fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """A digest of every table's full contents, to prove a rejected drop changed nothing."""
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    digest = {}
    for table in sorted(tables):
        frame = con.execute(f'SELECT * FROM "{table}"').df()
        digest[table] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    return digest


def test_ingests_parquet_and_csv_with_lineage(con, dirs):
    landing, quarantine = dirs
    land_all(landing)
    report = ingest_landing(con, landing, quarantine)

    assert {f.name: rows for f, rows in report.ingested} == {
        "transacciones_2024w01.parquet": 4,
        "clientes.parquet": 2,
        "productos.csv": 2,
    }
    # Every raw row names its file, hash and batch, and the registry agrees.
    traced = con.execute(
        """SELECT DISTINCT r.source_file, r.file_hash = f.file_hash, r.batch_id = f.batch_id
           FROM raw_transactions r JOIN ingested_files f ON f.file_name = r.source_file"""
    ).fetchall()
    assert traced == [("transacciones_2024w01.parquet", True, True)]
    assert con.execute("SELECT list(source_row ORDER BY source_row) FROM raw_products").fetchone()[0] == [
        1,
        2,
    ]
    assert con.execute("SELECT sum(items) FROM raw_transactions").fetchone()[0] == pytest.approx(3 + 2 / 3)


def test_same_bytes_under_another_name_are_ingested_once(con, dirs):
    landing, quarantine = dirs
    land_all(landing)
    ingest_landing(con, landing, quarantine)
    before = warehouse_fingerprint(con)

    shutil.copy(landing / "transacciones_2024w01.parquet", landing / "transacciones_copy.parquet")
    report = ingest_landing(con, landing, quarantine)

    assert report.ingested == []
    assert {f.name for f in report.skipped_known} >= {"transacciones_copy.parquet", "clientes.parquet"}
    assert warehouse_fingerprint(con) == before


def test_a_new_week_appends_a_new_batch(con, dirs):
    landing, quarantine = dirs
    land_all(landing)
    ingest_landing(con, landing, quarantine)
    week2 = TRANSACTIONS.assign(purchase_date=TRANSACTIONS.purchase_date + pd.Timedelta(days=14))
    week2.to_parquet(landing / "transacciones_2024w03.parquet")

    report = ingest_landing(con, landing, quarantine)

    assert [(f.name, rows) for f, rows in report.ingested] == [("transacciones_2024w03.parquet", 4)]
    assert con.execute("SELECT count(DISTINCT batch_id), count(*) FROM raw_transactions").fetchone() == (2, 8)


def test_unrecognised_names_are_ignored(dirs):
    landing, _ = dirs
    (landing / "notes.txt").write_text("hello")
    (landing / "ventas.parquet").write_bytes(b"x")
    TRANSACTIONS.to_csv(landing / "TRANSACCIONES_upper.CSV", index=False)
    assert [f.name for f in scan_landing(landing)] == ["TRANSACCIONES_upper.CSV"]


def _write_truncated_parquet(path: Path) -> None:
    TRANSACTIONS.to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BAD_FILES = {
    "missing column": (
        "transacciones_bad.parquet",
        lambda p: TRANSACTIONS.drop(columns=["items"]).to_parquet(p),
        "missing required column(s) items",
    ),
    "uncastable type": (
        "transacciones_bad.csv",
        lambda p: (
            TRANSACTIONS.astype({"items": str}).assign(items=["1", "two", "3", "4"]).to_csv(p, index=False)
        ),
        "column items has 1 value(s) that are not valid double values (e.g. 'two')",
    ),
    "unparseable date": (
        "transacciones_bad.csv",
        lambda p: TRANSACTIONS.assign(purchase_date=["2024-01-01", "2024-13-45", "x", "2024-01-03"]).to_csv(
            p, index=False
        ),
        "column purchase_date has 2 value(s) that are not valid dates",
    ),
    "implausible date": (
        "transacciones_bad.csv",
        lambda p: TRANSACTIONS.assign(
            purchase_date=["1970-01-01", "2024-01-01", "2024-01-01", "2024-01-03"]
        ).to_csv(p, index=False),
        "1 purchase_date value(s) outside plausible range",
    ),
    "missing key": (
        "clientes_bad.csv",
        lambda p: CUSTOMERS.assign(customer_id=[1, None]).to_csv(p, index=False),
        "column customer_id is empty in 1 row(s)",
    ),
    "no rows (csv)": (
        "productos_empty.csv",
        lambda p: PRODUCTS.head(0).to_csv(p, index=False),
        "the file has no rows",
    ),
    "no rows (parquet)": (
        "productos_empty.parquet",
        lambda p: PRODUCTS.head(0).to_parquet(p),
        "the file has no rows",
    ),
    "NaN units (csv)": (
        "transacciones_nan.csv",
        lambda p: (
            TRANSACTIONS.astype({"items": str}).assign(items=["1", "nan", "3", "4"]).to_csv(p, index=False)
        ),
        "column items has 1 NaN or infinite value(s) (e.g. 'nan')",
    ),
    "NaN units (parquet)": (
        "transacciones_nan.parquet",
        lambda p: pq.write_table(
            pa.Table.from_pandas(TRANSACTIONS).set_column(
                4, "items", pa.array([1.0, float("nan"), 3.0, 4.0], pa.float64())
            ),
            p,
        ),
        "column items has 1 NaN or infinite value(s) (e.g. 'nan')",
    ),
    "infinite units": (
        "transacciones_inf.csv",
        lambda p: (
            TRANSACTIONS.astype({"items": str}).assign(items=["1", "2", "inf", "-inf"]).to_csv(p, index=False)
        ),
        "column items has 2 NaN or infinite value(s)",
    ),
    "infinite product size": (
        "productos_inf.csv",
        lambda p: PRODUCTS.astype({"size": str}).assign(size=["0.5", "Infinity"]).to_csv(p, index=False),
        "column size has 1 NaN or infinite value(s) (e.g. 'Infinity')",
    ),
    "fractional id": (
        "transacciones_frac.csv",
        lambda p: (
            TRANSACTIONS.astype({"customer_id": str})
            .assign(customer_id=["1", "1.5", "2", "2"])
            .to_csv(p, index=False)
        ),
        "column customer_id has 1 fractional value(s) (e.g. '1.5')",
    ),
    "id past 2**53 - 1": (
        "clientes_big.csv",
        lambda p: CUSTOMERS.assign(customer_id=[1, 2**53 + 1]).to_csv(p, index=False),
        "column customer_id has 1 negative or above 9,007,199,254,740,991 value(s) (e.g. '9007199254740993')",
    ),
    "negative id": (
        "productos_negative.csv",
        lambda p: PRODUCTS.assign(product_id=[10, -11]).to_csv(p, index=False),
        "column product_id has 1 negative or above",
    ),
    "id outside 64 bits": (
        "transacciones_huge.csv",
        lambda p: (
            TRANSACTIONS.astype({"order_id": str})
            .assign(order_id=["100", "9" * 400, "200", "201"])
            .to_csv(p, index=False)
        ),
        "column order_id has 1 value(s) that are not valid bigint values",
    ),
    "a stray date ten weeks ahead": (
        "transacciones_stray.csv",
        lambda p: TRANSACTIONS.assign(
            order_id=TRANSACTIONS.order_id + 5000,
            purchase_date=pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-09", "2024-03-18"]),
        ).to_csv(p, index=False),
        "purchase_date runs to week 2024-03-18 after the newest data week 2024-01-08, but week 2024-01-15 "
        "would hold 0 line(s)",
    ),
    "truncated parquet": ("transacciones_cut.parquet", _write_truncated_parquet, "unreadable parquet file"),
    "garbage csv": (
        "clientes_garbage.csv",
        lambda p: p.write_bytes(bytes(range(256)) * 20),
        "",
    ),
    "empty file": ("transacciones_zero.csv", lambda p: p.write_bytes(b""), ""),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_quarantined_and_nothing_changes(con, dirs, kind):
    landing, quarantine = dirs
    land_all(landing)
    ingest_landing(con, landing, quarantine)
    before = warehouse_fingerprint(con)

    name, write, expected_reason = BAD_FILES[kind]
    write(landing / name)
    # A valid new file in the same drop stays in the landing zone for the next run.
    TRANSACTIONS.assign(order_id=TRANSACTIONS.order_id + 1000).to_parquet(
        landing / "transacciones_good.parquet"
    )

    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)

    assert raised.value.file.name == name
    assert expected_reason in raised.value.reason
    assert str(raised.value).startswith(f"rejected {name}: ")
    assert "\n" not in str(raised.value)
    assert not (landing / name).exists()
    assert (quarantine / name).exists()
    reason_file = quarantine / f"{name}.reason.txt"
    assert f"reason: {raised.value.reason}" in reason_file.read_text()
    assert warehouse_fingerprint(con) == before
    assert (landing / "transacciones_good.parquet").exists()

    # The next run ingests the valid file.
    report = ingest_landing(con, landing, quarantine)
    assert [f.name for f, _ in report.ingested] == ["transacciones_good.parquet"]


def test_garbage_is_rejected_with_a_reason_a_person_understands(con, dirs):
    landing, quarantine = dirs
    (landing / "clientes_garbage.csv").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert raised.value.reason.startswith(("unreadable csv file", "missing required column(s)"))


def test_quarantine_never_overwrites_an_earlier_rejection(con, dirs):
    landing, quarantine = dirs
    for attempt in range(2):
        (landing / "productos_empty.csv").write_text(
            "product_id,brand,category,sub_category,segment,package,size\n"
        )
        if attempt:  # different bytes, same name
            (landing / "productos_empty.csv").write_text(
                "product_id,brand,category,sub_category,segment,package,size\n\n"
            )
        with pytest.raises(RejectedFile):
            ingest_landing(con, landing, quarantine)
    assert len(list(quarantine.glob("productos_empty*.csv"))) == 2
    assert len(list(quarantine.glob("*.reason.txt"))) == 2


def test_extra_columns_are_tolerated(con, dirs):
    landing, quarantine = dirs
    TRANSACTIONS.assign(__index_level_0__=range(4), comment="x").to_parquet(landing / "transacciones.parquet")
    report = ingest_landing(con, landing, quarantine)
    assert report.rows_for("transactions") == 4
    raw_columns = [r[0] for r in con.execute("DESCRIBE raw_transactions").fetchall()]
    assert raw_columns[:5] == SOURCE_TABLES["transactions"].column_names
    assert "comment" not in raw_columns


def test_real_sodai_files_ingest_completely(con, dirs, sodai_dir):
    landing, quarantine = dirs
    for path in sodai_dir.glob("*.parquet"):
        shutil.copy(path, landing / path.name)
    report = ingest_landing(con, landing, quarantine)
    assert report.rows_for("transactions") == 178_850
    assert report.rows_for("customers") == 1_569
    assert report.rows_for("products") == 971
    assert con.execute("SELECT count(*) FROM raw_transactions").fetchone()[0] == 178_850


def test_a_symlink_in_landing_is_held_not_followed(con, dirs, tmp_path):
    landing, quarantine = dirs
    land_all(landing)
    ingest_landing(con, landing, quarantine)
    outside = tmp_path / "elsewhere" / "transacciones_secret.parquet"
    outside.parent.mkdir()
    TRANSACTIONS.assign(order_id=TRANSACTIONS["order_id"] + 1000).to_parquet(outside)
    (landing / "transacciones_2024w02.parquet").symlink_to(outside)
    before = warehouse_fingerprint(con)
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert "symbolic link" in raised.value.reason and str(outside) in raised.value.reason
    held = quarantine / "transacciones_2024w02.parquet"
    assert held.is_symlink() and not (landing / held.name).exists()  # the link moved, never read
    assert outside.exists() and warehouse_fingerprint(con) == before
