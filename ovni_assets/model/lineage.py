"""Which raw files a model version was trained from (`training_snapshot_files`)."""

from __future__ import annotations

import duckdb

TRAINING_SNAPSHOT_FILES_DDL = """
CREATE TABLE IF NOT EXISTS training_snapshot_files (
    training_snapshot_id VARCHAR, model_version VARCHAR, file_name VARCHAR, kind VARCHAR, file_hash VARCHAR,
    ingest_batch_id VARCHAR, recorded_at TIMESTAMP
)
"""


def landed_files(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every ingested raw file (name, kind, sha256, ingest batch): what the features were built from."""
    rows = con.execute(
        "SELECT file_name, kind, file_hash, batch_id FROM ingested_files ORDER BY ingested_at, file_name"
    ).fetchall()
    return [{"file_name": n, "kind": k, "file_hash": h, "ingest_batch_id": b} for n, k, h, b in rows]


def record_training_files(con: duckdb.DuckDBPyConnection, snapshot_id: str, model_version: str) -> int:
    """Link a model version's training snapshot to the raw files it came from (`training_snapshot_files`)."""
    con.execute(TRAINING_SNAPSHOT_FILES_DDL)
    con.execute(
        """INSERT INTO training_snapshot_files
           SELECT ?, ?, file_name, kind, file_hash, batch_id, now()::TIMESTAMP FROM ingested_files""",
        [snapshot_id, model_version],
    )
    return con.execute(
        "SELECT count(*) FROM training_snapshot_files WHERE model_version = ?", [model_version]
    ).fetchall()[0][0]
