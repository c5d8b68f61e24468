"""The completeness rule: which week is the target, through which day data is known, expected volumes."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pytest

from ovni_assets.features.target_week import (
    day_volumes,
    in_progress_probability,
    last_working_day,
    read_target_week,
)

FIRST_WEEK = date(2024, 11, 4)  # four weeks without public holidays: 2024-11-04 .. 2024-12-01


def purchases(days: list[date], pairs_per_day: int = 10) -> duckdb.DuckDBPyConnection:
    """`weekly_purchases` with `pairs_per_day` pairs first (and last) bought on each of `days`."""
    con = duckdb.connect()
    rows = [
        (customer, 1, day - timedelta(days=day.weekday()), day, day)
        for index, day in enumerate(days)
        for customer in range(index * pairs_per_day, (index + 1) * pairs_per_day)
    ]
    con.execute(
        "CREATE TABLE weekly_purchases (customer_id BIGINT, product_id BIGINT, week_start DATE, "
        "first_purchase_date TIMESTAMP, last_purchase_date TIMESTAMP)"
    )
    if rows:
        con.executemany("INSERT INTO weekly_purchases VALUES (?, ?, ?, ?, ?)", rows)
    return con


def working_days(first: date, last: date) -> list[date]:
    """Monday to Saturday between `first` and `last`."""
    return [
        first + timedelta(days=k)
        for k in range((last - first).days + 1)
        if (first + timedelta(k)).weekday() < 6
    ]


def test_a_week_with_data_up_to_its_saturday_is_complete_and_the_next_week_is_the_target():
    con = purchases(working_days(FIRST_WEEK, FIRST_WEEK + timedelta(days=5 + 7 * 3)))
    target = read_target_week(con)
    newest = FIRST_WEEK + timedelta(weeks=3)
    assert target.target_week == newest + timedelta(weeks=1) and target.feature_week == newest
    assert not target.in_progress and target.data_through == newest + timedelta(days=5)
    assert target.known_volume == 0 and target.known_days == 0
    assert target.remaining_volume == pytest.approx(1.0)


def test_an_export_ending_on_tuesday_makes_that_week_the_target_known_through_tuesday():
    newest = FIRST_WEEK + timedelta(weeks=3)
    con = purchases(working_days(FIRST_WEEK, newest + timedelta(days=1)))
    target = read_target_week(con)
    assert target.in_progress and target.target_week == newest
    assert target.feature_week == newest - timedelta(weeks=1)  # the newest complete week
    assert target.data_through == newest + timedelta(days=1) and target.known_days == 2
    # six equally busy working days in the weeks before: Monday and Tuesday are a third of a week
    assert target.known_volume == pytest.approx(2 / 6)
    assert target.remaining_volume == pytest.approx(4 / 6)


def test_a_saturday_holiday_makes_friday_the_last_day_the_week_needs():
    week = date(2024, 6, 24)  # Saturday 2024-06-29 is Saint Peter and Saint Paul's Day
    assert last_working_day(week) == date(2024, 6, 28)
    assert last_working_day(FIRST_WEEK) == FIRST_WEEK + timedelta(days=5)
    con = purchases(working_days(week - timedelta(weeks=2), date(2024, 6, 28)))
    target = read_target_week(con)
    assert not target.in_progress and target.target_week == date(2024, 7, 1)


def test_holidays_lower_a_weeks_expected_volume_as_much_as_landed_holidays_were_quiet():
    # 2024-08-15 (Thursday, a holiday) landed with half a usual Thursday; 2024-09-16 .. 09-22 holds three
    days = working_days(date(2024, 7, 29), date(2024, 9, 14))
    con = purchases([d for d in days if d != date(2024, 8, 15)])
    con.execute(
        "INSERT INTO weekly_purchases SELECT 10000 + range, 1, DATE '2024-08-12', DATE '2024-08-15', "
        "DATE '2024-08-15' FROM range(5)"
    )
    volumes = day_volumes(con, date(2024, 9, 16))
    assert volumes.holiday_factor == pytest.approx(0.5)
    assert volumes.weekday_share[:6] == pytest.approx([1 / 6] * 6) and volumes.weekday_share[6] == 0
    target = read_target_week(con)
    assert target.target_week == date(2024, 9, 16) and not target.in_progress
    assert target.expected_volume == pytest.approx((3 + 3 * 0.5) / 6)


def test_no_purchases_no_target_week():
    con = purchases([])
    assert read_target_week(con) is None
    assert read_target_week(duckdb.connect()) is None


def test_in_progress_probability_is_the_chance_of_buying_in_the_days_to_come():
    p = np.array([0.0, 0.3, 0.6, 1.0])
    assert in_progress_probability(p, 0.0, 1.0) == pytest.approx(p)  # a normal week not started yet
    # half the week seen without a purchase: P(rest) = 0.5 p / (1 - 0.5 p)
    assert in_progress_probability(p, 0.5, 0.5) == pytest.approx([0.0, 0.15 / 0.85, 0.3 / 0.7, 1.0])
    assert in_progress_probability(p, 1.0, 0.0) == pytest.approx([0, 0, 0, 0])  # nothing left to come
