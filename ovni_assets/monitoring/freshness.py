"""Whether the served batch is still the current one: the freshness rule, in one plain function.

The served snapshot predicts its target week W (a Monday, `snapshot_info.target_week`). Once W is over, the
next batch (for W + 7 days) needs W's data, and the week's file usually lands by the Monday or Tuesday after
it. So the batch is **fresh** while today, in OVNI_TIMEZONE, is before W + 7 days + OVNI_FRESHNESS_GRACE_DAYS;
from that day on it is **stale**, one day late on that day, two the next, and so on.

`served_week_freshness` is the rule; `judged_today` is the day it is judged on. The Dagster check
`served_week_is_current` and the API's `GET /ready` call both, so they never disagree. No dagster import:
the serving package uses this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ovni_assets.settings import OvniSettings

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Freshness:
    """The verdict on a served target week on one day."""

    target_week: date  # the Monday of the week the served batch predicts
    today: date  # the day judged on, in the configured time zone
    grace_days: int
    fresh_until: date  # the last day the batch counts as current
    days_late: int  # 0 while fresh; 1 on the first stale day

    @property
    def fresh(self) -> bool:
        return self.days_late == 0

    @property
    def next_week(self) -> date:
        """The week the next batch predicts."""
        return self.target_week + WEEK

    @property
    def reason(self) -> str | None:
        """Why the batch is stale, in words (None while it is fresh)."""
        if self.fresh:
            return None
        last_day = self.target_week + timedelta(days=6)
        days = "day" if self.days_late == 1 else "days"
        return (
            f"the served predictions are for the week of {self.target_week} (to {last_day}); the batch for "
            f"the week of {self.next_week} was due by {self.fresh_until} ({self.grace_days} days of grace "
            f"for that week's data to land) and is {self.days_late} {days} late on {self.today}"
        )


def served_week_freshness(target_week: date, today: date, grace_days: int) -> Freshness:
    """Fresh while `today` < `target_week` + 7 days + `grace_days`; stale from that day on."""
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, not {grace_days}")
    stale_from = target_week + WEEK + timedelta(days=grace_days)
    days_late = max(0, (today - stale_from).days + 1)
    return Freshness(
        target_week=target_week,
        today=today,
        grace_days=grace_days,
        fresh_until=stale_from - timedelta(days=1),
        days_late=days_late,
    )


def today_in(timezone: str, now: datetime | None = None) -> date:
    """The calendar day in `timezone` (an IANA name) at `now` (an aware datetime; default: this instant)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone (a naive datetime names no instant)")
    return now.astimezone(ZoneInfo(timezone)).date()


def judged_today(settings: OvniSettings, now: datetime | None = None) -> date:
    """The day freshness is judged on: OVNI_FRESHNESS_TODAY when set, else today in OVNI_TIMEZONE."""
    return settings.freshness_today or today_in(settings.timezone, now)


def freshness_for(target_week: date, settings: OvniSettings, now: datetime | None = None) -> Freshness:
    """`served_week_freshness` with the day and the grace the settings give."""
    return served_week_freshness(target_week, judged_today(settings, now), settings.freshness_grace_days)


def where_the_delay_is(freshness: Freshness, pipeline_target_week: date | None) -> str:
    """What a stale batch says about the pipeline, given the target week of the newest features the
    pipeline built (Dagster's event log): newer than the served week means the data is in but the batch
    for it is not published; otherwise the data itself has not arrived."""
    if pipeline_target_week is not None and pipeline_target_week > freshness.target_week:
        return (
            f"the pipeline already built features for the week of {pipeline_target_week}: the data is in, "
            "the batch for it is not published yet (see the latest runs)"
        )
    return "the pipeline has no newer data either: check that the week's transactions file has landed"
