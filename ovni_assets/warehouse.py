"""DuckDB access rules: one writer at a time (a file lock around every pipeline run) and patient connects."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ovni_assets.settings import get_settings


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


def connection_config() -> dict[str, str]:
    """DuckDB settings of every OVNI connection: a memory limit (`OVNI_DUCKDB_MEMORY_LIMIT`) and a spill
    folder under OVNI_HOME, so big builds go to disk instead of growing without bound; threads default."""
    settings = get_settings()
    return {
        "memory_limit": settings.duckdb_memory_limit,
        "temp_directory": str(settings.duckdb_temp_dir),
    }


def connect(path: Path, read_only: bool = False, attempts: int = 50) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with `connection_config()`, retrying while another process holds its lock."""
    config = connection_config()
    delay = 0.05
    for attempt in range(attempts):
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException:
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


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
