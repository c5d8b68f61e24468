"""Backups of a whole OVNI_HOME, taken while the daemon and the API run, and restores from them.

A backup is one folder `ovni-backup-<UTC time>` inside the backup directory. It is written under a hidden
`.partial-…` name and renamed only after every file was copied, re-read against its checksum and the
databases opened; its `COMPLETE` marker holds the checksum of its `manifest.json` (path, size and SHA-256
of every file). A backup killed halfway is a `.partial-…` folder that restores never consider and the next
backup removes.

Consistency: the copy runs under the warehouse run lock, so no pipeline run writes the warehouse, the
snapshot, the artifacts, the landing zone or the quarantine while it is copied (a running run is waited
for). SQLite files (MLflow's store, the Dagster instance), which the daemon and `ovni promote` write at any
time, are copied through SQLite's online backup API. No dagster or mlflow import here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ovni_assets.settings import OvniSettings
from ovni_assets.warehouse import run_lock

BACKUP_PREFIX = "ovni-backup-"
PARTIAL_PREFIX = ".partial-"
MANIFEST = "manifest.json"
COMPLETE = "COMPLETE"
FORMAT_VERSION = 1
RESTORING_MARKER = ".ovni-restoring"
LOCK_NAME = ".ovni-backup.lock"
# What a home holds only while processes run: locks, liveness files, DuckDB's spill folder, snapshot temp
# files; and SQLite's side files, which the online backup folds into the copied database.
TRANSIENT_NAMES = {"warehouse.lock", "run_liveness", "duckdb_tmp"}
SQLITE_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_FILES = {"warehouse.duckdb", "serving.duckdb"}
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why, in one line."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    files: int
    bytes: int
    served: dict
    removed: list[Path]


def write_backup(
    settings: OvniSettings, directory: Path, keep: int, on_wait: Callable[[], None] | None = None
) -> BackupInfo:
    """Write a new complete, verified backup of the home into `directory`; keep only the newest `keep`."""
    home = settings.home
    directory = directory.expanduser().resolve()
    if not home.is_dir():
        raise BackupError(f"no OVNI home at {home}")
    if directory == home or home in directory.parents:
        raise BackupError(f"{directory} is inside OVNI_HOME ({home}): a backup there is lost with the home")
    directory.mkdir(parents=True, exist_ok=True)
    with _directory_lock(directory):
        for leftover in directory.glob(f"{PARTIAL_PREFIX}{BACKUP_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)  # a backup killed halfway
        name = _new_backup_name(directory)
        partial = directory / f"{PARTIAL_PREFIX}{name}"
        partial.mkdir()
        with run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds, on_wait=on_wait):
            entries = [e for e in (_copy_entry(home, rel, partial) for rel in _home_files(home)) if e]
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "home": str(home),
            "mlflow_store": "home" if settings.mlflow_tracking_uri is None else "external",
            "served": served_summary(partial / "home" / "serving.duckdb"),
            "files": entries,
        }
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
        _write_synced(partial / MANIFEST, manifest_bytes)
        problems = check_backup_files(partial, manifest)
        if problems:
            raise BackupError(f"the copy does not read back as written: {problems[0]}")
        _write_synced(partial / COMPLETE, hashlib.sha256(manifest_bytes).hexdigest().encode() + b"\n")
        final = directory / name
        os.rename(partial, final)
        _fsync_directory(directory)
        removed = _apply_retention(directory, keep)
    return BackupInfo(
        path=final,
        files=len(entries),
        bytes=sum(entry["size"] for entry in entries),
        served=manifest["served"],
        removed=removed,
    )


def complete_backups(directory: Path) -> list[Path]:
    """The backups in `directory` marked complete, oldest first (names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.iterdir()
        if path.name.startswith(BACKUP_PREFIX) and path.is_dir() and (path / COMPLETE).is_file()
    )


def find_backup(source: Path, name: str | None = None) -> Path:
    """`source` itself when it is a backup, else the backup `name` in it, else its newest complete one."""
    source = source.expanduser().resolve()
    if name is None and (source / MANIFEST).is_file():
        return source
    if name is not None:
        chosen = source / name
        if not (chosen / MANIFEST).is_file():
            raise BackupError(f"no backup {name} in {source}{_listing(source)}")
        return chosen
    backups = complete_backups(source)
    if not backups:
        raise BackupError(f"no complete backup in {source}")
    return backups[-1]


def verify_backup(backup: Path) -> dict:
    """The backup's manifest after checking its marker, every file's size and checksum and its databases;
    a damaged backup raises `BackupError` naming the first file that does not match."""
    manifest_path, marker = backup / MANIFEST, backup / COMPLETE
    if not marker.is_file():
        raise BackupError(f"{backup.name} is not complete (no {COMPLETE} marker): it was interrupted")
    try:
        manifest_bytes = manifest_path.read_bytes()
        manifest = json.loads(manifest_bytes)
    except (OSError, ValueError) as error:
        raise BackupError(f"{backup.name}: {MANIFEST} is unreadable ({error})") from None
    if marker.read_text().strip() != hashlib.sha256(manifest_bytes).hexdigest():
        raise BackupError(f"{backup.name}: {MANIFEST} does not match its {COMPLETE} marker (changed after)")
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{backup.name}: backup format {manifest.get('format')!r} is not {FORMAT_VERSION}")
    problems = check_backup_files(backup, manifest)
    if problems:
        raise BackupError(f"{backup.name} is damaged: {problems[0]}")
    return manifest


