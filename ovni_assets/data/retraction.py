"""`ovni retract BATCH_ID`: take an ingested batch back out of the warehouse, losing nothing.

The batch's raw rows and its `ingested_files` row leave in one transaction under the run lock, with every
prediction batch made since the file was ingested (they read its rows: withdrawn, kept aside); its file
moves to `quarantine/retracted/` (or, when the file is no longer in the landing zone, the rows are written
there as parquet) with a reason file. Then `ingest_job` rebuilds the clean tables, features and monitoring
from what is left, `predict_job` scores the target week again and republishes, and the weekly cycle goes
on.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ovni_assets.data.ingestion import file_sha256, landing_paths
from ovni_assets.data.schema import SOURCE_TABLES
from ovni_assets.warehouse import table_exists

RETRACTED_FOLDER = "retracted"


class UnknownBatch(Exception):
    """The batch id is not in `ingested_files`."""


@dataclass(frozen=True)
class RetractedBatch:
    batch_id: str
    kind: str
    file_name: str
    rows: int
    kept_at: Path  # where the batch's data now is
    withdrawn_batches: tuple[str, ...] = ()  # prediction batches made after it was ingested


def _unique_target(folder: Path, name: str) -> Path:
    target = folder / name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{Path(name).stem}.{stamp}{Path(name).suffix}"
    return target


def _landed_copy(landing_dir: Path, file_name: str, file_hash: str) -> Path | None:
    """The landing file holding the batch's bytes (its own name first, then any other name)."""
    named = landing_dir / file_name
    candidates = [named] + [p for p in landing_paths(landing_dir) if p != named]
    return next((p for p in candidates if p.is_file() and file_sha256(p) == file_hash), None)


def withdraw_predictions_since(
    con: duckdb.DuckDBPyConnection, ingested_at: datetime, reason: str
) -> tuple[str, ...]:
    """Move every prediction batch made at or after `ingested_at` (each read the retracted rows) out of
    `predictions` and `prediction_batches` into `withdrawn_predictions` and `withdrawn_prediction_batches`,
    with when and why; returns their ids. Nothing served or monitored reads the withdrawn tables, so each
    week's newest batch made before the file falls back into `latest_predictions`. Runs inside the
    caller's transaction."""
    if not table_exists(con, "prediction_batches"):
        return ()
    batches = tuple(
        row[0]
        for row in con.execute(
            "SELECT batch_id FROM prediction_batches WHERE created_at >= ? ORDER BY created_at", [ingested_at]
        ).fetchall()
    )
    if not batches:
        return ()
    withdrawn_at = datetime.now(UTC).replace(tzinfo=None)
    for table in ("predictions", "prediction_batches"):
        con.execute(
            f"CREATE TABLE IF NOT EXISTS withdrawn_{table} AS SELECT *, NULL::TIMESTAMP AS withdrawn_at, "
            f"NULL::VARCHAR AS withdrawn_reason FROM {table} LIMIT 0"
        )
        con.execute(
            f"INSERT INTO withdrawn_{table} SELECT *, ?, ? FROM {table} WHERE list_contains(?, batch_id)",
            [withdrawn_at, reason, list(batches)],
        )
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, batch_id)", [list(batches)])
    return batches


def retract_batch(
    con: duckdb.DuckDBPyConnection, batch_id: str, landing_dir: Path, quarantine_dir: Path
) -> RetractedBatch:
    """Remove batch `batch_id` from its raw table and `ingested_files`, withdraw the prediction batches
    made since it was ingested, and keep its data in `quarantine/retracted/`. The caller holds the run
    lock; clean tables, features and predictions are not rebuilt here."""
    found = (
        con.execute(
            "SELECT kind, file_name, file_hash, row_count, ingested_at FROM ingested_files "
            "WHERE batch_id = ?",
            [batch_id],
        ).fetchall()
        if table_exists(con, "ingested_files")
        else []
    )
    if not found:
        raise UnknownBatch(f"no ingested batch {batch_id!r} (batch ids are in the ingested_files table)")
    kind, file_name, file_hash, rows, ingested_at = found[0]
    table = SOURCE_TABLES[kind]
    folder = quarantine_dir / RETRACTED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)

    source = _landed_copy(landing_dir, file_name, file_hash)
    if source is not None:
        kept_at = _unique_target(folder, file_name)
        shutil.move(str(source), kept_at)
        how = f"moved here from {source}"
    else:  # the landed file is gone: its rows are the only copy
        kept_at = _unique_target(folder, f"{Path(file_name).stem}.parquet")
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        path = str(kept_at).replace("'", "''")
        con.execute(
            f"COPY (SELECT {columns} FROM {table.raw_table} WHERE batch_id = ? ORDER BY source_row) "
            f"TO '{path}' (FORMAT parquet)",
            [batch_id],
        )
        how = "written from the raw rows (the landed file was no longer in the landing zone)"

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {table.raw_table} WHERE batch_id = ?", [batch_id])
        con.execute("DELETE FROM ingested_files WHERE batch_id = ?", [batch_id])
        if table_exists(con, "ingested_file_formats"):
            con.execute("DELETE FROM ingested_file_formats WHERE batch_id = ?", [batch_id])
        withdrawn = withdraw_predictions_since(con, ingested_at, f"built with retracted batch {batch_id}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        if source is not None:
            shutil.move(str(kept_at), source)
        else:
            kept_at.unlink(missing_ok=True)
        raise
    kept_at.with_name(kept_at.name + ".reason.txt").write_text(
        f"file: {file_name}\nsha256: {file_hash}\nbatch_id: {batch_id}\nrows: {rows}\n"
        f"retracted_at: {datetime.now(UTC).isoformat()}\n"
        f"reason: retracted by `ovni retract {batch_id}`; {how}. To ingest it again, move it back to "
        "the landing zone.\n"
    )
    return RetractedBatch(batch_id, kind, file_name, rows, kept_at, withdrawn)
