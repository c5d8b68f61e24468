"""Feature drift: the newest feature week against the champion's training reference.

The per-feature statistics (PSI, KS / chi-square test, Benjamini–Hochberg) and the rules that call a feature
drifted are in `drift_statistics`; this module chooses what is compared and assembles the report. The
*baseline PSI* of a feature is the largest PSI the same comparison gave when replayed on up to
`BASELINE_REPLAYS` earlier weeks the champion was trained on (same gap between the reference weeks and the
compared week, everything shifted back in time). Weekly features are not i.i.d. rows: product-level
aggregates take one value per product and week, tenure grows every week, so such features move from week to
week by nature. The baseline measures that ordinary movement; only a larger one counts.

Reference = the `pair_features` rows of the last `REFERENCE_WEEKS` weeks the champion was trained on (up to
its `train_last_week`), current = the rows of the newest feature week. Each side is a uniform random sample
of about `SAMPLE_ROWS` rows: the rows whose hash of (customer, product, week) falls below `SAMPLE_ROWS` /
the rows of those weeks. The filter runs in the scan, before the view's joins, and the same rows are drawn
every time; so the statistics' cost is bounded whatever the data size.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from ovni_assets.monitoring.drift_statistics import (
    DEFAULT_DRIFT_RULES,
    DRIFT_COLUMNS,
    DriftRules,
    feature_drift,
    population_stability,
    quoted_identifier,
)
from ovni_assets.warehouse import column_schema, table_exists

SAMPLE_ROWS = 100_000
REFERENCE_WEEKS = 4
BASELINE_REPLAYS = 8

DRIFT_REPORTS_DDL = """
CREATE TABLE IF NOT EXISTS drift_reports (
    report_id VARCHAR, week_start DATE, reference_model_version VARCHAR, feature VARCHAR, kind VARCHAR,
    psi DOUBLE, baseline_psi DOUBLE, statistic DOUBLE, p_value DOUBLE, p_adjusted DOUBLE, drifted BOOLEAN,
    created_at TIMESTAMP
)
"""
NOT_FEATURES = {"customer_id", "product_id", "week_start", "target_week_start", "label"}
CATEGORICAL_TYPES = ("VARCHAR", "BOOLEAN", "ENUM")


@dataclass
class DriftReport:
    """A drift report of one feature week; `features` is empty when there was nothing to compare."""

    note: str
    report_id: str | None = None
    week_start: date | None = None
    reference_model_version: str | None = None
    reference_weeks: list[date] = field(default_factory=list)
    reference_rows: int = 0
    current_rows: int = 0
    baseline_replays: int = 0
    features: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DRIFT_COLUMNS))

    @property
    def drifted_features(self) -> int:
        return int(self.features["drifted"].sum()) if len(self.features) else 0

    @property
    def max_psi(self) -> float:
        return float(self.features["psi"].max()) if len(self.features) else 0.0

    def markdown(self) -> str:
        if not len(self.features):
            return f"_{self.note}_"
        table = self.features.assign(
            psi=self.features["psi"].round(3),
            baseline_psi=self.features["baseline_psi"].round(3),
            statistic=self.features["statistic"].round(3),
            p_value=self.features["p_value"].map(lambda p: f"{p:.2g}"),
            p_adjusted=self.features["p_adjusted"].map(lambda p: f"{p:.2g}"),
            drifted=self.features["drifted"].map({True: "**yes**", False: ""}),
        )
        return f"{self.note}\n\n" + table.to_markdown(index=False)


def feature_columns(
    con: duckdb.DuckDBPyConnection, table: str = "pair_features"
) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns of `table`: every column but the keys and the label, text and
    boolean columns categorical."""
    numeric, categorical = [], []
    for name, sql_type in column_schema(con, table):
        if name not in NOT_FEATURES:
            (categorical if sql_type.upper().startswith(CATEGORICAL_TYPES) else numeric).append(name)
    return numeric, categorical


def champion_reference(con: duckdb.DuckDBPyConnection) -> tuple[str, date] | None:
    """(model_version, train_last_week) of the champion per `model_versions`, or None without one."""
    if not table_exists(con, "model_versions"):
        return None
    row = con.execute(
        "SELECT model_version, train_last_week FROM model_versions WHERE is_champion "
        "ORDER BY trained_at DESC LIMIT 1"
    ).fetchone()
    if row is None or row[1] is None:
        return None
    return str(row[0]), pd.Timestamp(row[1]).date()


def _week_rows(con: duckdb.DuckDBPyConnection, first: date, last: date) -> dict[date, int]:
    """Rows of `pair_features` per feature week in first..last."""
    rows = con.execute(
        "SELECT week_start, count(*) FROM pair_features WHERE week_start BETWEEN ? AND ? GROUP BY 1",
        [first, last],
    ).fetchall()
    return {pd.Timestamp(week).date(): count for week, count in rows}


def _sample_weeks(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: list[str],
    first: date,
    last: date,
    week_rows: dict[date, int],
) -> int:
    """Temp table `name`: a uniform sample of about `SAMPLE_ROWS` of the `pair_features` rows of weeks
    first..last (`week_rows` gives their row counts); its row count."""
    total = sum(count for week, count in week_rows.items() if first <= week <= last)
    select = ", ".join(quoted_identifier(c) for c in columns)
    sampled = ""
    if total > SAMPLE_ROWS:
        sampled = f"AND hash(customer_id, product_id, week_start) < {SAMPLE_ROWS / total!r} * {2.0**64!r}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT week_start, {select} FROM pair_features "
        f"WHERE week_start BETWEEN DATE '{first}' AND DATE '{last}' {sampled}"
    )
    return con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]