def check_backup_files(backup: Path, manifest: dict) -> list[str]:
    """What does not match in the backup's files: missing, size or SHA-256 differs, a database that does not
    open. Empty when every file is as the manifest says."""
    problems = []
    for entry in manifest["files"]:
        path = backup / "home" / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']} is missing")
            continue
        size, digest = path.stat().st_size, _sha256(path)
        if size != entry["size"]:
            problems.append(f"{entry['path']} has {size} bytes, the manifest says {entry['size']}")
        elif digest != entry["sha256"]:
            problems.append(
                f"{entry['path']} checksum differs (SHA-256 {digest}, expected {entry['sha256']})"
            )
        elif entry["kind"] != "file":
            problem = _database_problem(path, entry["kind"])
            if problem:
                problems.append(f"{entry['path']} does not open as a {entry['kind']} database: {problem}")
    return problems


def restore_backup(settings: OvniSettings, backup: Path) -> dict:
    """Verify `backup` and copy it into OVNI_HOME, which must be missing or empty (or hold an interrupted
    restore). Returns the manifest. The caller points the restored stores at the new home."""
    manifest = verify_backup(backup)
    home = settings.home
    if home.exists():
        present = [p.name for p in home.iterdir()]
        if present and RESTORING_MARKER not in present:
            raise BackupError(
                f"OVNI_HOME {home} is not empty ({', '.join(sorted(present)[:5])}"
                f"{', …' if len(present) > 5 else ''}); restore only into a missing or empty home"
            )
        for leftover in home.iterdir():  # what an interrupted restore had copied
            if leftover.name != RESTORING_MARKER:
                shutil.rmtree(
                    leftover
                ) if leftover.is_dir() and not leftover.is_symlink() else leftover.unlink()
    home.mkdir(parents=True, exist_ok=True)
    _write_synced(home / RESTORING_MARKER, f"{backup}\n".encode())
    for entry in manifest["files"]:
        target = home / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        with (backup / "home" / entry["path"]).open("rb") as source:
            digest = _copy_synced(source, target)
        if digest != entry["sha256"]:
            raise BackupError(f"{entry['path']} changed while it was restored; run the restore again")
    _fsync_directory(home)
    (home / RESTORING_MARKER).unlink()
    return manifest


def served_summary(serving_path: Path) -> dict:
    """What a snapshot serves (target week, batch, model version); empty when there is none."""
    if not serving_path.exists():
        return {}
    with contextlib.closing(duckdb.connect(str(serving_path), read_only=True)) as con:
        row = con.execute("SELECT target_week, batch_id, model_version FROM snapshot_info").fetchone()
    if row is None:
        return {}
    return {"target_week": str(row[0]), "batch_id": row[1], "model_version": row[2]}


def _home_files(home: Path) -> Iterator[Path]:
    """Relative paths of the regular files a backup takes, in a stable order; symlinks are not followed."""
    for root, folders, files in os.walk(home):
        here = Path(root)
        if here == home:
            folders[:] = [f for f in folders if f not in TRANSIENT_NAMES]
        folders.sort()
        for name in sorted(files):
            if here == home and (name in TRANSIENT_NAMES or name == RESTORING_MARKER or _is_temp(name)):
                continue
            if name.endswith(SQLITE_SIDE_SUFFIXES):
                continue
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(home)


def _is_temp(name: str) -> bool:
    return name.startswith(".") and ".tmp" in name


def _copy_entry(home: Path, relative: Path, partial: Path) -> dict | None:
    """Copy one file of the home into the partial backup: SQLite through its online backup, the rest as
    bytes; its manifest entry, or None for a file that went away meanwhile (a rotated log)."""
    source, target = home / relative, partial / "home" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        kind = "duckdb" if str(relative) in DUCKDB_FILES else "sqlite" if _is_sqlite(source) else "file"
        if kind == "sqlite":
            _sqlite_online_copy(source, target)
            digest = _sha256(target)
        else:
            with source.open("rb") as handle:
                digest = _copy_synced(handle, target)
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return None
    return {"path": str(relative), "size": target.stat().st_size, "sha256": digest, "kind": kind}


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def _sqlite_online_copy(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=60)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())


def _database_problem(path: Path, kind: str) -> str | None:
    """Why a copied database does not open and read, or None."""
    try:
        if kind == "sqlite":
            with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)) as db:
                result = db.execute("PRAGMA quick_check").fetchone()[0]
            return None if result == "ok" else result
        with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        return None
    except (sqlite3.Error, duckdb.Error) as error:
        return str(error).splitlines()[0]


def _copy_synced(source, target: Path) -> str:
    """Copy an open binary file to `target`, fsync it; the SHA-256 of the bytes copied."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _new_backup_name(directory: Path) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = f"{BACKUP_PREFIX}{stamp}", 1
    while (directory / name).exists():
        n += 1
        name = f"{BACKUP_PREFIX}{stamp}-{n}"
    return name


def _apply_retention(directory: Path, keep: int) -> list[Path]:
    """Remove the oldest complete backups beyond the newest `keep`; what was removed."""
    backups = complete_backups(directory)
    removed = backups[:-keep] if len(backups) > keep else []
    for old in removed:
        shutil.rmtree(old)
    return removed


def _listing(directory: Path) -> str:
    names = [path.name for path in complete_backups(directory)]
    return f" (complete backups: {', '.join(names)})" if names else " (no complete backup there)"


@contextlib.contextmanager
def _directory_lock(directory: Path, timeout_seconds: float = 600.0) -> Iterator[None]:
    """One backup at a time writes into a directory (its partial folders and retention)."""
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BackupError(
                        f"another backup has been writing into {directory} for too long"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)
