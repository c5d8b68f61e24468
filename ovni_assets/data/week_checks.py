"""Checks of a landed file against the data's own recent weeks: wrong exports that parse and look plausible.

A transactions file is judged week by week. Each ISO week (Monday) the file touches is measured together with
what the warehouse already holds of it, and compared with the newest `reference_weeks` complete weeks before
it that the warehouse holds (robust statistics: medians over those weeks). A week is judged only with at
least `min_history_weeks` such weeks, and only once its dates reach the week's last working day: the partial
week at the end of an export is judged when a later file completes it. Before the weeks, the file's lines are
matched with the warehouse's: lines it already holds under other order ids mark a re-exported week.

A customers or products file that is a whole export of the master data is judged against the ids the
warehouse knows: renumbering every id makes known ids vanish or carry other attributes.

Every check has a threshold in `WeekCheckThresholds` (settings `OVNI_*`, 0 turns the check off). A check that
fails returns one line naming the check, the measured value, the expected range and a few example rows.
See docs/ingestion.md, "Checks against the data's own weeks".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

import duckdb

from ovni_assets.data.schema import SourceTable
from ovni_assets.features.target_week import last_working_day

LINE_COLUMNS = "customer_id, product_id, order_id, purchase_date, items"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EXAMPLE_ROWS = 3


@dataclass(frozen=True)
class WeekCheckThresholds:
    """How far a landed file may stray from the data's own weeks; a threshold of 0 turns its check off."""

    min_history_weeks: int = 8  # fewer complete earlier weeks are no reliable normal to compare with
    reference_weeks: int = 12  # a quarter: follows growth and seasons, outvotes a holiday week or two
    reexported_lines_max_share: float = 0.1  # a correction keeps its order ids; a re-export brings them all
    week_volume_max_factor: float = 6.0  # quiet weeks fall well below the median; a collapse falls far lower
    top_customer_share_max_factor: float = 8.0  # a big order moves the top share; one customer's week is all
    units_per_line_max_factor: float = 3.0  # the median line moves by a third of a unit, not by 1000x
    units_per_line_max_share_change: float = 0.3  # returns and fractions move a few points, not tens of them
    weekday_spread_max_shift_ratio: float = 1.0  # a holiday moves one day's lines, a shift moves every day's
    changed_ids_max_share: float = 0.5  # an export drops or edits a few ids; a renumbering changes nearly all


DEFAULT_THRESHOLDS = WeekCheckThresholds()


@dataclass
class WeekChecksResult:
    """What the checks measured (`{week or kind: {metric: value}}`) and the first failure, if any."""

    measured: dict[str, dict[str, float]] = field(default_factory=dict)
    problem: str | None = None

    @property
    def check(self) -> str | None:
        """The failing check's name: every problem starts with it (`week_volume: ...`)."""
        return self.problem.split(":", 1)[0] if self.problem else None


@dataclass(frozen=True)
class _Metric:
    check: str
    name: str
    setting: str  # the OvniSettings field of its threshold
    kind: str  # "factor": within [median / t, median * t]; "difference": within median ± t
    upper_only: bool = False


WEEK_METRICS = (
    _Metric("units_per_line", "median_units_per_line", "units_per_line_max_factor", "factor"),
    _Metric("units_per_line", "negative_share", "units_per_line_max_share_change", "difference"),
    _Metric("units_per_line", "non_integer_share", "units_per_line_max_share_change", "difference"),
    _Metric("top_customer_share", "top_customer_line_share", "top_customer_share_max_factor", "factor", True),
    _Metric("top_customer_share", "top_customer_unit_share", "top_customer_share_max_factor", "factor", True),
    _Metric("week_volume", "customers", "week_volume_max_factor", "factor"),
    _Metric("week_volume", "pairs", "week_volume_max_factor", "factor"),
    _Metric("week_volume", "lines", "week_volume_max_factor", "factor"),
    _Metric("week_volume", "units", "week_volume_max_factor", "factor"),
)

CHECK_ORDER = ("units_per_line", "top_customer_share", "weekday_spread", "week_volume")

