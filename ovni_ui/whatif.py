"""The "¿Y si…?" simulation: a few behaviours a person can reason about, turned into a consistent feature row.

The model reads dozens of features of a pair's history (`GET /model` lists them; the pipeline computes them
in `pair_features`), and many are views of the same facts: the week of the last purchase fixes
`weeks_since_last`, `days_since_last`, the week flags `bought_w1`, `bought_lag1..3` and the windowed counts
(`bought_w2/w4/w8/w12/w26`), which in turn bound `bought_total`, the purchase shares and the ratios
`gap_ratio` and `day_gap_ratio`. Changing one without the others asks the model about a customer that cannot
exist, and it answers with the other features. `simulated_row` rebuilds every related feature from the edited
behaviours, keeping the pair's own values where they stay possible, and `readable_behaviours` rounds the
pair's row into the values the inputs start from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The inputs of the panel, in order. `weeks_ago` counts weeks back from the predicted week: 1 = last week,
# the feature week itself (the row's `weeks_since_last` is 0 then).
BEHAVIOURS = ("weeks_ago", "bought_w4", "bought_w12", "units_w4", "mean_gap_weeks", "cust_active_w4")
NEVER_BOUGHT_WEEKS = 27  # past the 26-week history window: what the pipeline's rows never hold
WEEK_FLAGS = ("bought_w1", "bought_lag1", "bought_lag2", "bought_lag3")  # this week, then one to three back


@dataclass(frozen=True)
class Simulation:
    """The row to score, and the behaviours it encodes once the limits are applied (shown back)."""

    row: dict[str, Any]
    behaviours: dict[str, float | int | None]
    adjusted: bool  # some input was out of what its other inputs allow and was moved to the nearest value


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def readable_behaviours(row: Mapping[str, Any]) -> dict[str, float | int | None]:
    """The pair's row as the panel shows it: whole weeks and counts, units and gaps to one decimal."""
    weeks_since_last = _number(row.get("weeks_since_last"))
    units = _number(row.get("units_w4"))
    gap = _number(row.get("mean_gap_weeks"))
    return {
        "weeks_ago": NEVER_BOUGHT_WEEKS if weeks_since_last is None else int(weeks_since_last) + 1,
        "bought_w4": int(_number(row.get("bought_w4")) or 0),
        "bought_w12": int(_number(row.get("bought_w12")) or 0),
        "units_w4": round(units or 0.0, 1),
        "mean_gap_weeks": None if gap is None else round(gap, 1),
        "cust_active_w4": int(_number(row.get("cust_active_w4")) or 0),
    }


def _window_count(wanted: float, window: int, since: int, fallback: float) -> int:
    """Purchase weeks in the last `window` weeks when the last one was `since` weeks before the row's week:
    none when it is out of the window, else between 1 and the weeks left from it."""
    if since >= window:
        return 0
    value = wanted if wanted is not None else fallback
    return int(_clamp(round(value), 1, window - since))


class _PairRow:
    """The pair's row as it was (`old`) and the row being rebuilt from the edits (`put`)."""

    def __init__(self, row: Mapping[str, Any]):
        self._before = row
        self.after = dict(row)

    def old(self, name: str, default: float = 0.0) -> float:
        value = _number(self._before.get(name))
        return default if value is None else value

    def put(self, name: str, value: Any) -> None:
        if name in self.after:  # a model without this feature keeps its own signature
            self.after[name] = value


@dataclass(frozen=True)
class _PurchaseWeeks:
    """The weeks in which the pair bought, after the edits: the last one and the windowed counts."""

    since: int  # weeks between the last purchase and the row's own week
    flags: tuple[int, ...]  # bought_w1, bought_lag1, bought_lag2, bought_lag3
    w8: int
    w12: int
    w26: int
    total: float

    @property
    def never(self) -> bool:
        return self.since >= NEVER_BOUGHT_WEEKS - 1

    @property
    def w4(self) -> int:
        return sum(self.flags)


