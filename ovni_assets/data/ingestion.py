"""Landing zone → raw tables: find new files, validate them, quarantine the bad ones, append the good ones.

A landed file is one batch, identified by the SHA-256 of its bytes: the same bytes under any name are
ingested once. Validation reads every new file before anything is written; if one is rejected it goes to
quarantine with a reason file, the other new files stay in the landing zone for the next run, and no
table changes. Otherwise every new file is appended in one transaction.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ovni_assets.data.schema import LINEAGE_COLUMNS, SOURCE_TABLES, SourceTable, table_for_file_name
from ovni_assets.warehouse import table_exists

# Any date outside this window is treated as unparseable rather than as a real purchase date.
EARLIEST_PLAUSIBLE_DATE = "2000-01-01"


@dataclass(frozen=True)
class LandedFile:
    path: Path
    table: SourceTable
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def batch_id(self) -> str:
        return f"{self.table.kind}-{self.sha256[:16]}"


class RejectedFile(Exception):
    """A landed file that cannot be ingested; `reason` is one line a person understands."""

    def __init__(self, file: LandedFile, reason: str):
        super().__init__(f"rejected {file.name}: {reason}")
        self.file = file
        self.reason = reason


@dataclass
class IngestReport:
    ingested: list[tuple[LandedFile, int]] = field(default_factory=list)  # (file, rows)
    skipped_known: list[LandedFile] = field(default_factory=list)  # same bytes ingested before

    def rows_for(self, kind: str) -> int:
        return sum(rows for f, rows in self.ingested if f.table.kind == kind)

    def files_for(self, kind: str) -> list[str]:
        return [f.name for f, _ in self.ingested if f.table.kind == kind]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_landing(landing_dir: Path) -> list[LandedFile]:
    """Every recognised file in the landing zone, oldest first (then by name)."""
    if not landing_dir.exists():
        return []
    files = []
    for path in landing_dir.iterdir():
        table = table_for_file_name(path.name)
        if table is None or not path.is_file():
            continue
        files.append((path.stat().st_mtime_ns, path.name, path, table))
    files.sort()
    return [LandedFile(path, table, file_sha256(path), path.stat().st_size) for _, _, path, table in files]


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables and the file registry if this is a new warehouse."""
    for table in SOURCE_TABLES.values():
        columns = [f'"{c.name}" {c.sql_type}' for c in table.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS {table.raw_table} ({', '.join(columns)})")
    con.execute(
        """CREATE TABLE IF NOT EXISTS ingested_files (
            batch_id VARCHAR PRIMARY KEY, file_hash VARCHAR UNIQUE, file_name VARCHAR, kind VARCHAR,
            row_count BIGINT, size_bytes BIGINT, ingested_at TIMESTAMP)"""
    )


def known_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not table_exists(con, "ingested_files"):
        return set()
    return {row[0] for row in con.execute("SELECT file_hash FROM ingested_files").fetchall()}


def _source_relation_sql(file: LandedFile) -> str:
    path = str(file.path).replace("'", "''")
    if file.path.suffix.lower() == ".parquet":
        return f"read_parquet('{path}')"
    # Every CSV column is read as text and cast below, so a bad value is reported, never guessed at.
    return f"read_csv('{path}', header = true, all_varchar = true, auto_detect = true)"


def stage_file(con: duckdb.DuckDBPyConnection, file: LandedFile, stage_name: str) -> int:
    """Read and validate one file into a temp table with the source schema; return its row count.

    Raises RejectedFile with the first problem found: unreadable bytes, missing columns, values that
    do not cast, nulls in required columns, implausible dates, or no rows.
    """
    table = file.table
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {stage_name}_src AS SELECT * FROM {_source_relation_sql(file)}"
        )
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0][:200]
        raise RejectedFile(file, f"unreadable {file.path.suffix.lstrip('.')} file ({first_line})") from None

    present = {row[0] for row in con.execute(f"DESCRIBE {stage_name}_src").fetchall()}
    missing = [c for c in table.column_names if c not in present]
    if missing:
        raise RejectedFile(file, f"missing required column(s) {', '.join(missing)}")

    rows = con.execute(f"SELECT count(*) FROM {stage_name}_src").fetchone()[0]
    if rows == 0:
        raise RejectedFile(file, "the file has no rows")

    for column in table.columns:
        quoted = f'"{column.name}"'
        bad = con.execute(
            f"SELECT count(*), any_value({quoted}::VARCHAR) FROM {stage_name}_src "
            f"WHERE {quoted} IS NOT NULL AND TRY_CAST({quoted} AS {column.sql_type}) IS NULL"
        ).fetchone()
        if bad[0]:
            what = "dates" if column.sql_type == "TIMESTAMP" else f"{column.sql_type.lower()} values"
            raise RejectedFile(
                file,
                f"column {column.name} has {bad[0]:,} value(s) that are not valid {what} (e.g. {bad[1]!r})",
            )
        if not column.nullable:
            nulls = con.execute(f"SELECT count(*) FROM {stage_name}_src WHERE {quoted} IS NULL").fetchone()[0]
            if nulls:
                raise RejectedFile(file, f"column {column.name} is empty in {nulls:,} row(s)")

    casts = ", ".join(f'TRY_CAST("{c.name}" AS {c.sql_type}) AS "{c.name}"' for c in table.columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage_name} AS "
        f"SELECT {casts}, row_number() OVER () AS source_row FROM {stage_name}_src"
    )
    con.execute(f"DROP TABLE {stage_name}_src")
    if table.kind == "transactions":
        low, high, out_of_range = con.execute(
            f"SELECT min(purchase_date), max(purchase_date), count(*) FILTER (WHERE purchase_date < "
            f"TIMESTAMP '{EARLIEST_PLAUSIBLE_DATE}' OR purchase_date > now()::TIMESTAMP + INTERVAL 400 DAY) "
            f"FROM {stage_name}"
        ).fetchone()
        if out_of_range:
            raise RejectedFile(
                file, f"{out_of_range:,} purchase_date value(s) outside plausible range ({low} .. {high})"
            )
    return rows


