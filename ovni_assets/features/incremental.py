"""Incremental builds of the feature tables: replace only the weeks whose inputs changed.

Each built table (`weekly_purchases`, `pair_feature_rows`) records what it was built from: its definition
hash (SQL, parameters, feature list) and the fingerprints of `customers` and `products` in
`feature_build_state`, and per ISO week the fingerprint of that week's `transactions` in
`feature_build_weeks`. The next build compares them with the inputs of now: a full build when the table or
its state is missing or the definition or master data changed; otherwise the weeks from the oldest changed
week (less the table's label lag) on, or nothing when no week changed. Every path runs the table's one
SELECT of the weeks >= `since`, so an incremental build gives the table a full build gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from ovni_assets.warehouse import table_exists

STATE_TABLE = "feature_build_state"  # per built table: definition and master-data fingerprints
STATE_WEEKS_TABLE = "feature_build_weeks"  # per built table and week: fingerprint of that week's transactions
EMPTY_FIRST_WEEK = date(2000, 1, 3)  # the first week of a build from no transactions (a Monday)

# The rows of a table for the weeks >= since.
WeeksSelect = Callable[..., str]


@dataclass(frozen=True)
class BuildStats:
    rows: int
    weeks: int
    newest_week: str | None
    mode: str  # "full", "partial" (weeks >= recomputed_from replaced) or "unchanged"
    recomputed_from: str | None  # first week recomputed (None: nothing recomputed)
    weeks_recomputed: int
    reason: str


@dataclass(frozen=True)
class BuildPlan:
    """What a build must recompute: every week (`since` None and `full`), weeks >= `since`, or nothing."""

    full: bool
    since: date | None
    reason: str


def text_hash(*parts: str) -> str:
    """A short hash of the texts that define a table: a new one forces a full build."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _master_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Row count and order-free hash of every row of `customers` or `products` (any attribute change)."""
    if not table_exists(con, table):
        return "missing"
    count, digest = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {table} t").fetchall()[0]
    return f"{count}:{digest}"


def _transaction_week_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[date, str]:
    """Per ISO week: row count and order-free hash of that week's rows of `transactions`."""
    rows = con.execute(
        "SELECT week_start, count(*), bit_xor(hash(t)) FROM transactions t GROUP BY week_start"
    ).fetchall()
    return {week: f"{count}:{digest}" for week, count, digest in rows}


def _ensure_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (table_name VARCHAR PRIMARY KEY, definition_hash VARCHAR, "
        "customers_fingerprint VARCHAR, products_fingerprint VARCHAR, mode VARCHAR, built_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_WEEKS_TABLE} (table_name VARCHAR, week_start DATE, "
        "fingerprint VARCHAR)"
    )


@dataclass(frozen=True)
class InputState:
    """Fingerprints of everything a feature table is built from."""

    definition: str
    customers: str | None  # None: the table does not read customers / products
    products: str | None
    weeks: dict[date, str]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, definition: str, master_data: bool = True) -> InputState:
        return cls(
            definition=definition,
            customers=_master_fingerprint(con, "customers") if master_data else None,
            products=_master_fingerprint(con, "products") if master_data else None,
            weeks=_transaction_week_fingerprints(con),
        )

    def plan_against(self, con: duckdb.DuckDBPyConnection, table: str, label_lag_weeks: int) -> BuildPlan:
        """Full build, or the weeks from (oldest changed week - `label_lag_weeks`) on, or nothing."""
        if not table_exists(con, table) or not table_exists(con, STATE_TABLE):
            return BuildPlan(True, None, f"{table} or its build state does not exist")
        recorded = con.execute(
            f"SELECT definition_hash, customers_fingerprint, products_fingerprint FROM {STATE_TABLE} "
            "WHERE table_name = ?",
            [table],
        ).fetchall()
        if not recorded:
            return BuildPlan(True, None, f"no build state recorded for {table}")
        recorded = recorded[0]
        if recorded[0] != self.definition:
            return BuildPlan(True, None, "the feature definition changed")
        if self.customers is not None and recorded[1] != self.customers:
            return BuildPlan(True, None, "customers changed")
        if self.products is not None and recorded[2] != self.products:
            return BuildPlan(True, None, "products changed")
        old_weeks = dict(
            con.execute(
                f"SELECT week_start, fingerprint FROM {STATE_WEEKS_TABLE} WHERE table_name = ?", [table]
            ).fetchall()
        )
        changed = [w for w in self.weeks.keys() | old_weeks.keys() if self.weeks.get(w) != old_weeks.get(w)]
        if not changed:
            return BuildPlan(False, None, "no transaction week changed")
        oldest = min(changed)
        return BuildPlan(
            False,
            oldest - timedelta(weeks=label_lag_weeks),
            f"{len(changed)} transaction week(s) changed, the oldest {oldest}",
        )

    def record(self, con: duckdb.DuckDBPyConnection, table: str, mode: str) -> None:
        """Store these fingerprints as the inputs `table` was built from (inside the build's transaction)."""
        _ensure_state_tables(con)
        con.execute(f"DELETE FROM {STATE_TABLE} WHERE table_name = ?", [table])
        con.execute(
            f"INSERT INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [table, self.definition, self.customers, self.products, mode],
        )
        con.execute(f"DELETE FROM {STATE_WEEKS_TABLE} WHERE table_name = ?", [table])
        if self.weeks:
            con.executemany(
                f"INSERT INTO {STATE_WEEKS_TABLE} VALUES (?, ?, ?)",
                [(table, week, fingerprint) for week, fingerprint in sorted(self.weeks.items())],
            )