def simulated_row(row: Mapping[str, Any], edits: Mapping[str, Any]) -> Simulation:
    """The pair's feature row with the edited behaviours and every feature that depends on them."""
    wanted = _wanted_behaviours(row, edits)
    pair = _PairRow(row)
    weeks_ago = int(_clamp(round(wanted["weeks_ago"]), 1, NEVER_BOUGHT_WEEKS))
    weeks = _purchase_weeks(pair, weeks_ago - 1, wanted)
    _put_purchase_weeks(pair, weeks)
    days_since_last = _put_recency(pair, weeks)
    units_w4 = _put_units_and_orders(pair, weeks, wanted["units_w4"])
    gap = _put_regularity(pair, weeks, days_since_last, wanted["mean_gap_weeks"])
    active_w4, active_w12 = _put_customer_activity(pair, weeks, days_since_last, wanted["cust_active_w4"])
    _put_shares(pair, weeks, active_w4, active_w12)
    used = {
        "weeks_ago": weeks_ago,
        "bought_w4": weeks.w4,
        "bought_w12": weeks.w12,
        "units_w4": units_w4,
        "mean_gap_weeks": gap,
        "cust_active_w4": active_w4,
    }
    adjusted = any(
        wanted[name] is not None and used[name] is not None and not math.isclose(wanted[name], used[name])
        for name in BEHAVIOURS
    )
    return Simulation(row=pair.after, behaviours=used, adjusted=adjusted)


def _wanted_behaviours(row: Mapping[str, Any], edits: Mapping[str, Any]) -> dict[str, float | None]:
    """The edits as numbers; an emptied input keeps the pair's value, except the gap, where empty is none."""
    original = readable_behaviours(row)
    wanted = {name: _number(edits.get(name)) for name in BEHAVIOURS}
    for name in BEHAVIOURS:
        if wanted[name] is None and name != "mean_gap_weeks":
            wanted[name] = _number(original[name])
    return wanted


def _purchase_weeks(pair: _PairRow, since: int, wanted: Mapping[str, float | None]) -> _PurchaseWeeks:
    """The week flags and windowed counts for a last purchase `since` weeks before the row's week: each
    window holds the smaller ones, and keeps the pair's purchases from before the edited windows."""
    bought_w4 = _window_count(wanted["bought_w4"], 4, since, 1)
    bought_w8 = _window_count(pair.old("bought_w8") - pair.old("bought_w4") + bought_w4, 8, since, 1)
    bought_w8 = max(bought_w8, bought_w4) if since < 8 else 0
    bought_w12 = _window_count(wanted["bought_w12"], 12, since, 1)
    bought_w12 = int(_clamp(bought_w12, bought_w8, bought_w8 + 4)) if since < 12 else 0
    bought_w8 = min(bought_w8, bought_w12) if since < 12 else bought_w8
    bought_w26 = (
        0
        if since >= 26
        else int(
            _clamp(
                pair.old("bought_w26") - pair.old("bought_w12") + bought_w12, max(bought_w12, 1), 26 - since
            )
        )
    )
    bought_total = max(pair.old("bought_total") - pair.old("bought_w26") + bought_w26, bought_w26)
    flags = _week_flags(pair, since, bought_w4)
    return _PurchaseWeeks(since, flags, bought_w8, bought_w12, bought_w26, bought_total)


def _week_flags(pair: _PairRow, since: int, bought_w4: int) -> tuple[int, ...]:
    """Nothing after the last purchase, a purchase in its week, the other purchases of the last four weeks
    where the pair had them, then in the earliest weeks left."""
    flags = [0, 0, 0, 0]
    if since < 4:
        flags[since] = 1
        earlier = list(range(since + 1, 4))
        had = [lag for lag in earlier if pair.old(WEEK_FLAGS[lag])]
        for lag in (had + [lag for lag in earlier if lag not in had])[: bought_w4 - 1]:
            flags[lag] = 1
    return tuple(flags)


def _put_purchase_weeks(pair: _PairRow, weeks: _PurchaseWeeks) -> None:
    for name, value in zip(WEEK_FLAGS, weeks.flags, strict=True):
        pair.put(name, value)
    pair.put("bought_w2", weeks.flags[0] + weeks.flags[1])
    pair.put("bought_w4", weeks.w4)
    pair.put("bought_w8", weeks.w8)
    pair.put("bought_w12", weeks.w12)
    pair.put("bought_w26", weeks.w26)
    pair.put("bought_total", int(weeks.total))


