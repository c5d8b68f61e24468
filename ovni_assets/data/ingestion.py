"""Landing zone → raw tables: find new files, validate them, quarantine the bad ones, append the good ones.

A landed file is one batch, identified by the SHA-256 of its bytes: the same bytes under any name are
ingested once. A file is taken only once it has settled (its modification time is older than the settle
time, so a file still being written waits for a later run). Validation reads every new file before anything
is written; if one is rejected it goes to quarantine with a reason file, the other new files stay in the
landing zone for the next run, and no table changes. Otherwise every new file is appended in one
transaction.

Beyond schema and types, validation rejects data that parses but is wrong: NaN or infinite numbers,
fractional or negative ids and ids above `MAX_ID`, a new file under the name of an ingested batch with other
bytes, transaction dates the data already in the warehouse makes implausible (`implausible_new_weeks`), and
weeks or master data unlike the data's own recent weeks (`week_checks`). How a CSV is read (encoding,
separator, number marks, zoned timestamps) is decided per file by `dialect` and recorded in
`ingested_file_formats`. See docs/ingestion.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from ovni_assets.data import dialect
from ovni_assets.data.dialect import FileFormat
from ovni_assets.data.schema import LINEAGE_COLUMNS, MAX_ID, SOURCE_TABLES, SourceTable, table_for_file_name
from ovni_assets.data.week_checks import (
    DEFAULT_THRESHOLDS,
    LINE_COLUMNS,
    WeekCheckThresholds,
    check_master_data,
    check_transactions,
)
from ovni_assets.warehouse import table_exists

# Any date outside this window is treated as unparseable rather than as a real purchase date.
EARLIEST_PLAUSIBLE_DATE = "2000-01-01"
# A week the data does not hold yet must bring at least this share of the median weekly volume.
MIN_NEW_WEEK_SHARE = 0.10
# The median weekly volume is taken over the newest weeks of data only, so it follows growth.
REFERENCE_WEEKS = 12
REASON_SUFFIX = ".reason.txt"
PLAUSIBLE_NEW_WEEKS = "plausible_new_weeks"  # the check's name in a held file's reason


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
    """A landed file that cannot be ingested; `reason` is one line a person understands. `check` names
    the check against the data that held it, when one did: only such a file may be released on purpose
    (`ovni release`); a file that cannot be read or validated has to be fixed."""

    def __init__(self, file: LandedFile, reason: str, check: str | None = None):
        super().__init__(f"rejected {file.name}: {reason}")
        self.file = file
        self.reason = reason
        self.check = check


@dataclass
class IngestReport:
    ingested: list[tuple[LandedFile, int]] = field(default_factory=list)  # (file, rows)
    skipped_known: list[LandedFile] = field(default_factory=list)  # same bytes ingested before
    unsettled: list[Path] = field(default_factory=list)  # modified within the settle time: left for later
    released: list[tuple[LandedFile, str]] = field(default_factory=list)  # (file, reason) taken on purpose
    # What the checks against the data's own weeks measured: {file name: {week or kind: {metric: value}}}
    week_checks: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def rows_for(self, kind: str) -> int:
        return sum(rows for f, rows in self.ingested if f.table.kind == kind)

    def files_for(self, kind: str) -> list[str]:
        return [f.name for f, _ in self.ingested if f.table.kind == kind]

    def released_for(self, kind: str) -> list[dict[str, str]]:
        return [{"file": f.name, "reason": reason} for f, reason in self.released if f.table.kind == kind]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_settled(mtime_ns: int, settle_seconds: float, now: float | None = None) -> bool:
    """Whether a file last modified at `mtime_ns` has held still for `settle_seconds` (every write moves
    the modification time, so an old one means size and content held too). A settle time of 0 takes
    every file, whatever its clock says."""
    if settle_seconds <= 0:
        return True
    return (now if now is not None else time.time()) - mtime_ns / 1e9 >= settle_seconds


def landing_paths(landing_dir: Path) -> list[Path]:
    """Every landing file (`table_for_file_name`) in the landing zone, oldest first (then by name)."""
    if not landing_dir.exists():
        return []
    found = []
    for path in landing_dir.iterdir():
        if table_for_file_name(path.name) is not None and (path.is_symlink() or path.is_file()):
            found.append((path.lstat().st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(found)]


def unsettled_paths(landing_dir: Path, settle_seconds: float) -> list[Path]:
    """Landing files modified within the last `settle_seconds` (possibly still being written)."""
    return [p for p in landing_paths(landing_dir) if not is_settled(p.lstat().st_mtime_ns, settle_seconds)]


def wait_until_settled(
    landing_dir: Path,
    settle_seconds: float,
    max_wait_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Path]:
    """Wait (at most `max_wait_seconds`) until every landing file has settled; the ones still moving."""
    deadline = time.monotonic() + max_wait_seconds
    while True:
        moving = unsettled_paths(landing_dir, settle_seconds)
        if not moving or time.monotonic() >= deadline:
            return moving
        sleep(min(1.0, max(0.05, deadline - time.monotonic())))


def scan_landing(landing_dir: Path, settle_seconds: float = 0.0) -> list[LandedFile]:
    """Every settled landing file, oldest first (then by name). A file that changed while it was hashed
    is left out (it is still being written)."""
    files = []
    for path in landing_paths(landing_dir):
        before = path.lstat()
        if not is_settled(before.st_mtime_ns, settle_seconds):
            continue
        if path.is_symlink():  # never read through: identified by where it points, held by ingest_landing
            link = hashlib.sha256(f"symlink:{os.readlink(path)}".encode()).hexdigest()
            files.append(LandedFile(path, table_for_file_name(path.name), link, 0))
            continue
        sha256 = file_sha256(path)
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            continue
        files.append(LandedFile(path, table_for_file_name(path.name), sha256, after.st_size))
    return files


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables and the file registry (ingested and released files) if this is a new
    warehouse."""
    for table in SOURCE_TABLES.values():
        columns = [f'"{c.name}" {c.sql_type}' for c in table.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS {table.raw_table} ({', '.join(columns)})")
    con.execute(
        """CREATE TABLE IF NOT EXISTS ingested_files (
            batch_id VARCHAR PRIMARY KEY, file_hash VARCHAR UNIQUE, file_name VARCHAR, kind VARCHAR,
            row_count BIGINT, size_bytes BIGINT, ingested_at TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS released_files (
            file_hash VARCHAR PRIMARY KEY, file_name VARCHAR, released_at TIMESTAMP, release_reason VARCHAR,
            held_reason VARCHAR)"""
    )
    dialect.ensure_file_formats_table(con)


def known_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not table_exists(con, "ingested_files"):
        return set()
    return {row[0] for row in con.execute("SELECT file_hash FROM ingested_files").fetchall()}


def released_reasons(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{file hash: the reason a person gave} of every held file released on purpose (`ovni release`)."""
    if not table_exists(con, "released_files"):
        return {}
    return dict(con.execute("SELECT file_hash, release_reason FROM released_files").fetchall())


def ingested_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{file name: batch id} of every ingested file."""
    if not table_exists(con, "ingested_files"):
        return {}
    return dict(con.execute("SELECT file_name, batch_id FROM ingested_files").fetchall())


def weekly_lines(con: duckdb.DuckDBPyConnection, relation: str) -> dict[date, int]:
    """Transaction lines per ISO week (Monday) of a table with `purchase_date`."""
    rows = con.execute(
        f"SELECT date_trunc('week', purchase_date)::DATE, count(*) FROM {relation} GROUP BY ALL"
    ).fetchall()
    return dict(rows)


def implausible_new_weeks(
    known: dict[date, int], incoming: dict[date, int], min_share: float = MIN_NEW_WEEK_SHARE
) -> str | None:
    """Why `incoming` transaction lines per week would move the data forward implausibly, or None.

    Every week from the one after the newest known week up to the newest incoming week is a week the file
    adds to the data (the target week moves past it). Each must hold at least `min_share` of the median
    weekly volume of the newest `REFERENCE_WEEKS` known weeks (of the incoming weeks when nothing is known
    yet): a stray date weeks ahead leaves empty weeks before it, a handful of lines is no week. Lines in
    weeks the data already holds (late or corrected rows) are never implausible.
    """
    if not incoming:
        return None
    reference = known or incoming
    median = statistics.median(reference[w] for w in sorted(reference)[-REFERENCE_WEEKS:])
    first_new = max(known) + timedelta(weeks=1) if known else min(incoming)
    newest = max(incoming)
    week = first_new
    while week <= newest:
        lines = incoming.get(week, 0)
        if lines < min_share * median:
            after = f" after the newest data week {max(known)}" if known else ""
            return (
                f"purchase_date runs to week {newest}{after}, but week {week} would hold {lines:,} line(s), "
                f"{lines / median:.1%} of the median weekly volume ({median:,.0f} lines; at least "
                f"{min_share:.0%} needed): a stray date or a partial export; fix the dates and land it again"
            )
        week += timedelta(weeks=1)
    return None


def _read_source(con: duckdb.DuckDBPyConnection, file: LandedFile, relation: str) -> FileFormat:
    """Read the file into temp table `relation` (CSV as text in its detected dialect, numbers and zoned
    timestamps rewritten to the plain form the casts expect), check it has every required column, and say
    how it was read."""
    parquet = file.path.suffix.lower() == ".parquet"
    header = True
    try:
        if parquet:
            path = str(file.path).replace("'", "''")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS SELECT * FROM read_parquet('{path}')")
        else:
            encoding, bom = dialect.detect_encoding(file.path)
            with dialect.utf8_copy(file.path, encoding) as readable:
                delimiter, quote, escape, header = dialect.sniff_dialect(con, readable)
                relation_sql = dialect.csv_relation_sql(readable, delimiter, quote, escape)
                con.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS SELECT * FROM {relation_sql}")
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0][:200]
        raise RejectedFile(file, f"unreadable {file.path.suffix.lstrip('.')} file ({first_line})") from None
    except dialect.FormatProblem as problem:
        raise RejectedFile(file, problem.reason) from None
    present = {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}
    missing = [c for c in file.table.column_names if c not in present]
    if missing:
        no_header = "" if header else " (the first line looks like data: the file needs a header row)"
        raise RejectedFile(file, f"missing required column(s) {', '.join(missing)}{no_header}")
    try:
        if parquet:
            return FileFormat(
                "parquet", date_zone_policy=dialect.parquet_zone_policy(con, relation, file.table)
            )
        decimal, thousands, evidence, zone_policy = dialect.read_csv_format(
            con, relation, file.table, delimiter
        )
    except dialect.FormatProblem as problem:
        raise RejectedFile(file, problem.reason) from None
    return FileFormat(
        "csv", delimiter, quote, escape, header, encoding, bom, decimal, thousands, evidence, zone_policy
    )


def stage_file(con: duckdb.DuckDBPyConnection, file: LandedFile, stage_name: str) -> tuple[int, FileFormat]:
    """Read and validate one file into a temp table with the source schema; return its row count and how it
    was read (`dialect`).

    Raises RejectedFile with the first problem found: unreadable bytes or a format the file does not settle,
    missing columns, values that do not cast, nulls in required columns, implausible dates, or no rows.
    """
    table = file.table
    file_format = _read_source(con, file, f"{stage_name}_src")
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
        _check_numbers(con, file, column, f"{stage_name}_src")

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
    return rows, file_format


def _check_numbers(con: duckdb.DuckDBPyConnection, file: LandedFile, column, relation: str) -> None:
    """Reject NaN and infinite numbers, fractional whole numbers (a cast would round them silently) and
    ids outside [0, MAX_ID]: API clients read ids as JSON numbers, exact only up to 2**53 - 1."""
    quoted = f'"{column.name}"'
    as_double = f"TRY_CAST({quoted} AS DOUBLE)"
    if column.sql_type == "DOUBLE":
        problem, condition = "NaN or infinite", f"isnan({as_double}) OR isinf({as_double})"
    elif column.sql_type == "BIGINT":
        problem, condition = "fractional", f"{as_double} <> trunc({as_double})"
    else:
        return
    checks = [(problem, condition)]
    if column.identifier:
        as_id = f"TRY_CAST({quoted} AS BIGINT)"
        checks.append((f"negative or above {MAX_ID:,}", f"{as_id} < 0 OR {as_id} > {MAX_ID}"))
    for problem, condition in checks:
        bad = con.execute(
            f"SELECT count(*), any_value({quoted}::VARCHAR) FROM {relation} WHERE {condition}"
        ).fetchone()
        if bad[0]:
            raise RejectedFile(
                file, f"column {column.name} has {bad[0]:,} {problem} value(s) (e.g. {bad[1]!r})"
            )


def same_name_problem(file: LandedFile, names: dict[str, str]) -> str | None:
    """Why a file with new bytes under the name of an ingested batch is held back, or None."""
    batch_id = names.get(file.name)
    if batch_id is None:
        return None
    return (
        f"a file named {file.name} was already ingested as batch {batch_id} with other bytes; a batch is "
        f"never added twice: to replace it run `ovni retract {batch_id}`, then land the new file again"
    )


def quarantine(file: LandedFile, reason: str, quarantine_dir: Path, check: str | None = None) -> Path:
    """Move a rejected file to quarantine with `<name>.reason.txt` beside it (naming the `check` against
    the data that held it, if one did); never overwrite."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / file.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = quarantine_dir / f"{file.path.stem}.{stamp}{file.path.suffix}"
    shutil.move(str(file.path), target)
    target.with_name(target.name + REASON_SUFFIX).write_text(
        f"file: {file.name}\nsha256: {file.sha256}\nrejected_at: {datetime.now(UTC).isoformat()}\n"
        + (f"check: {check}\n" if check else "")
        + f"reason: {reason}\n"
    )
    return target


def _append_staged(
    con: duckdb.DuckDBPyConnection,
    staged: list[tuple[LandedFile, str, int, FileFormat]],
    ingested_at: datetime,
) -> None:
    """Append every staged file to its raw table, the file registry and how it was read, in one
    transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for file, stage_name, rows, file_format in staged:
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
            dialect.record_file_format(con, file.batch_id, file_format)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    quarantine_dir: Path,
    now: datetime | None = None,
    settle_seconds: float = 0.0,
    week_checks: WeekCheckThresholds = DEFAULT_THRESHOLDS,
) -> IngestReport:
    """Ingest every new settled landed file, all or nothing. Raises RejectedFile after quarantining a bad
    one. Transaction files are judged against the warehouse plus the files before them in this run; a file a
    person released (`released_files`) is not judged against the data, only read and validated."""
    ensure_raw_tables(con)
    seen = known_hashes(con)
    names = ingested_names(con)
    released = released_reasons(con)
    report = IngestReport()
    new_files: list[LandedFile] = []
    scanned = scan_landing(landing_dir, settle_seconds)
    report.unsettled = [p for p in landing_paths(landing_dir) if p not in {f.path for f in scanned}]
    for file in scanned:
        if file.sha256 in seen or file.sha256 in {f.sha256 for f in new_files}:
            report.skipped_known.append(file)
        else:
            new_files.append(file)

    staged: list[tuple[LandedFile, str, int, FileFormat]] = []
    weeks = weekly_lines(con, "raw_transactions")
    transaction_relations = ["raw_transactions"]
    try:
        for index, file in enumerate(new_files):
            stage_name = f"stage_{index}"
            try:
                if file.path.is_symlink():
                    raise RejectedFile(
                        file,
                        f"is a symbolic link (to {os.readlink(file.path)}), not a file: OVNI does not follow "
                        "links out of the landing zone; copy the file itself into landing/",
                    )
                problem = same_name_problem(file, names)
                if problem:
                    raise RejectedFile(file, problem)
                rows, file_format = stage_file(con, file, stage_name)
                if file.table.kind == "transactions":
                    incoming = weekly_lines(con, stage_name)
                    problem = None if file.sha256 in released else implausible_new_weeks(weeks, incoming)
                    if problem:
                        raise RejectedFile(file, problem, check=PLAUSIBLE_NEW_WEEKS)
                    history = " UNION ALL ".join(
                        f"SELECT {LINE_COLUMNS} FROM {relation}" for relation in transaction_relations
                    )
                    checked = check_transactions(con, stage_name, f"({history})", week_checks)
                    transaction_relations.append(stage_name)
                    weeks = {w: weeks.get(w, 0) + incoming.get(w, 0) for w in weeks.keys() | incoming.keys()}
                else:
                    checked = check_master_data(con, file.table, stage_name, week_checks)
                if checked.problem and file.sha256 not in released:
                    raise RejectedFile(file, checked.problem, check=checked.check)
                if checked.measured:
                    report.week_checks[file.name] = checked.measured
            except RejectedFile as rejected:
                quarantine(file, rejected.reason, quarantine_dir, rejected.check)
                raise
            staged.append((file, stage_name, rows, file_format))
        _append_staged(con, staged, (now or datetime.now(UTC)).replace(tzinfo=None))
    finally:
        for index in range(len(new_files)):
            con.execute(f"DROP TABLE IF EXISTS stage_{index}")
            con.execute(f"DROP TABLE IF EXISTS stage_{index}_src")
    report.ingested.extend((file, rows) for file, _, rows, _ in staged)
    report.released.extend((f, released[f.sha256]) for f, *_ in staged if f.sha256 in released)
    return report