def build_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    definition: str,
    select_of: WeeksSelect,
    first_week: date | None,
    *,
    incremental: bool,
    label_lag_weeks: int,
    master_data: bool = True,
    also: Sequence[str] = (),
) -> BuildStats:
    """Build `table` from `select_of(since=...)`: in full, or (`incremental`) only the weeks that the changes
    since the last build can change, in one transaction with the statements `also`.

    `definition`: the table's definition hash; `master_data`: whether the table reads customers and products.
    `label_lag_weeks`: how many weeks before a changed week its change reaches (a label looks a week ahead).
    A change at or before `first_week` (the table's first week) means a full build.
    """
    state = InputState.read(con, definition, master_data)
    plan = _plan(con, table, state, incremental, label_lag_weeks, first_week)
    return _replace_weeks(con, table, plan, state, select_of, first_week or EMPTY_FIRST_WEEK, also)


def _plan(
    con: duckdb.DuckDBPyConnection,
    table: str,
    state: InputState,
    incremental: bool,
    label_lag_weeks: int,
    first_week: date | None,
) -> BuildPlan:
    if not incremental:
        return BuildPlan(True, None, "full build requested")
    plan = state.plan_against(con, table, label_lag_weeks)
    if not plan.full and plan.since is not None and first_week is not None and plan.since <= first_week:
        return BuildPlan(True, None, plan.reason + " (at or before the first week)")
    return plan


def _apply(
    con: duckdb.DuckDBPyConnection, table: str, plan: BuildPlan, select_of: WeeksSelect, first: date
) -> tuple[str, date | None]:
    """Run `plan` on `table`; returns the build mode and the first week recomputed."""
    if plan.full:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {select_of(since=first)}")
        return "full", first
    if plan.since is not None:
        con.execute(f"DELETE FROM {table} WHERE week_start >= ?", [plan.since])
        con.execute(f"INSERT INTO {table} {select_of(since=plan.since)}")
        return "partial", plan.since
    return "unchanged", None


def _replace_weeks(
    con: duckdb.DuckDBPyConnection,
    table: str,
    plan: BuildPlan,
    state: InputState,
    select_of: WeeksSelect,
    first: date,
    also: Sequence[str],
) -> BuildStats:
    """Apply `plan` and the statements `also` and record `state`, all in one transaction."""
    # Row order of the tables is not part of their contract (readers ORDER BY): let DuckDB write in parallel.
    preserve_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = false")
    con.execute("BEGIN TRANSACTION")
    try:
        mode, recomputed_from = _apply(con, table, plan, select_of, first)
        for statement in also:
            con.execute(statement)
        state.record(con, table, mode)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"SET preserve_insertion_order = {bool(preserve_order)}")
    return _stats(con, table, plan, mode, recomputed_from)


def _stats(
    con: duckdb.DuckDBPyConnection, table: str, plan: BuildPlan, mode: str, recomputed_from: date | None
) -> BuildStats:
    rows, weeks, newest = con.execute(
        f"SELECT count(*), count(DISTINCT week_start), max(week_start) FROM {table}"
    ).fetchall()[0]
    return BuildStats(
        rows=rows,
        weeks=weeks,
        newest_week=str(newest) if newest is not None else None,
        mode=mode,
        recomputed_from=str(recomputed_from) if recomputed_from is not None else None,
        weeks_recomputed=(newest - recomputed_from).days // 7 + 1 if recomputed_from and newest else 0,
        reason=plan.reason,
    )
