"""DuckDB access rules: one writer at a time (a file lock around every pipeline run) and patient connects."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd

    from ovni_assets.settings import OvniSettings


class RunLockTimeout(RuntimeError):
    """Another pipeline run held the warehouse for longer than we were willing to wait."""


@contextlib.contextmanager
def run_lock(lock_path: Path, timeout_seconds: float, on_wait=None) -> Iterator[None]:
    """Hold an exclusive `flock` on `lock_path` for the block; wait (polling) while another run holds it.

    The kernel releases the lock when the holder exits, so a killed run never leaves a stale lock.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_seconds
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                if time.monotonic() > deadline:
                    raise RunLockTimeout(
                        f"another OVNI run has held {lock_path} for over {timeout_seconds:.0f} s"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def apply_connection_settings(
    con: duckdb.DuckDBPyConnection, memory_limit: str, temp_dir: Path | None
) -> None:
    """Every OVNI connection: a memory limit (`OVNI_DUCKDB_MEMORY_LIMIT`) and a spill folder under OVNI_HOME,
    so big builds go to disk instead of growing without bound; threads stay at DuckDB's default. No
    `temp_dir`: nothing spills, a statement beyond the limit stops.

    Set with SET, not as connect-time config: a plain `duckdb.connect` of the same file in the same process
    would otherwise fail ("different configuration"). DuckDB refuses to move a spill folder it has used.
    The limit is also kept as the variable `ovni_memory_limit`, which `memory_limit` restores (DuckDB
    reports its own limit rounded).
    """
    con.execute(f"SET memory_limit = '{_quoted(memory_limit)}'")
    con.execute(f"SET VARIABLE ovni_memory_limit = '{_quoted(memory_limit)}'")
    wanted = "" if temp_dir is None else str(temp_dir)
    if con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] != wanted:
        with contextlib.suppress(duckdb.NotImplementedException):
            con.execute(f"SET temp_directory = '{_quoted(wanted)}'")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def connect(
    path: Path, settings: OvniSettings, read_only: bool = False, attempts: int = 50
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file of OVNI_HOME with the settings' memory limit and spill folder."""
    return open_duckdb(path, settings.duckdb_memory_limit, settings.duckdb_temp_dir, read_only, attempts)


def open_duckdb(
    path: Path, memory_limit: str, temp_dir: Path | None, read_only: bool = False, attempts: int = 50
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with `apply_connection_settings`, retrying while another process holds its lock."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            apply_connection_settings(con, memory_limit, temp_dir)
            return con
        except duckdb.IOException:
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


# DuckDB memory for reads that feed pandas (training, scoring): the frames, not DuckDB's cache, need the RAM.
FRAME_READ_MEMORY_LIMIT = "1GB"


@contextlib.contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str = FRAME_READ_MEMORY_LIMIT) -> Iterator[None]:
    """Cap DuckDB's buffer pool at `limit` for the block (lowering it evicts cached blocks over it; sorts
    spill to the temp folder), then set it back to the connection's own limit (`apply_connection_settings`).
    A limit already at or below `limit` is left alone.

    DuckDB keeps the table blocks a scan read cached up to its limit: at large scale the training reads
    would keep gigabytes of cache in the process while pandas and scikit-learn need the memory.
    """
    current = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]  # e.g. "5.5 GiB"
    if _size_bytes(current) <= _size_bytes(limit):
        yield
        return
    own_limit = con.execute("SELECT getvariable('ovni_memory_limit')").fetchall()[0][0] or current
    con.execute(f"SET memory_limit = '{_quoted(limit)}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{_quoted(own_limit)}'")


_SIZE_UNITS = {"": 1, "B": 1, "BYTES": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
_SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "PIB": 2**50}


def _size_bytes(size: str) -> float:
    """Bytes of a size as DuckDB writes it ("5.5 GiB", "286.1 MiB") or as we do ("1GB")."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", size).groups()
    return float(number) * _SIZE_UNITS[unit.upper()]


def read_frame(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> pd.DataFrame:
    """The rows of `query` as a DataFrame, read under `memory_limit`: text columns as categories (one Python
    string per distinct value, not per cell), decimals as float64 (not Python Decimal objects)."""
    import pyarrow as pa

    with memory_limit(con):
        table = con.sql(query, params=params).to_arrow_table()
    fields = [pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields)).to_pandas(strings_to_categorical=True)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [name],
        ).fetchone()[0]
        > 0
    )


def row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]


def column_schema(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str]]:
    """(column, type) pairs of a table or view, in order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return [(c, t) for c, t in rows]