WEEK_METRICS_SQL = """
WITH lines AS (
    SELECT *, date_trunc('week', purchase_date)::DATE AS week_start FROM {relation}
    WHERE purchase_date >= TIMESTAMP '{since}'
), by_customer AS (
    SELECT week_start, customer_id, count(*) AS lines, sum(abs(items)) AS units FROM lines GROUP BY ALL
), top_customer AS (
    SELECT week_start, max(lines) / sum(lines) AS top_customer_line_share,
        max(units) / nullif(sum(units), 0) AS top_customer_unit_share
    FROM by_customer GROUP BY ALL
), by_weekday AS (
    SELECT week_start, list(lines ORDER BY weekday) AS weekday_lines FROM (
        SELECT w.week_start, d.weekday, count(l.week_start) AS lines
        FROM (SELECT DISTINCT week_start FROM lines) w CROSS JOIN range(1, 8) d(weekday)
        LEFT JOIN lines l ON l.week_start = w.week_start AND isodow(l.purchase_date) = d.weekday
        GROUP BY ALL
    ) GROUP BY ALL
)
SELECT week_start, max(purchase_date)::DATE AS last_day, count(DISTINCT customer_id) AS customers,
    count(DISTINCT (customer_id, product_id)) AS pairs, count(*) AS lines, sum(items) AS units,
    median(items) AS median_units_per_line, avg((items < 0)::INT) AS negative_share,
    avg((items <> round(items))::INT) AS non_integer_share,
    any_value(t.top_customer_line_share) AS top_customer_line_share,
    any_value(t.top_customer_unit_share) AS top_customer_unit_share,
    any_value(d.weekday_lines) AS weekday_lines
FROM lines JOIN top_customer t USING (week_start) JOIN by_weekday d USING (week_start)
GROUP BY week_start ORDER BY week_start
"""


def _week_metrics(con: duckdb.DuckDBPyConnection, relation: str, since: date) -> dict[date, dict]:
    frame = con.execute(WEEK_METRICS_SQL.format(relation=relation, since=since)).df()
    return {row["week_start"].date(): row for row in frame.to_dict("records")}


def _is_complete(week: date, last_day: date) -> bool:
    return last_day >= last_working_day(week)


def _examples(con: duckdb.DuckDBPyConnection, relation: str, where: str, order: str = "purchase_date") -> str:
    rows = con.execute(
        f"SELECT {LINE_COLUMNS} FROM {relation} WHERE {where} ORDER BY {order} LIMIT {EXAMPLE_ROWS}"
    ).fetchall()
    return "; ".join(
        f"customer {c}, product {p}, order {o}, {d:%Y-%m-%d}, {items:g} units" for c, p, o, d, items in rows
    )


def _week_where(week: date) -> str:
    return f"date_trunc('week', purchase_date)::DATE = DATE '{week}'"


