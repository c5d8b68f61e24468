"""`ovni backtest`: the replay of `ovni_assets.backtest`, printed as a table of F1 per target week."""

from __future__ import annotations

import sys
from datetime import date

import pandas as pd

from ovni_assets.backtest import RETRAIN_EVERY_WEEKS, load_warehouse_copy, run_backtest, target_weeks
from ovni_assets.settings import get_settings
from ovni_assets.warehouse import RunLockTimeout


def format_row(row: dict) -> str:
    diff = row["model_f1"] - row["rule_f1"]
    outage = "  (supply outage)" if row["outage"] else ""
    if row["in_progress"]:
        outage += f"  (in progress, data through {row['data_through']}: scored on the purchases so far)"
    partial = (
        f"  partial {row['partial_f1']:.4f} (plain {row['partial_plain_f1']:.4f})"
        if "partial_f1" in row and not row["in_progress"]
        else ""
    )
    holiday = (
        f"  volume {row['expected_volume']:.2f}: {row['holiday_f1']:.4f}"
        if row["expected_volume"] < 0.999
        else ""
    )
    return (
        f"{row['target_week']}  {row['model_f1']:.4f}  {row['rule_f1']:.4f}     {diff:+.4f}  "
        f"{row['precision']:.3f}  {row['recall']:.3f}  {row['threshold']:.3f}  {row['model']:<5} "
        f"{row['note']}{outage}{partial}{holiday}"
    )


def format_mean(label: str, frame: pd.DataFrame) -> str:
    model, rule = frame["model_f1"].mean(), frame["rule_f1"].mean()
    return f"{label:<12} {model:.4f}  {rule:.4f}     {model - rule:+.4f}   ({len(frame)} weeks)"


def run_backtest_cli(
    weeks: int,
    until: date | None = None,
    retrain_every: int = RETRAIN_EVERY_WEEKS,
    through_weekday: int | None = None,
) -> int:
    """Print F1 per target week next to the 3-of-8 rule, plus the means. Exit code for the CLI."""
    settings = get_settings()

    def say_waiting() -> None:
        print(f"ovni backtest: waiting for another OVNI run to release {settings.run_lock_path}", flush=True)

    try:
        con = load_warehouse_copy(settings, on_wait=say_waiting)
        targets = target_weeks(con, weeks, until)
    except (FileNotFoundError, ValueError) as error:
        print(f"ovni backtest: {error}", file=sys.stderr)
        return 1
    except RunLockTimeout as error:
        print(f"ovni backtest: {error}; try again when it has finished", file=sys.stderr)
        return 1
    print(
        f"ovni backtest: target weeks {targets[0]} .. {targets[-1]}, a challenger every {retrain_every} "
        f"week(s) (adopted only if it wins the champion/challenger gate), "
        f"HPO budget {settings.hpo_seconds:g} s per training"
    )
    print("target_week  model   rule(3/8)  diff     prec   recall thresh  model")
    result = run_backtest(
        con,
        weeks,
        settings.hpo_seconds,
        retrain_every,
        until=until,
        max_trials=settings.hpo_max_trials,
        progress=lambda row: print(format_row(row), flush=True),
        through_weekday=through_weekday,
    )
    complete = result.complete_weeks()
    print(format_mean("mean", complete) + f"  {result.seconds:.0f} s")
    if complete["outage"].any():
        print(format_mean("no outages", result.normal_weeks()))
    holiday = complete[complete["expected_volume"] < 0.999]
    if len(holiday):
        print(
            f"holiday weeks ({len(holiday)}): {holiday['model_f1'].mean():.4f} as served, "
            f"{holiday['holiday_f1'].mean():.4f} with the expected-volume threshold"
        )
    if through_weekday is not None:
        print(
            f"through weekday {through_weekday}: {complete['partial_f1'].mean():.4f} with the "
            f"expected-volume threshold, {complete['partial_plain_f1'].mean():.4f} without"
        )
    return 0