def _reference_first_week(last: date) -> date:
    return last - timedelta(days=7 * (REFERENCE_WEEKS - 1))


def ordinary_psi(
    con: duckdb.DuckDBPyConnection,
    newest: date,
    train_last_week: date,
    numeric: list[str],
    categorical: list[str],
) -> tuple[dict[str, float], int]:
    """The baseline PSI per feature (largest over the replays) and the number of replays it rests on.

    Replay b compares week `newest - b` with the reference weeks shifted back by b weeks, for the
    `BASELINE_REPLAYS` smallest b that put the compared week inside the champion's training weeks.
    """
    gap = max((newest - train_last_week).days // 7, 1)
    last_back = gap + BASELINE_REPLAYS - 1
    week_rows = _week_rows(
        con,
        _reference_first_week(train_last_week - timedelta(days=7 * last_back)),
        newest - timedelta(days=7 * gap),
    )
    columns = numeric + categorical
    replays = []
    for back in range(gap, last_back + 1):
        shift = timedelta(days=7 * back)
        compared = newest - shift
        current_rows = _sample_weeks(con, "drift_replay_current", columns, compared, compared, week_rows)
        reference_last = train_last_week - shift
        reference_rows = _sample_weeks(
            con,
            "drift_replay_reference",
            columns,
            _reference_first_week(reference_last),
            reference_last,
            week_rows,
        )
        if current_rows == 0 or reference_rows == 0:
            break
        replays.append(
            population_stability(con, "drift_replay_reference", "drift_replay_current", numeric, categorical)
        )
    baseline = pd.DataFrame(replays).max().to_dict() if replays else {}
    return baseline, len(replays)


def build_drift_report(
    con: duckdb.DuckDBPyConnection,
    rules: DriftRules = DEFAULT_DRIFT_RULES,
    created_at: datetime | None = None,
) -> DriftReport:
    """Compare the newest week of `pair_features` with the champion's training reference and append the
    per-feature rows to `drift_reports` (created if missing, so the table always exists). Every column of
    `pair_features` but the keys and the label is a feature (see `feature_columns`)."""
    con.execute(DRIFT_REPORTS_DDL)
    # the rules a report applied travel with its rows (a table from before they did gets the columns)
    for rule in fields(DriftRules):
        con.execute(f"ALTER TABLE drift_reports ADD COLUMN IF NOT EXISTS {rule.name} DOUBLE")
    if not table_exists(con, "pair_features"):
        return DriftReport(note="No feature table yet: nothing to compare.")
    champion = champion_reference(con)
    if champion is None:
        return DriftReport(note="No champion yet: there is no training reference to compare with.")
    version, train_last_week = champion
    numeric, categorical = feature_columns(con)
    newest = pd.Timestamp(con.execute("SELECT max(week_start) FROM pair_features").fetchone()[0]).date()
    columns = numeric + categorical
    week_rows = _week_rows(con, _reference_first_week(train_last_week), newest)
    reference_rows = _sample_weeks(
        con, "drift_reference", columns, _reference_first_week(train_last_week), train_last_week, week_rows
    )
    current_rows = _sample_weeks(con, "drift_current", columns, newest, newest, week_rows)
    reference_weeks = [
        pd.Timestamp(w).date()
        for (w,) in con.execute("SELECT DISTINCT week_start FROM drift_reference ORDER BY 1").fetchall()
    ]
    report = DriftReport(
        note="",
        week_start=newest,
        reference_model_version=version,
        reference_weeks=reference_weeks,
        reference_rows=reference_rows,
        current_rows=current_rows,
    )
    if reference_rows == 0 or current_rows == 0:
        report.note = (
            f"Week {newest} vs champion v{version}: no rows to compare "
            f"(reference {reference_rows:,}, current {current_rows:,})."
        )
        return _drop_temp(con, report)
    baseline, report.baseline_replays = ordinary_psi(con, newest, train_last_week, numeric, categorical)
    report.features = feature_drift(
        con, "drift_reference", "drift_current", numeric, categorical, rules=rules, baseline=baseline
    )
    created_at = created_at or datetime.now(UTC).replace(tzinfo=None)
    report.report_id = f"drift-{newest}-v{version}-{uuid.uuid4().hex[:8]}"
    report.note = (
        f"Week {newest} ({current_rows:,} rows sampled) vs champion v{version} training weeks "
        f"{reference_weeks[0]}..{reference_weeks[-1]} ({reference_rows:,} rows sampled): "
        f"{report.drifted_features} of {len(report.features)} features drifted ({rules.describe()} of "
        f"{report.baseline_replays} replayed earlier weeks)."
    )
    rows = report.features.assign(
        report_id=report.report_id,
        week_start=newest,
        reference_model_version=version,
        created_at=created_at,
        statistic=report.features["statistic"].astype(float).replace({np.nan: None}),
        baseline_psi=report.features["baseline_psi"].astype(float).replace({np.nan: None}),
        **asdict(rules),
    )
    con.register("drift_rows", rows)
    con.execute("INSERT INTO drift_reports BY NAME SELECT * FROM drift_rows")
    con.unregister("drift_rows")
    return _drop_temp(con, report)


def _drop_temp(con: duckdb.DuckDBPyConnection, report: DriftReport) -> DriftReport:
    for name in ("drift_reference", "drift_current", "drift_replay_reference", "drift_replay_current"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return report