def _put_recency(pair: _PairRow, weeks: _PurchaseWeeks) -> int | None:
    """Weeks and days since the last purchase (the day inside its week stays the pair's own); the days."""
    pair.put("weeks_since_last", None if weeks.never else weeks.since)
    day_in_week = _clamp(pair.old("days_since_last") - 7 * pair.old("weeks_since_last"), 0, 6)
    days_since_last = None if weeks.never else int(7 * weeks.since + day_in_week)
    pair.put("days_since_last", days_since_last)
    return days_since_last


def _put_units_and_orders(pair: _PairRow, weeks: _PurchaseWeeks, wanted_units: float | None) -> float:
    """Units and orders follow the purchases of the last four and twelve weeks; the units of the four."""
    units_w4 = 0.0 if weeks.w4 == 0 else max(round(wanted_units or 0.0, 1), 1 / 3)
    pair.put("units_w4", units_w4)
    units_w12 = max(pair.old("units_w12") - pair.old("units_w4") + units_w4, units_w4)
    pair.put("units_w12", 0.0 if weeks.w12 == 0 else units_w12)
    per_week = pair.old("orders_w4") / pair.old("bought_w4") if pair.old("bought_w4") else 1.0
    pair.put("orders_w4", int(max(round(per_week * weeks.w4), weeks.w4)))
    return units_w4


def _put_regularity(
    pair: _PairRow, weeks: _PurchaseWeeks, days_since_last: int | None, wanted_gap: float | None
) -> float | None:
    """The mean gap in weeks (none under two purchases), the gap in days scaled with it, and the ratios of
    recency to gap; the gap in weeks."""
    gap = None if wanted_gap is None or weeks.total < 2 else round(max(wanted_gap, 0.0), 1)
    old_gap_weeks, old_gap_days = pair.old("mean_gap_weeks"), pair.old("mean_gap_days")
    if gap is None:
        gap_days = None
    elif old_gap_weeks and old_gap_days:
        gap_days = old_gap_days * gap / old_gap_weeks
    else:
        gap_days = 7 * gap
    pair.put("mean_gap_weeks", gap)
    pair.put("mean_gap_days", gap_days)
    pair.put("gap_ratio", None if weeks.never or not gap else weeks.since / gap)
    pair.put("day_gap_ratio", None if days_since_last is None or not gap_days else days_since_last / gap_days)
    return gap


def _put_customer_activity(
    pair: _PairRow, weeks: _PurchaseWeeks, days_since_last: int | None, wanted_active: float | None
) -> tuple[int, int]:
    """The customer is active in every week it bought the pair, so at least as active and as recent as the
    pair; its active weeks of the last four and twelve."""
    active_w4 = int(_clamp(round(wanted_active), weeks.w4, 4))
    pair.put("cust_active_w4", active_w4)
    active_w12 = pair.old("cust_active_w12") - pair.old("cust_active_w4") + active_w4
    active_w12 = int(_clamp(active_w12, max(active_w4, weeks.w12), active_w4 + 8))
    pair.put("cust_active_w12", active_w12)
    last_week = pair.old("cust_weeks_since_last")
    cust_weeks = last_week if weeks.never else min(last_week, weeks.since)
    cust_weeks = min(cust_weeks, 3) if active_w4 else max(cust_weeks, 4)
    pair.put("cust_weeks_since_last", int(cust_weeks))
    pair.put("cust_active_w1", int(cust_weeks == 0))
    cust_day = _clamp(pair.old("cust_days_since_last") - 7 * last_week, 0, 6)
    cust_days = int(7 * cust_weeks + cust_day)
    pair.put(
        "cust_days_since_last", cust_days if days_since_last is None else min(cust_days, days_since_last)
    )
    return active_w4, active_w12


def _put_shares(pair: _PairRow, weeks: _PurchaseWeeks, active_w4: int, active_w12: int) -> None:
    """Shares of the customer's active weeks in which it bought the pair."""
    share_w8, share_total = pair.old("pair_share_w8"), pair.old("pair_share_total")
    active_w8 = pair.old("bought_w8") / share_w8 if share_w8 else active_w4 + 4 * active_w12 / 12
    active_total = pair.old("bought_total") / share_total if share_total else weeks.total
    pair.put("pair_share_w8", min(1.0, weeks.w8 / max(active_w8, weeks.w8, 1)))
    pair.put("pair_share_total", min(1.0, weeks.total / max(active_total, weeks.total, 1)))
