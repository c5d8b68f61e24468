"""What the checks against the data's own weeks measure on real weeks, and their margin to the defaults.

Lands the first `--history` weeks of a transactions file as one file, then every later week as a file of its
own, through `ingest_landing` (the real checks, default thresholds) on a DuckDB file; with `--split`, each
week arrives as two files (through Wednesday, then the rest), so the partial week at the end of an export is
exercised too. Customers and products files are landed first, then once more at the end (a whole export of
the master data again). Prints, per week, what each check measured, then per check the minimum, median and
maximum over the weeks against the default threshold. Exits non-zero if a real week is held.

    .venv/bin/python benchmarks/week_checks_calibration.py [--data ../shared/data/sodai] [--split]
    .venv/bin/python benchmarks/week_checks_calibration.py --synthetic [--customers 80] [--weeks 52]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from ovni_assets.data.ingestion import RejectedFile, ingest_landing
from ovni_assets.data.week_checks import (
    DEFAULT_THRESHOLDS,
    WEEK_METRICS,
    WeekCheckThresholds,
    check_transactions,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SODAI_DIR = REPO_ROOT.parent / "shared" / "data" / "sodai"

# check.metric → the threshold it is compared with
THRESHOLDS = {f"{m.check}.{m.name}": getattr(DEFAULT_THRESHOLDS, m.setting) for m in WEEK_METRICS} | {
    "weekday_spread.shift_ratio": DEFAULT_THRESHOLDS.weekday_spread_max_shift_ratio,
    "reexported_lines.reexported_share": DEFAULT_THRESHOLDS.reexported_lines_max_share,
    "changed_ids.changed_ids_share": DEFAULT_THRESHOLDS.changed_ids_max_share,
}


# Every check off: what a wrong export of a real week would measure, without holding it.
MEASURE_ONLY = WeekCheckThresholds(
    **{
        name: 0
        for name in WeekCheckThresholds.__dataclass_fields__
        if name not in ("min_history_weeks", "reference_weeks")
    }
)

# A wrong export made of a real week (and the week before it) → the measurement that should catch it.
WRONG_EXPORTS = {
    "week before, order ids renumbered": ("file", "reexported_share"),
    "top customer's lines repeated": ("week", "top_customer_share.top_customer_line_share"),
    "units / 1000 (thousands mark)": ("week", "units_per_line.median_units_per_line"),
    "returns only": ("week", "units_per_line.negative_share"),
    "dates one day later": ("week", "weekday_spread.shift_ratio"),
    "dates one day earlier": ("week", "weekday_spread.shift_ratio"),
}


def wrong_export(name: str, lines: pd.DataFrame, week_before: pd.DataFrame) -> pd.DataFrame:
    day = pd.Timedelta(days=1)
    if name == "week before, order ids renumbered":
        return week_before.assign(order_id=week_before["order_id"] + 10**9)
    if name == "top customer's lines repeated":
        top = lines[lines["customer_id"] == lines["customer_id"].value_counts().index[0]]
        return pd.concat([top] * (len(lines) // len(top)), ignore_index=True)
    if name == "units / 1000 (thousands mark)":
        return lines.assign(items=lines["items"] / 1000)
    if name == "returns only":
        return lines.assign(items=-lines["items"].abs())
    return lines.assign(purchase_date=lines["purchase_date"] + (day if name.endswith("later") else -day))


def measure_wrong_exports(
    con: duckdb.DuckDBPyConnection, lines: pd.DataFrame, week_before: pd.DataFrame, week: str
) -> dict[str, float]:
    """{wrong export: the value its check measures} for wrong exports of one real week."""
    found = {}
    for name, (scope, metric) in WRONG_EXPORTS.items():
        cursor = con.cursor()  # a session of its own: the frame registered in it goes with it
        cursor.register("wrong", wrong_export(name, lines, week_before))
        measured = check_transactions(cursor, "wrong", "raw_transactions", MEASURE_ONLY).measured
        cursor.close()
        key = "file" if scope == "file" else week
        if key in measured:
            found[name] = measured[key][metric]
    return found


def generated(folder: Path, customers: int | None, weeks: int | None) -> Path:
    from ovni_assets.data.synthetic.config import GeneratorConfig
    from ovni_assets.data.synthetic.writer import write_dataset

    sizes = {"customers": customers, "weeks": weeks}
    write_dataset(GeneratorConfig(**{k: v for k, v in sizes.items() if v is not None}), folder)
    return folder


def land_week_by_week(
    data: Path, work: Path, history_weeks: int, split: bool
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """({check.metric: measured value of every judged real week}, {wrong export: its measured values});
    raises SystemExit when a real file is held."""
    landing, quarantine = work / "landing", work / "quarantine"
    landing.mkdir(parents=True)
    con = duckdb.connect(str(work / "warehouse.duckdb"))
    transactions = pd.read_parquet(data / "transacciones.parquet")
    weeks = transactions["purchase_date"].dt.to_period("W-SUN").dt.start_time
    week_starts = sorted(weeks.unique())
    masters = [data / "clientes.parquet", data / "productos.parquet"]

    drops: list[tuple[str, pd.DataFrame]] = [("history", transactions[weeks < week_starts[history_weeks]])]
    for week in week_starts[history_weeks:]:
        lines = transactions[weeks == week]
        if split:
            thursday = week + pd.Timedelta(days=3)
            drops.append((f"{week:%Y%m%d}_a", lines[lines["purchase_date"] < thursday]))
            drops.append((f"{week:%Y%m%d}_b", lines[lines["purchase_date"] >= thursday]))
        else:
            drops.append((f"{week:%Y%m%d}", lines))

    measured: dict[str, list[float]] = {}
    wrong: dict[str, list[float]] = {}
    for index, (name, lines) in enumerate(drops):
        if index and not split:
            week = lines["purchase_date"].min().to_period("W-SUN").start_time
            for export, value in measure_wrong_exports(
                con, lines, transactions[weeks == week - pd.Timedelta(weeks=1)], f"{week:%Y-%m-%d}"
            ).items():
                wrong.setdefault(export, []).append(value)
        if index == 0:
            for master in masters:
                pd.read_parquet(master).to_parquet(landing / master.name)
        lines.to_parquet(landing / f"transacciones_{name}.parquet", index=False)
        if index == len(drops) - 1:  # the master data exported again, beside the last week
            for master in masters:
                pd.read_parquet(master).to_parquet(landing / f"{master.stem}_again.parquet", index=False)
        try:
            report = ingest_landing(con, landing, quarantine)
        except RejectedFile as rejected:
            sys.exit(f"HELD (a false alarm): {rejected}")
        for file_name, by_week in report.week_checks.items():
            for week, values in by_week.items():
                print(
                    f"{file_name:40} {week:12} "
                    + " ".join(f"{k.split('.')[-1]}={v:.3f}" for k, v in values.items())
                )
                for key, value in values.items():
                    measured.setdefault(key if "." in key else _qualified(key), []).append(value)
    con.close()
    return measured, wrong


def _qualified(metric: str) -> str:
    return {"reexported_share": "reexported_lines", "changed_ids_share": "changed_ids"}[metric] + "." + metric


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SODAI_DIR)
    parser.add_argument("--synthetic", action="store_true", help="judge `ovni generate`'s default data")
    parser.add_argument("--customers", type=int, help="with --synthetic: customers generated")
    parser.add_argument("--weeks", type=int, help="with --synthetic: weeks generated")
    parser.add_argument("--history", type=int, default=10, help="weeks landed at once before the first check")
    parser.add_argument("--split", action="store_true", help="land each week as two files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = generated(Path(tmp) / "generated", args.customers, args.weeks) if args.synthetic else args.data
        measured, wrong = land_week_by_week(data, Path(tmp) / "home", args.history, args.split)
    print(f"\nevery week passed; {'synthetic' if args.synthetic else data}{' (split)' if args.split else ''}")
    print(
        f"{'check.metric':48} {'weeks':>5} {'min':>8} {'median':>8} {'max':>8} {'default':>8} {'margin':>7}"
    )
    for key, threshold in THRESHOLDS.items():
        values = measured.get(key, [])
        if not values:
            print(f"{key:48} {0:>5} (never judged)")
            continue
        worst = max(values)
        margin = threshold / worst if worst else float("inf")
        print(
            f"{key:48} {len(values):>5} {min(values):>8.3f} {statistics.median(values):>8.3f} {worst:>8.3f} "
            f"{threshold:>8.3g} {margin:>6.1f}x"
        )
    if wrong:
        print("\nwhat wrong exports of the same weeks measure (each must exceed its default)")
        print(
            f"{'wrong export':36} {'check.metric':44} {'weeks':>5} {'min':>8} {'median':>8} {'max':>8} "
            f"{'default':>8}"
        )
        for export, values in wrong.items():
            key = WRONG_EXPORTS[export][1]
            key = key if "." in key else _qualified(key)
            print(
                f"{export:36} {key:44} {len(values):>5} {min(values):>8.3f} "
                f"{statistics.median(values):>8.3f} {max(values):>8.3f} {THRESHOLDS[key]:>8.3g}"
            )


if __name__ == "__main__":
    main()