def _number(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"


def _times(ratio: float) -> str:
    return "infinitely many times" if ratio == float("inf") else f"{ratio:.2f} times"


def _expected_range(metric: _Metric, median: float, threshold: float) -> tuple[float, float]:
    """The values within `threshold` of `median`: a factor either way, or a difference of shares."""
    if metric.kind == "factor":
        return median / threshold, median * threshold
    return max(0.0, median - threshold), min(1.0, median + threshold)


def reexported_lines_problem(
    con: duckdb.DuckDBPyConnection,
    incoming: str,
    history: str,
    dates: tuple[date, date],
    max_share: float,
) -> tuple[float, str | None]:
    """Share of incoming lines whose content (customer, product, day, units) the warehouse already holds
    under another order id, and why that is a re-exported week (or None)."""
    matched = (
        f"(SELECT i.* FROM {incoming} i SEMI JOIN (SELECT * FROM {history} WHERE purchase_date::DATE "
        f"BETWEEN DATE '{dates[0]}' AND DATE '{dates[1]}') h ON h.customer_id = i.customer_id "
        "AND h.product_id = i.product_id AND h.purchase_date = i.purchase_date AND h.items = i.items "
        "AND h.order_id <> i.order_id)"
    )
    reexported, lines = con.execute(
        f"SELECT (SELECT count(*) FROM {matched}), count(*) FROM {incoming}"
    ).fetchone()
    share = reexported / lines if lines else 0.0
    if not max_share or share <= max_share:
        return share, None
    return share, (
        f"reexported_lines: {share:.1%} of the file's {lines:,} lines ({reexported:,}) are lines the "
        "warehouse already holds (same customer, product, day and units) under other order ids, at most "
        f"{max_share:.0%} expected (OVNI_REEXPORTED_LINES_MAX_SHARE); e.g. "
        f"{_examples(con, matched, 'true')}: a week exported again with renumbered orders; land only "
        "lines not yet ingested"
    )


def _weekday_shares(weekday_lines) -> list[float]:
    total = sum(weekday_lines)
    return [count / total for count in weekday_lines]


WEEKDAY_FIT_SQL = """
WITH visits AS (
    SELECT DISTINCT customer_id, purchase_date::DATE AS day,
        date_trunc('week', purchase_date)::DATE AS week_start
    FROM {relation}
    WHERE purchase_date >= TIMESTAMP '{first}' AND purchase_date < TIMESTAMP '{week}' + INTERVAL 7 DAY
), usual AS (
    SELECT customer_id, isodow(day) AS weekday, count(*) / {weeks} AS frequency FROM visits
    WHERE week_start IN ({reference}) GROUP BY ALL
), judged AS (
    SELECT customer_id, isodow(day) AS weekday FROM visits
    WHERE week_start = DATE '{week}' AND customer_id IN (SELECT customer_id FROM usual)
)
SELECT avg(coalesce(here.frequency, 0)), avg(coalesce(later.frequency, 0)),
    avg(coalesce(earlier.frequency, 0))
FROM judged j
LEFT JOIN usual here ON here.customer_id = j.customer_id AND here.weekday = j.weekday
LEFT JOIN usual later ON later.customer_id = j.customer_id AND later.weekday = (j.weekday + 5) % 7 + 1
LEFT JOIN usual earlier ON earlier.customer_id = j.customer_id AND earlier.weekday = j.weekday % 7 + 1
"""


def weekday_shift_ratio(
    con: duckdb.DuckDBPyConnection, relation: str, week: date, reference: list[date]
) -> float:
    """How much better the week's purchase days fit its customers' usual weekdays moved by one day (either
    way) than the usual weekdays themselves: above 1, the dates look shifted. Each customer's day of the
    week is scored by how often that customer bought on that weekday in the reference weeks, so a holiday
    (one day's customers move) or a small week (a spread of few lines is noisy) stays below 1 while a
    time-zone shift (every customer moves) goes above it."""
    here, later, earlier = con.execute(
        WEEKDAY_FIT_SQL.format(
            relation=relation,
            first=min(reference),
            week=week,
            weeks=len(reference),
            reference=", ".join(f"DATE '{w}'" for w in reference),
        )
    ).fetchone()
    if here is None:
        return 0.0
    moved = max(later, earlier)
    return moved / here if here else (float("inf") if moved else 0.0)


def _weekday_reference(reference: list[dict]) -> list[float]:
    medians = [statistics.median(_weekday_shares(r["weekday_lines"])[d] for r in reference) for d in range(7)]
    return [m / sum(medians) for m in medians]


def deviation(metric: _Metric, value: float, median: float) -> float:
    """How far `value` is from the reference median, in the unit of the metric's threshold: the factor
    between them (only upwards for an upper-only metric), or their difference."""
    if metric.kind == "difference":
        return abs(value - median)
    if value <= 0 or median <= 0:
        return 1.0 if value == median or (metric.upper_only and value <= median) else float("inf")
    return value / median if metric.upper_only else max(value / median, median / value)


def _judge_week(
    con: duckdb.DuckDBPyConnection,
    incoming: str,
    combined: str,
    week: date,
    measured: dict,
    reference: list[dict],
    thresholds: WeekCheckThresholds,
) -> tuple[dict[str, float], str | None]:
    """The week's deviation from its reference weeks per metric (`check.metric`), and the first check it
    fails (or None), in the order of `CHECK_ORDER`: the most specific cause first."""
    medians = {m.name: statistics.median(float(r[m.name]) for r in reference) for m in WEEK_METRICS}
    deviations = {
        f"{m.check}.{m.name}": deviation(m, float(measured[m.name]), medians[m.name]) for m in WEEK_METRICS
    }
    shares = _weekday_shares(measured["weekday_lines"])
    expected_shares = _weekday_reference(reference)
    shift_ratio = weekday_shift_ratio(con, combined, week, [r["week_start"].date() for r in reference])
    deviations["weekday_spread.shift_ratio"] = shift_ratio
    for check in CHECK_ORDER:
        if check == "weekday_spread":
            limit = thresholds.weekday_spread_max_shift_ratio
            if limit and shift_ratio > limit:
                return deviations, _weekday_problem(
                    con, incoming, week, shares, expected_shares, shift_ratio, limit
                )
            continue
        for metric in (m for m in WEEK_METRICS if m.check == check):
            threshold = getattr(thresholds, metric.setting)
            if not threshold or deviations[f"{check}.{metric.name}"] <= threshold:
                continue
            low, high = _expected_range(metric, medians[metric.name], threshold)
            shown_low = "at most " if metric.upper_only else f"{_number(low)} .. "
            examples = _examples(
                con, incoming, _example_where(incoming, week, metric), _example_order(metric)
            )
            return deviations, (
                f"{check}: week {week} has {metric.name.replace('_', ' ')} {_number(measured[metric.name])}, "
                f"expected {shown_low}{_number(high)} (median {_number(medians[metric.name])} over the "
                f"{len(reference)} complete weeks before it, OVNI_{metric.setting.upper()}={threshold:g}); "
                f"e.g. {examples}: check the export (units, filters, customers) and land it again"
            )
    return deviations, None


def _example_where(incoming: str, week: date, metric: _Metric) -> str:
    if metric.check != "top_customer_share":
        return _week_where(week)
    top = (
        f"SELECT customer_id FROM {incoming} WHERE {_week_where(week)} GROUP BY ALL "
        "ORDER BY count(*) DESC, sum(abs(items)) DESC LIMIT 1"
    )
    return f"{_week_where(week)} AND customer_id = ({top})"


def _example_order(metric: _Metric) -> str:
    if metric.name == "negative_share":
        return "items, purchase_date"
    if metric.name == "non_integer_share":
        return "items = round(items), purchase_date"
    return "purchase_date"


def _weekday_problem(
    con: duckdb.DuckDBPyConnection,
    incoming: str,
    week: date,
    shares: list[float],
    expected: list[float],
    shift_ratio: float,
    limit: float,
) -> str:
    def spread(values) -> str:
        return " ".join(f"{day} {share:.0%}" for day, share in zip(WEEKDAYS, values, strict=True))

    emptiest = min(range(7), key=lambda d: expected[d])
    moved_into = max(range(7), key=lambda d: shares[d] - expected[d])
    where = f"{_week_where(week)} AND isodow(purchase_date) = {moved_into + 1}"
    return (
        f"weekday_spread: week {week} spreads its lines {spread(shares)}, the complete weeks before it "
        f"{spread(expected)} (fewest on {WEEKDAYS[emptiest]}); its customers' purchase days fit their usual "
        f"weekdays moved by one day {_times(shift_ratio)} as well as the usual weekdays, at most {limit:g} "
        "expected "
        f"(OVNI_WEEKDAY_SPREAD_MAX_SHIFT_RATIO); e.g. {_examples(con, incoming, where)}: the dates look "
        "shifted by a day (a time zone?); fix the dates and land it again"
    )


def check_transactions(
    con: duckdb.DuckDBPyConnection, incoming: str, history: str, thresholds: WeekCheckThresholds
) -> WeekChecksResult:
    """Judge the transaction lines of `incoming` against the complete weeks of `history` (both relations
    with the source columns): re-exported lines first, then every complete week the file touches."""
    result = WeekChecksResult()
    bounds = con.execute(
        f"SELECT min(purchase_date)::DATE, max(purchase_date)::DATE FROM {incoming}"
    ).fetchone()
    if bounds[0] is None:
        return result
    first_week = con.execute(f"SELECT date_trunc('week', DATE '{bounds[0]}')::DATE").fetchone()[0]
    since = (
        con.execute(f"SELECT DATE '{first_week}' - INTERVAL {7 * (thresholds.reference_weeks + 1)} DAY")
        .fetchone()[0]
        .date()
    )
    known = _week_metrics(con, history, since)
    complete_known = [w for w, row in sorted(known.items()) if _is_complete(w, row["last_day"].date())]
    if len(complete_known) < thresholds.min_history_weeks:
        return result
    share, problem = reexported_lines_problem(
        con, incoming, history, bounds, thresholds.reexported_lines_max_share
    )
    result.measured["file"] = {"reexported_share": share}
    if problem:
        result.problem = problem
        return result
    combined = f"(SELECT {LINE_COLUMNS} FROM {history} UNION ALL SELECT {LINE_COLUMNS} FROM {incoming})"
    incoming_weeks = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT date_trunc('week', purchase_date)::DATE FROM {incoming}"
        ).fetchall()
    }
    for week, measured in _week_metrics(con, combined, first_week).items():
        if week not in incoming_weeks or not _is_complete(week, measured["last_day"].date()):
            continue
        before = [w for w in complete_known if w < week][-thresholds.reference_weeks :]
        if len(before) < thresholds.min_history_weeks:
            continue
        values, problem = _judge_week(
            con, incoming, combined, week, measured, [known[w] for w in before], thresholds
        )
        result.measured[str(week)] = values
        if problem:
            result.problem = problem
            return result
    return result