def quarantine(file: LandedFile, reason: str, quarantine_dir: Path) -> Path:
    """Move a rejected file to quarantine with `<name>.reason.txt` beside it; never overwrite."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / file.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = quarantine_dir / f"{file.path.stem}.{stamp}{file.path.suffix}"
    shutil.move(str(file.path), target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"file: {file.name}\nsha256: {file.sha256}\nrejected_at: {datetime.now(UTC).isoformat()}\n"
        f"reason: {reason}\n"
    )
    return target


def _append_staged(
    con: duckdb.DuckDBPyConnection, staged: list[tuple[LandedFile, str, int]], ingested_at: datetime
) -> None:
    """Append every staged file to its raw table and the file registry, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for file, stage_name, rows in staged:
            columns = ", ".join(f'"{c}"' for c in file.table.column_names)
            con.execute(
                f"INSERT INTO {file.table.raw_table} ({columns}, batch_id, source_file, file_hash, "
                f"source_row, ingested_at) SELECT {columns}, ?, ?, ?, source_row, ? FROM {stage_name}",
                [file.batch_id, file.name, file.sha256, ingested_at],
            )
            con.execute(
                "INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [file.batch_id, file.sha256, file.name, file.table.kind, rows, file.size, ingested_at],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def ingest_landing(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, quarantine_dir: Path, now: datetime | None = None
) -> IngestReport:
    """Ingest every new landed file, all or nothing. Raises RejectedFile after quarantining a bad one."""
    ensure_raw_tables(con)
    seen = known_hashes(con)
    report = IngestReport()
    new_files: list[LandedFile] = []
    for file in scan_landing(landing_dir):
        if file.sha256 in seen or file.sha256 in {f.sha256 for f in new_files}:
            report.skipped_known.append(file)
        else:
            new_files.append(file)

    staged: list[tuple[LandedFile, str, int]] = []
    try:
        for index, file in enumerate(new_files):
            stage_name = f"stage_{index}"
            try:
                rows = stage_file(con, file, stage_name)
            except RejectedFile as rejected:
                quarantine(file, rejected.reason, quarantine_dir)
                raise
            staged.append((file, stage_name, rows))
        _append_staged(con, staged, (now or datetime.now(UTC)).replace(tzinfo=None))
    finally:
        for index in range(len(new_files)):
            con.execute(f"DROP TABLE IF EXISTS stage_{index}")
            con.execute(f"DROP TABLE IF EXISTS stage_{index}_src")
    report.ingested.extend((file, rows) for file, _, rows in staged)
    return report
