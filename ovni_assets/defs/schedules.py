"""Schedules outside the weekly cycle (whose own schedule is `cycle_sensors.retrain_schedule`)."""

import dagster as dg

from ovni_assets.defs.jobs import served_week_job

SERVED_WEEK_CRON = "0 6 * * *"  # every day at 06:00, before the sales team's working day


def served_week_schedule_in(timezone: str) -> dg.ScheduleDefinition:
    """`served_week_schedule`: the freshness check every morning in `timezone` (OVNI_TIMEZONE)."""
    return dg.ScheduleDefinition(
        name="served_week_schedule",
        job=served_week_job,
        cron_schedule=SERVED_WEEK_CRON,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Every day at 06:00 ({timezone}): checks that the served week is still current "
        "(`served_week_is_current`). A batch goes stale with the calendar, not with a run, so the check "
        "needs a clock of its own; it reads one row of serving.duckdb and takes no run lock.",
    )
