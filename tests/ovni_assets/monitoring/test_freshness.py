"""The freshness rule of the served batch: fresh while today is before target week + 7 days + grace, in the
configured time zone; stale from that day on, with a reason in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from ovni_assets.monitoring.freshness import (
    freshness_for,
    judged_today,
    served_week_freshness,
    today_in,
    where_the_delay_is,
)
from ovni_assets.settings import settings_from

WEEK = date(2024, 10, 7)  # a Monday: the batch predicts 2024-10-07 .. 2024-10-13


def test_a_batch_is_fresh_during_its_week_and_the_grace_after_it():
    for today in (date(2024, 10, 1), WEEK, date(2024, 10, 13), date(2024, 10, 15)):
        verdict = served_week_freshness(WEEK, today, grace_days=2)
        assert verdict.fresh and verdict.days_late == 0 and verdict.reason is None, today
    assert served_week_freshness(WEEK, WEEK, 2).fresh_until == date(2024, 10, 15)  # the Tuesday after


def test_the_batch_is_stale_exactly_on_the_first_day_past_the_grace():
    boundary = WEEK + timedelta(days=7 + 2)  # Wednesday 2024-10-16
    assert served_week_freshness(WEEK, boundary - timedelta(days=1), 2).fresh
    verdict = served_week_freshness(WEEK, boundary, 2)
    assert not verdict.fresh and verdict.days_late == 1
    assert verdict.reason == (
        "the served predictions are for the week of 2024-10-07 (to 2024-10-13); the batch for the week of "
        "2024-10-14 was due by 2024-10-15 (2 days of grace for that week's data to land) and is 1 day late "
        "on 2024-10-16"
    )


def test_a_stale_batch_counts_its_days_late():
    verdict = served_week_freshness(WEEK, date(2024, 10, 26), 2)
    assert (verdict.fresh, verdict.days_late) == (False, 11)
    assert "is 11 days late on 2024-10-26" in verdict.reason
    no_grace = served_week_freshness(WEEK, date(2024, 10, 14), 0)
    assert (no_grace.fresh, no_grace.days_late, no_grace.fresh_until) == (False, 1, date(2024, 10, 13))


def test_a_negative_grace_is_refused():
    with pytest.raises(ValueError, match="grace_days"):
        served_week_freshness(WEEK, WEEK, -1)


def test_today_is_the_day_in_the_configured_time_zone():
    # 02:00 UTC on Monday 2024-10-14 is 23:00 on Sunday in Santiago (UTC-3 in October)
    now = datetime(2024, 10, 14, 2, 0, tzinfo=UTC)
    assert today_in("UTC", now) == date(2024, 10, 14)
    assert today_in("America/Santiago", now) == date(2024, 10, 13)
    with pytest.raises(ValueError, match="time zone"):
        today_in("UTC", datetime(2024, 10, 14, 2, 0))


def test_utc_already_monday_but_santiago_still_sunday_keeps_the_batch_fresh():
    now = datetime(2024, 10, 14, 2, 0, tzinfo=UTC)
    santiago = settings_from(timezone="America/Santiago", freshness_grace_days=0)
    utc = settings_from(timezone="UTC", freshness_grace_days=0)
    assert freshness_for(WEEK, santiago, now).fresh
    assert not freshness_for(WEEK, utc, now).fresh
    assert freshness_for(WEEK, santiago, now + timedelta(hours=1)).days_late == 1  # Santiago's midnight


def test_settings_default_to_santiago_and_two_days_and_can_pin_the_day():
    settings = settings_from()
    assert (settings.timezone, settings.freshness_grace_days, settings.freshness_today) == (
        "America/Santiago",
        2,
        None,
    )
    pinned = settings_from(freshness_today=date(2024, 10, 16))
    assert judged_today(pinned, datetime(2030, 1, 1, tzinfo=UTC)) == date(2024, 10, 16)
    assert freshness_for(WEEK, pinned).days_late == 1


def test_an_unknown_time_zone_or_a_negative_grace_is_a_settings_error():
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        settings_from(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        settings_from(freshness_grace_days=-1)


def test_the_delay_is_placed_in_the_data_or_in_the_pipeline():
    stale = served_week_freshness(WEEK, date(2024, 10, 20), 2)
    assert "has landed" in where_the_delay_is(stale, None)
    assert "has landed" in where_the_delay_is(stale, WEEK)
    assert "not published yet" in where_the_delay_is(stale, WEEK + timedelta(days=7))
