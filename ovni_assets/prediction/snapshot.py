"""The serving snapshot `serving.duckdb`: what the API and `ovni sql` read, published atomically.

Built from the warehouse into a temp file next to the target, then `os.replace`d over it, so a reader sees
the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ovni_assets.features.model_inputs import FEATURE_COLUMNS
from ovni_assets.features.target_week import read_target_week
from ovni_assets.model.lineage import TRAINING_SNAPSHOT_FILES_DDL
from ovni_assets.prediction.batch import LATEST_PREDICTIONS_VIEW
from ovni_assets.warehouse import table_exists

COPIED_TABLES = ["predictions", "customers", "products", "model_versions", "prediction_batches"]
OPTIONAL_TABLES = ["drift_reports", "prediction_quality"]

# batch → model version → MLflow run → training snapshot → raw files (one row per batch and raw file)
LINEAGE_SQL = """
SELECT b.batch_id, b.week_start, b.feature_week, b.model_version, b.run_id, b.created_at AS batch_created_at,
    m.training_snapshot_id, m.train_last_week, f.file_name, f.kind AS file_kind, f.file_hash,
    f.ingest_batch_id
FROM wh.prediction_batches b
LEFT JOIN wh.model_versions m USING (model_version)
LEFT JOIN wh.training_snapshot_files f ON f.training_snapshot_id = m.training_snapshot_id
    AND f.model_version = b.model_version
ORDER BY b.created_at, f.file_name
"""


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    tables: dict[str, int]
    target_week: str | None
    batch_id: str | None
    model_version: str | None
    data_through: str | None = None  # newest day with data
    in_progress: bool = False  # the target week is the newest landed week, known up to data_through


def publish_snapshot(warehouse: duckdb.DuckDBPyConnection, serving_path: Path) -> SnapshotInfo:
    """Write the snapshot from the open warehouse connection and publish it atomically.

    Runs publish one at a time (the run lock), so any temp file found here is a killed run's leftover.
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in serving_path.parent.glob(f".{serving_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    temp_path = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    created_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        counts, info = _write_snapshot(warehouse, temp_path, created_at)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    os.replace(temp_path, serving_path)
    target_week, batch_id, model_version, data_through, in_progress = (
        info[0] if info else (None, None, None, None, False)
    )
    return SnapshotInfo(
        path=serving_path,
        tables=counts,
        target_week=target_week,
        batch_id=batch_id,
        model_version=model_version,
        data_through=data_through,
        in_progress=bool(in_progress),
    )


def _published_rows(serving_path: Path, sql: str) -> list[tuple] | None:
    """Rows of a query on the serving snapshot, or None when there is no readable snapshot."""
    if not serving_path.exists():
        return None
    try:
        with duckdb.connect(str(serving_path), read_only=True) as con:
            return con.execute(sql).fetchall()
    except duckdb.Error:
        return None


def published_batch_id(serving_path: Path) -> str | None:
    """The batch id in the serving snapshot's `snapshot_info`, or None when there is no readable one."""
    rows = _published_rows(serving_path, "SELECT batch_id FROM snapshot_info LIMIT 1")
    return rows[0][0] if rows else None


def published_target_week(serving_path: Path) -> date | None:
    """The target week in the serving snapshot's `snapshot_info`, or None when there is no readable one."""
    rows = _published_rows(serving_path, "SELECT target_week FROM snapshot_info LIMIT 1")
    return rows[0][0] if rows and rows[0][0] is not None else None


def published_model_versions(serving_path: Path) -> set[str] | None:
    """The model versions the serving snapshot's `model_versions` lists, or None when there is no readable
    snapshot."""
    rows = _published_rows(serving_path, "SELECT model_version FROM model_versions")
    return None if rows is None else {str(row[0]) for row in rows}


def _write_snapshot(warehouse: duckdb.DuckDBPyConnection, temp_path: Path, created_at: datetime):
    warehouse_name = warehouse.execute("SELECT current_database()").fetchall()[0][0]
    target = read_target_week(warehouse)
    if target is None:
        raise ValueError("weekly_purchases is empty: no target week to publish")
    warehouse.execute(f"ATTACH '{temp_path}' AS snap")
    try:
        tables = [t for t in COPIED_TABLES + OPTIONAL_TABLES if table_exists(warehouse, t)]
        for table in tables:
            warehouse.execute(
                f'CREATE TABLE snap."{table}" AS SELECT * FROM "{warehouse_name}".main."{table}"'
            )
        warehouse.execute(
            f"""CREATE TABLE snap.next_week_features AS
                SELECT customer_id, product_id, target_week_start AS week_start, {", ".join(FEATURE_COLUMNS)}
                FROM pair_features
                WHERE week_start = ?
                ORDER BY customer_id, product_id""",
            [target.feature_week],
        )
        warehouse.execute(
            """CREATE TABLE snap.target_week_purchases AS
               SELECT customer_id, product_id FROM weekly_purchases
               WHERE week_start = ? AND ? ORDER BY customer_id, product_id""",
            [target.target_week, target.in_progress],
        )
        # A champion promoted by hand, or by a training of an older release killed after promoting, may
        # have no lineage rows: its batches are listed with empty file columns.
        warehouse.execute(TRAINING_SNAPSHOT_FILES_DDL)
        warehouse.execute(
            "CREATE TABLE snap.lineage AS " + LINEAGE_SQL.replace("wh.", f'"{warehouse_name}".main.')
        )
        warehouse.execute(
            """CREATE TABLE snap.snapshot_info AS
               SELECT ?::TIMESTAMP AS created_at, week_start AS target_week, batch_id, model_version,
                   feature_week, ?::DATE AS data_through, ?::BOOLEAN AS in_progress,
                   ?::DOUBLE AS known_volume, ?::DOUBLE AS remaining_volume
               FROM (SELECT * FROM prediction_batches ORDER BY created_at DESC LIMIT 1)""",
            [
                created_at,
                target.data_through,
                target.in_progress,
                target.known_volume,
                target.remaining_volume,
            ],
        )
    finally:
        warehouse.execute("DETACH snap")
    snap = duckdb.connect(str(temp_path))
    try:
        snap.execute(LATEST_PREDICTIONS_VIEW)
        counts = {
            t: snap.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
            for t in [
                *tables,
                "next_week_features",
                "target_week_purchases",
                "lineage",
                "snapshot_info",
                "latest_predictions",
            ]
        }
        info = snap.execute(
            "SELECT target_week::VARCHAR, batch_id, model_version, data_through::VARCHAR, in_progress "
            "FROM snapshot_info"
        ).fetchall()
        snap.execute("CHECKPOINT")
    finally:
        snap.close()
    return counts, info
