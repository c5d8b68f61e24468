"""Held files and a person's decision: list what quarantine holds, release one on purpose.

A landed file that fails a check on its content waits in `quarantine/` beside `<name>.reason.txt`. Only a
person can say the data is right after all (a real holiday week, a new large customer): `release_file`
records that decision in the warehouse's `released_files` (the file's hash, when, the reason given, and
the reason it was held) and moves the file back to `landing/` under its own name. Ingestion then takes that
file without judging its content against the data, and still reads and validates it. Only a file held by
such a check (its reason file names the `check`) can be released; one that could not be read or validated,
a second file under an ingested name or a symbolic link is refused, its reason saying what to do instead.
See docs/ingestion.md.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ovni_assets.data.ingestion import REASON_SUFFIX, ensure_raw_tables, file_sha256
from ovni_assets.data.schema import table_for_file_name

RELEASED_FOLDER = "released"


class ReleaseRefused(Exception):
    """`ovni release NAME` cannot release NAME; the message says why and what to do instead."""


@dataclass(frozen=True)
class HeldFile:
    """A file in quarantine, with what its reason file says."""

    path: Path
    original_name: str
    sha256: str
    held_at: str
    reason: str
    check: str  # the check against the data that held it; empty when the file could not be read or validated

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def releasable(self) -> bool:
        return bool(self.check)


@dataclass(frozen=True)
class ReleasedFile:
    name: str
    sha256: str
    released_at: datetime
    landed_at: Path


def _read_reason(reason_file: Path) -> dict[str, str]:
    """The `key: value` lines of a reason file; `reason` runs to the end of the file."""
    fields: dict[str, str] = {}
    text = reason_file.read_text(errors="replace")
    head, _, reason = text.partition("\nreason: ")
    for line in head.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            fields[key] = value
    fields["reason"] = reason.strip() or fields.get("reason", "")
    return fields


def held_files(quarantine_dir: Path) -> list[HeldFile]:
    """Every held file in quarantine, oldest first (retracted batches, in `retracted/`, are not held)."""
    if not quarantine_dir.is_dir():
        return []
    held = []
    for path in quarantine_dir.iterdir():
        if path.name.endswith(REASON_SUFFIX) or (path.is_dir() and not path.is_symlink()):
            continue
        reason_file = path.with_name(path.name + REASON_SUFFIX)
        fields = _read_reason(reason_file) if reason_file.is_file() else {}
        held.append(
            HeldFile(
                path=path,
                original_name=fields.get("file", path.name),
                sha256=fields.get("sha256", ""),
                held_at=fields.get("rejected_at", ""),
                reason=fields.get("reason", "(no reason file)"),
                check=fields.get("check", ""),
            )
        )
    return sorted(held, key=lambda f: (f.held_at, f.name))


def release_file(
    con: duckdb.DuckDBPyConnection,
    quarantine_dir: Path,
    landing_dir: Path,
    name: str,
    reason: str,
    now: datetime | None = None,
) -> ReleasedFile:
    """Record the release of held file `name` and move it back to `landing/` under its own name. The caller
    holds the run lock (this writes the warehouse). Raises ReleaseRefused, changing nothing."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReleaseRefused("give the reason for the release (--reason): it is kept with the file's record")
    held = {f.name: f for f in held_files(quarantine_dir)}
    file = held.get(name) or next((f for f in held.values() if f.original_name == name), None)
    if file is None:
        listed = ", ".join(sorted(held)) or "none"
        raise ReleaseRefused(f"no held file named {name} in {quarantine_dir} (held: {listed})")
    if not file.releasable:
        raise ReleaseRefused(
            f"{file.name} cannot be released: only a file held by a check against the data can be; it was "
            f"held for: {file.reason}"
        )
    if table_for_file_name(file.original_name) is None:
        raise ReleaseRefused(f"{file.original_name} is not a landing file name; rename it before releasing")
    target = landing_dir / file.original_name
    if target.exists() or target.is_symlink():
        raise ReleaseRefused(f"landing/ already holds a file named {file.original_name}; move it away first")
    sha256 = file_sha256(file.path)
    released_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    ensure_raw_tables(con)
    landing_dir.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT OR REPLACE INTO released_files VALUES (?, ?, ?, ?, ?)",
            [sha256, file.original_name, released_at, reason, file.reason],
        )
        shutil.move(str(file.path), target)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        if target.exists() and not file.path.exists():
            shutil.move(str(target), file.path)
        raise
    _archive_reason(file, quarantine_dir, released_at, reason)
    return ReleasedFile(name=file.original_name, sha256=sha256, released_at=released_at, landed_at=target)


def _archive_reason(file: HeldFile, quarantine_dir: Path, released_at: datetime, reason: str) -> None:
    """Keep the held reason, with the release appended, in `quarantine/released/`."""
    reason_file = file.path.with_name(file.name + REASON_SUFFIX)
    folder = quarantine_dir / RELEASED_FOLDER
    folder.mkdir(exist_ok=True)
    text = f"file: {file.original_name}\n"
    if reason_file.is_file():
        text = reason_file.read_text(errors="replace")
    record = folder / f"{file.name}.{released_at:%Y%m%dT%H%M%S%f}{REASON_SUFFIX}"
    record.write_text(f"{text.rstrip()}\nreleased_at: {released_at.isoformat()}\nrelease_reason: {reason}\n")
    reason_file.unlink(missing_ok=True)
