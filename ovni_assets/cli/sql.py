"""`ovni sql "SELECT …"`: read-only SQL on the published serving snapshot (`serving.duckdb`).

The snapshot is opened `read_only=True` with DuckDB's external access disabled and the configuration locked,
so a query can neither change the snapshot nor read or write other files; a statement is stopped after
`OVNI_SQL_TIMEOUT_SECONDS` (running or printing its rows) and within `OVNI_SQL_MEMORY_LIMIT`, so none can
hold the machine. Imports no dagster.
"""

from __future__ import annotations

import csv
import json
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from ovni_assets.settings import OvniSettings, get_settings
from ovni_assets.warehouse import open_duckdb

MAX_TABLE_ROWS = 200
FETCH_BATCH = 10_000
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "UBIGINT",
)


class SqlError(Exception):
    """A query the snapshot cannot answer; the message is one line for the user."""


def open_snapshot(settings: OvniSettings) -> duckdb.DuckDBPyConnection:
    path = settings.serving_path
    if not path.exists():
        raise SqlError(f"no serving snapshot at {path}: run `ovni run` first to publish one")
    # no spill folder: beyond the memory limit a statement stops
    con = open_duckdb(path, settings.sql_memory_limit, None, read_only=True)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _one_line(error: duckdb.Error, settings: OvniSettings | None = None) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "read-only mode" in message:
        return f"the serving snapshot is read-only ({message})"
    if settings is not None and isinstance(error, duckdb.InterruptException):
        return (
            f"stopped after {settings.sql_timeout_seconds:g} s (OVNI_SQL_TIMEOUT_SECONDS): narrow the query "
            "(a WHERE on week_start or customer_id, a LIMIT) or raise the limit"
        )
    if settings is not None and isinstance(error, duckdb.OutOfMemoryException):
        return (
            f"the query needs more memory than OVNI_SQL_MEMORY_LIMIT={settings.sql_memory_limit}: narrow it "
            f"or raise the limit ({message})"
        )
    return message


def _plain(value: Any) -> Any:
    """A JSON-friendly value: dates as ISO text, decimals as floats."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _print_table(cursor: duckdb.DuckDBPyConnection, columns: list[str], types: list[str]) -> None:
    rows = cursor.fetchmany(MAX_TABLE_ROWS + 1)
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 1000)
    table = Table(show_lines=False, header_style="bold")
    for name, sql_type in zip(columns, types, strict=True):
        numeric = str(sql_type).upper().startswith(NUMERIC_TYPES)
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    for row in rows[:MAX_TABLE_ROWS]:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console.print(table)
    if len(rows) > MAX_TABLE_ROWS:
        console.print(
            f"(first {MAX_TABLE_ROWS} rows shown; add a LIMIT or use --format csv for every row)", style="dim"
        )
    else:
        console.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", style="dim")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text value a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`) gets a leading
    apostrophe, so it opens as the text it is; numbers and other values pass unchanged."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _print_csv(cursor: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([spreadsheet_safe(name) for name in columns])
    while batch := cursor.fetchmany(FETCH_BATCH):
        writer.writerows([spreadsheet_safe(value) for value in row] for row in batch)


def _print_json(cursor: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    records = []
    while batch := cursor.fetchmany(FETCH_BATCH):
        records.extend({name: _plain(v) for name, v in zip(columns, row, strict=True)} for row in batch)
    json.dump(records, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


def run_sql(query: str, output_format: str = "table") -> None:
    """Run `query` on the snapshot and print its result; raise `SqlError` with a one-line reason."""
    if not query.strip():
        raise SqlError("empty query")
    if output_format not in ("table", "csv", "json"):
        raise SqlError(f"unknown format {output_format!r}: use table, csv or json")
    settings = get_settings()
    con = open_snapshot(settings)
    deadline = threading.Timer(settings.sql_timeout_seconds, con.interrupt)
    deadline.daemon = True
    deadline.start()
    try:
        try:
            cursor = con.execute(query)
        except duckdb.Error as error:
            raise SqlError(_one_line(error, settings)) from None
        if cursor.description is None:
            print("OK (the statement returned no rows)")
            return
        columns = [d[0] for d in cursor.description]
        types = [d[1] for d in cursor.description]
        try:
            if output_format == "csv":
                _print_csv(cursor, columns)
            elif output_format == "json":
                _print_json(cursor, columns)
            else:
                _print_table(cursor, columns, types)
        except duckdb.Error as error:
            raise SqlError(_one_line(error, settings)) from None
    finally:
        deadline.cancel()
        con.close()


def run_sql_cli(query: str, output_format: str = "table") -> int:
    """`ovni sql`: exit 0 with the result on stdout, or 1 with one line on stderr."""
    try:
        run_sql(query, output_format)
    except SqlError as error:
        print(f"ovni sql: {error}", file=sys.stderr)
        return 1
    except duckdb.IOException as error:
        print(f"ovni sql: cannot open the serving snapshot ({_one_line(error)})", file=sys.stderr)
        return 1
    return 0
