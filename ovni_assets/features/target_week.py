"""Which week is the target and through which day data is known: one rule that every reader uses.

Completeness rule. The newest landed week (the ISO week of the newest purchase in `weekly_purchases`)
counts as observed when its data reaches the week's last working day: Saturday, or the last day before it
that is not one of Chile's public holidays (`holidays` package). Otherwise the export ended mid-week
and that week is *in progress*.

- Newest week complete: the target is the week after it; features come from the newest week.
- Newest week in progress: the target is that week itself; features come from the week before it (the
  newest complete week), so no feature sees a part of a week. The pairs already bought in the known days
  are certain for the target week (probability 1, `will_buy`); every other pair can only be bought in the
  days still to come.

Expected volume. A normal week has volume 1: the share of a week's purchased pairs first bought on each
weekday, measured on the landed weeks, adds up to 1 over the seven days. A public holiday weighs its
weekday's share times how busy the landed holidays were against their weekdays (0 when no holiday has
landed yet). The *known volume* is the weight of the target week's days up to `data_through`, the
*remaining volume* that of the days after it; for a complete normal target week they are 0 and 1.
`in_progress_probability` turns the model's P(buy in a normal week) into P(buy in the target week | not
bought in the known days) with them, the quantity the decision threshold is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import holidays
import numpy as np

from ovni_assets.warehouse import table_exists

ONE_WEEK = timedelta(days=7)
SATURDAY = 5


def chile_holidays(first: date, last: date) -> set[date]:
    """Chile's public holidays between `first` and `last` (inclusive)."""
    calendar = holidays.Chile(years=range(first.year, last.year + 1))
    return {day for day in calendar if first <= day <= last}


def last_working_day(week_start: date) -> date:
    """Saturday of the week, or the last day before it that is not a public holiday."""
    closed = chile_holidays(week_start, week_start + timedelta(days=SATURDAY))
    day = week_start + timedelta(days=SATURDAY)
    while day in closed and day > week_start:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class TargetWeek:
    """The week predicted now and what is known of it."""

    target_week: date  # Monday of the week predicted
    feature_week: date  # newest complete week: the feature rows scored
    data_through: date  # newest day with data
    in_progress: bool  # the target week is the newest landed week, known up to `data_through`
    known_volume: float  # share of a normal week's purchases in the target week's known days
    remaining_volume: float  # ... in its days after `data_through` (1.0: a normal week, nothing known)

    @property
    def expected_volume(self) -> float:
        """The whole target week's share of a normal week's purchases (below 1 with holidays)."""
        return self.known_volume + self.remaining_volume

    @property
    def known_days(self) -> int:
        """Days of the target week with data (0 when the target week has not started)."""
        return max(0, (self.data_through - self.target_week).days + 1)


@dataclass(frozen=True)
class DayVolumes:
    """Share of a normal week's purchased pairs first bought on each weekday, and a holiday's factor."""

    weekday_share: tuple[float, ...]  # Monday .. Sunday, sums to 1
    holiday_factor: float  # a holiday's volume / its weekday's usual volume, from the landed holidays

    def of(self, day: date, closed: set[date]) -> float:
        share = self.weekday_share[day.weekday()]
        return share * self.holiday_factor if day in closed else share

    def between(self, first: date, last: date) -> float:
        """Volume of the days `first` .. `last` (inclusive; 0 when last < first)."""
        if last < first:
            return 0.0
        closed = chile_holidays(first, last)
        days = (first + timedelta(days=k) for k in range((last - first).days + 1))
        return float(sum(self.of(day, closed) for day in days))


DAILY_FIRST_PURCHASES_SQL = """
SELECT CAST(first_purchase_date AS DATE) AS day, count(*) AS pairs
FROM weekly_purchases
WHERE week_start < ?
GROUP BY ALL
"""


def day_volumes(con: duckdb.DuckDBPyConnection, before_week: date) -> DayVolumes:
    """`DayVolumes` measured on the weeks of `weekly_purchases` before `before_week` (complete weeks);
    Monday to Saturday alike when none has landed."""
    rows = con.execute(DAILY_FIRST_PURCHASES_SQL, [before_week]).fetchall()
    if not rows:
        return DayVolumes(weekday_share=(1 / 6,) * 6 + (0.0,), holiday_factor=0.0)
    days = {day: pairs for day, pairs in rows}
    closed = chile_holidays(min(days), max(days))
    totals, counts = np.zeros(7), np.zeros(7)
    for day, pairs in days.items():
        if day not in closed:
            totals[day.weekday()] += pairs
    first, last = min(days), max(days)
    for k in range((last - first).days + 1):
        day = first + timedelta(days=k)
        if day not in closed:
            counts[day.weekday()] += 1
    usual = np.divide(totals, counts, out=np.zeros(7), where=counts > 0)  # pairs on a usual weekday
    share = usual / usual.sum() if usual.sum() > 0 else np.r_[np.full(6, 1 / 6), 0.0]
    landed_holidays = [d for d in closed if usual[d.weekday()] > 0]
    expected = sum(usual[d.weekday()] for d in landed_holidays)
    factor = sum(days.get(d, 0) for d in landed_holidays) / expected if expected > 0 else 0.0
    return DayVolumes(weekday_share=tuple(float(s) for s in share), holiday_factor=float(min(factor, 1.0)))


def read_target_week(con: duckdb.DuckDBPyConnection) -> TargetWeek | None:
    """The target week of the data in `weekly_purchases` (None before any purchase has landed)."""
    if not table_exists(con, "weekly_purchases"):
        return None
    newest_week, data_through = con.execute(
        "SELECT max(week_start), CAST(max(last_purchase_date) AS DATE) FROM weekly_purchases"
    ).fetchall()[0]
    if newest_week is None:
        return None
    in_progress = data_through < last_working_day(newest_week)
    target = newest_week if in_progress else newest_week + ONE_WEEK
    volumes = day_volumes(con, target if not in_progress else newest_week)
    known = volumes.between(target, min(data_through, target + timedelta(days=6)))
    remaining = volumes.between(max(target, data_through + timedelta(days=1)), target + timedelta(days=6))
    return TargetWeek(
        target_week=target,
        feature_week=target - ONE_WEEK,
        data_through=data_through,
        in_progress=in_progress,
        known_volume=known,
        remaining_volume=remaining,
    )


def in_progress_probability(
    probability: np.ndarray, known_volume: float, remaining_volume: float
) -> np.ndarray:
    """P(buy in the target week | not bought in its known days), from the model's P(buy in a normal week).

    A pair's first purchase of a week falls on a day in proportion to that day's volume, so a normal-week
    probability p gives p · remaining for the days to come and p · known for the days already seen.
    """
    probability = np.asarray(probability, dtype=float)
    unseen = 1.0 - probability * known_volume
    adjusted = np.divide(
        probability * remaining_volume, unseen, out=np.zeros_like(probability), where=unseen > 0
    )
    return np.clip(adjusted, 0.0, 1.0)