def check_master_data(
    con: duckdb.DuckDBPyConnection, table: SourceTable, incoming: str, thresholds: WeekCheckThresholds
) -> WeekChecksResult:
    """Judge a customers or products file that exports the whole master data (at least half as many ids as
    the warehouse knows; a smaller file updates a few ids) by `changed_ids`: the share of known ids that
    vanish from it or whose attributes that vary among the known rows all change. Judged once the warehouse
    holds `min_history_weeks` complete weeks of transactions, like a week."""
    result = WeekChecksResult()
    weeks = con.execute(
        "SELECT date_trunc('week', purchase_date)::DATE, max(purchase_date)::DATE FROM raw_transactions "
        "GROUP BY 1"
    ).fetchall()
    if sum(_is_complete(week, last_day) for week, last_day in weeks) < thresholds.min_history_weeks:
        return result
    key, attributes = table.column_names[0], table.column_names[1:]
    newest = f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {{order}}) = 1"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE known_master AS SELECT * FROM {table.raw_table} "
        + newest.format(order="ingested_at DESC, source_row DESC")
    )
    try:
        known_ids, incoming_ids = con.execute(
            f"SELECT (SELECT count(*) FROM known_master), (SELECT count(DISTINCT {key}) FROM {incoming})"
        ).fetchone()
        if not known_ids or incoming_ids < known_ids / 2:
            return result
        varying = [
            a
            for a in attributes
            if con.execute(f'SELECT count(DISTINCT "{a}") > 1 FROM known_master').fetchone()[0]
        ]
        all_changed = " AND ".join(f'k."{a}" IS DISTINCT FROM i."{a}"' for a in varying) or "false"
        changed = (
            f"(SELECT k.* FROM known_master k LEFT JOIN (SELECT * FROM {incoming} "
            + newest.format(order="source_row DESC")
            + f") i USING ({key}) WHERE i.{key} IS NULL OR ({all_changed}))"
        )
        count = con.execute(f"SELECT count(*) FROM {changed}").fetchone()[0]
        share = count / known_ids
        result.measured[table.kind] = {"changed_ids_share": share}
        limit = thresholds.changed_ids_max_share
        if limit and share > limit:
            examples = con.execute(
                f"SELECT {key} FROM {changed} ORDER BY {key} LIMIT {EXAMPLE_ROWS}"
            ).fetchall()
            result.problem = (
                f"changed_ids: {share:.1%} of the {known_ids:,} known {key} values ({count:,}) are missing "
                f"from the file or have every attribute changed, at most {limit:.0%} expected "
                f"(OVNI_CHANGED_IDS_MAX_SHARE); e.g. {key} {', '.join(str(e[0]) for e in examples)}: the ids "
                "look renumbered; export the master data with the ids the transactions use and land it again"
            )
        return result
    finally:
        con.execute("DROP TABLE IF EXISTS known_master")
