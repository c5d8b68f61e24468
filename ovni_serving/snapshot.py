"""The published serving snapshot (`serving.duckdb`), copied into memory.

The file is opened read-only, every table the API answers from is copied out, and the connection is closed
at once: the API never holds a DuckDB lock, and a pipeline run that publishes a new snapshot (temp file +
`os.replace`) is never blocked by it. A change of the file (inode, mtime or size) means a new snapshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ovni_assets.features.model_inputs import KEY_COLUMNS

REQUIRED_TABLES = ("snapshot_info", "next_week_features", "customers", "products", "latest_predictions")
OPTIONAL_TABLES = ("model_versions", "drift_reports", "prediction_quality")


class SnapshotError(RuntimeError):
    """The snapshot file is missing or does not follow the contract in docs/architecture.md."""


@dataclass(frozen=True)
class FileIdentity:
    """What tells one published file from the next (os.replace gives a new inode)."""

    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return cls(stat.st_ino, stat.st_mtime_ns, stat.st_size)


def json_safe(value: Any) -> Any:
    """A DuckDB/pandas/numpy value as plain JSON: dates as ISO text, NaN and NaT as None."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a small frame as JSON-safe dicts."""
    columns = list(frame.columns)
    return [
        {column: json_safe(value) for column, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


@dataclass(frozen=True)
class Snapshot:
    """Everything the API reads from one published `serving.duckdb`, in memory, never mutated."""

    path: Path
    identity: FileIdentity
    created_at: str | None
    target_week: date
    batch_id: str | None
    batch_model_version: str | None
    features: pd.DataFrame  # next_week_features: keys then feature columns, row order = pair_row values
    pair_row: dict[tuple[int, int], int]
    customers: dict[int, dict[str, Any]]
    products: dict[int, dict[str, Any]]
    latest_predictions: pd.DataFrame  # sorted by week_start desc, customer_id, rank
    model_versions: list[dict[str, Any]] = field(default_factory=list)
    drift_reports: list[dict[str, Any]] = field(default_factory=list)
    prediction_quality: list[dict[str, Any]] = field(default_factory=list)
    data_through: date | None = None  # newest day with data (None: a snapshot that does not say)
    in_progress: bool = False  # the target week is known up to data_through
    known_volume: float = 0.0  # share of a normal week's purchases in the target week's known days
    remaining_volume: float = 1.0  # ... in its days still to come
    bought_so_far: frozenset[tuple[int, int]] = frozenset()  # pairs bought in the known days


def _table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {name for (name,) in rows}


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).fetchdf()


def load_snapshot(path: Path) -> Snapshot:
    """Copy the snapshot at `path` into memory (read-only connection, closed before returning)."""
    identity = FileIdentity.of(path)
    if identity is None:
        raise SnapshotError(f"no serving snapshot at {path} yet (run `ovni run` to publish one)")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise SnapshotError(f"cannot open {path}: {error}") from error
    try:
        tables = _table_names(con)
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise SnapshotError(f"{path.name} lacks {', '.join(missing)}")
        info = _frame(con, "SELECT * FROM snapshot_info LIMIT 1")
        features = _frame(con, "SELECT * FROM next_week_features ORDER BY customer_id, product_id")
        customers = _frame(con, "SELECT * FROM customers ORDER BY customer_id")
        products = _frame(con, "SELECT * FROM products ORDER BY product_id")
        latest = _frame(
            con,
            "SELECT week_start, customer_id, product_id, probability, will_buy, rank, model_version, "
            "batch_id, created_at FROM latest_predictions "
            "ORDER BY week_start DESC, customer_id, rank, product_id",
        )
        optional = {
            name: _frame(con, f'SELECT * FROM "{name}"') if name in tables else pd.DataFrame()
            for name in OPTIONAL_TABLES
        }
        bought = (
            con.execute("SELECT customer_id, product_id FROM target_week_purchases").fetchall()
            if "target_week_purchases" in tables
            else []
        )
    except duckdb.Error as error:
        raise SnapshotError(f"cannot read {path}: {error}") from error
    finally:
        con.close()
    if info.empty:
        raise SnapshotError(f"{path.name}: snapshot_info is empty")
    missing_keys = [c for c in KEY_COLUMNS if c not in features.columns]
    if missing_keys:
        raise SnapshotError(f"{path.name}: next_week_features lacks {', '.join(missing_keys)}")
    row = info.iloc[0]
    target_week = pd.Timestamp(row["target_week"]).date()
    keys = zip(features["customer_id"].to_numpy(), features["product_id"].to_numpy(), strict=True)
    pair_row = {(int(c), int(p)): i for i, (c, p) in enumerate(keys)}
    latest["week_start"] = pd.to_datetime(latest["week_start"]).dt.date
    return Snapshot(
        path=path,
        identity=identity,
        created_at=json_safe(row.get("created_at")),
        target_week=target_week,
        batch_id=json_safe(row.get("batch_id")),
        batch_model_version=None if pd.isna(row.get("model_version")) else str(row.get("model_version")),
        features=features.reset_index(drop=True),
        pair_row=pair_row,
        customers={int(r["customer_id"]): r for r in records(customers)},
        products={int(r["product_id"]): r for r in records(products)},
        latest_predictions=latest,
        model_versions=records(optional["model_versions"]),
        drift_reports=records(optional["drift_reports"]),
        prediction_quality=records(optional["prediction_quality"]),
        data_through=None if pd.isna(row.get("data_through")) else pd.Timestamp(row["data_through"]).date(),
        in_progress=bool(row.get("in_progress", False)),
        known_volume=_number(row.get("known_volume"), 0.0),
        remaining_volume=_number(row.get("remaining_volume"), 1.0),
        bought_so_far=frozenset((int(c), int(p)) for c, p in bought),
    )


def _number(value: Any, default: float) -> float:
    return default if value is None or pd.isna(value) else float(value)
