"""Wall time and peak RSS of `ovni run` (full and weekly incremental) and of the feature build against a
pandas panel baseline, at 1× (the real SodAI data), 10× and 100× (synthetic, 15,000 / 150,000 customers).

Not a test: 100× takes a while. Per scale, in a fresh OVNI_HOME:

1. land every week but the last and time a full `ovni run` (ingest, clean, features, monitoring, first
   training with its hyperparameter search, predictions, snapshot);
2. land the last week and time `ovni run` again (the weekly incremental run);
3. on a copy of the resulting warehouse, time the DuckDB feature build (`weekly_purchases` + `pair_features`)
   and a pandas panel doing the pair-level part of the same work (weekly resample, fill every pair × week,
   groupby-shift lags for the windows, label by a lead), plus the very same panel work in DuckDB SQL; print
   pandas time / DuckDB time for the same work (the speed-up) and against OVNI's whole feature build (which
   does more: customer- and product-level windows, discovery candidates). The pandas panel is skipped (with
   its estimated size) when it cannot fit in memory.

Every measured step runs in its own child process; its peak RSS comes from `os.wait4`.

    .venv/bin/python benchmarks/pipeline.py [--scales 1,10,100] [--workdir DIR] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
OVNI = Path(sys.executable).with_name("ovni")
SODAI_DIR = REPO.parent / "shared" / "data" / "sodai"
REAL_CUSTOMERS = 1500
WINDOWS = [2, 4, 8, 12, 26]
# bytes per panel row: keys, week, units, orders, bought, 25 lags, windows, totals, label (8 bytes each),
# times 2 for the temporaries pandas makes while shifting and summing.
PANEL_BYTES_PER_ROW = 8 * 40 * 2


@dataclass
class Measure:
    """Wall time, CPU time (user + system, all threads) and peak RSS of one child process, and the 1-minute
    load average when it ended (the machine is shared: CPU time is the figure least bent by other load)."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    load_1m: float


@dataclass
class ScaleResult:
    scale: int
    customers: int
    transaction_rows: int
    weeks: int
    full_run: Measure
    incremental_run: Measure
    duckdb_features: Measure
    duckdb_panel: Measure
    pair_feature_rows: int
    pandas_panel: Measure | None
    panel_rows: int
    pandas_skipped: str | None = None

    @property
    def speedup(self) -> float | None:
        """pandas panel time / DuckDB time for the same panel work."""
        if self.pandas_panel is None:
            return None
        return self.pandas_panel.wall_s / self.duckdb_panel.wall_s


def measured(command: list[str], env: dict[str, str] | None = None, label: str = "") -> Measure:
    """Run `command` as a child process; its wall time and peak RSS (fails loudly on a non-zero exit)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{label or command[0]} failed (exit {process.returncode}):\n{output[-3000:]}")
    return Measure(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        load_1m=os.getloadavg()[0],
    )


def describe(measure: Measure) -> str:
    return (
        f"{measure.wall_s:.1f} s wall, {measure.cpu_s:.1f} s CPU, peak RSS {measure.peak_rss_mib:,.0f} MiB "
        f"(load {measure.load_1m:.1f})"
    )


# --- data ------------------------------------------------------------------------------------------------


def source_tables(scale: int, folder: Path, seed: int) -> Path:
    """The three source tables of a scale: the real files at 1×, `ovni generate` output otherwise."""
    if scale == 1:
        return SODAI_DIR
    out = folder / "source"
    customers = REAL_CUSTOMERS * scale
    measure = measured(
        [str(OVNI), "generate", "--out", str(out), "--customers", str(customers), "--seed", str(seed)],
        label="ovni generate",
    )
    print(f"  generated {customers:,} customers in {measure.wall_s:.0f} s", flush=True)
    return out


def split_last_week(source: Path, landing: Path, later: Path) -> tuple[int, int]:
    """Land customers, products and every transaction week but the last; put the last week aside in `later`.
    Returns (transaction rows, weeks)."""
    landing.mkdir(parents=True, exist_ok=True)
    later.mkdir(parents=True, exist_ok=True)
    for name in ("clientes.parquet", "productos.parquet"):
        shutil.copy(source / name, landing / name)
    con = duckdb.connect()
    transactions = source / "transacciones.parquet"
    rows, weeks, last_week = con.execute(
        f"SELECT count(*), count(DISTINCT date_trunc('week', purchase_date)), max(date_trunc('week', "
        f"purchase_date)) FROM read_parquet('{transactions}')"
    ).fetchone()
    for target, condition in (
        (landing / "transacciones_base.parquet", "<"),
        (later / "transacciones_last_week.parquet", ">="),
    ):
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{transactions}') WHERE purchase_date {condition} "
            f"TIMESTAMP '{last_week}') TO '{target}' (FORMAT parquet)"
        )
    return rows, weeks


# --- feature builds (run as child processes of this script) -----------------------------------------------


def build_features_duckdb(warehouse: Path) -> None:
    from ovni_assets.features.pair_features import build_pair_features, build_weekly_purchases

    con = duckdb.connect(str(warehouse))
    build_weekly_purchases(con)
    stats = build_pair_features(con)
    print(json.dumps({"rows": stats.rows}))


PANEL_SQL = """
CREATE OR REPLACE TABLE panel_features AS
WITH weekly AS (
    SELECT customer_id, product_id, date_trunc('week', purchase_date) AS week_start,
        sum(items) AS units, count(DISTINCT order_id) AS orders
    FROM transactions GROUP BY ALL
), weeks AS (
    SELECT CAST(range AS DATE) AS week_start
    FROM range((SELECT min(week_start) FROM weekly), (SELECT max(week_start) FROM weekly) + INTERVAL 7 DAY,
        INTERVAL 7 DAY)
), panel AS (
    SELECT p.customer_id, p.product_id, w.week_start, coalesce(units, 0) AS units,
        coalesce(orders, 0) AS orders, (units IS NOT NULL)::INTEGER AS bought
    FROM (SELECT DISTINCT customer_id, product_id FROM weekly) p CROSS JOIN weeks w
    LEFT JOIN weekly USING (customer_id, product_id, week_start)
), windows AS (
    SELECT customer_id, product_id, week_start, units, orders, bought,
        sum(bought) OVER (w ROWS 1 PRECEDING) AS bought_w2,
        sum(bought) OVER (w ROWS 3 PRECEDING) AS bought_w4,
        sum(bought) OVER (w ROWS 7 PRECEDING) AS bought_w8,
        sum(bought) OVER (w ROWS 11 PRECEDING) AS bought_w12,
        sum(bought) OVER (w ROWS 25 PRECEDING) AS bought_w26,
        sum(units) OVER (w ROWS 3 PRECEDING) AS units_w4, sum(units) OVER (w ROWS 11 PRECEDING) AS units_w12,
        sum(orders) OVER (w ROWS 3 PRECEDING) AS orders_w4,
        sum(bought) OVER (w ROWS UNBOUNDED PRECEDING) AS bought_total,
        date_diff('week', max(CASE WHEN bought = 1 THEN week_start END)
            OVER (w ROWS UNBOUNDED PRECEDING), week_start) AS weeks_since_last,
        lead(bought) OVER w AS label
    FROM panel WINDOW w AS (PARTITION BY customer_id, product_id ORDER BY week_start)
)
SELECT * FROM windows WHERE bought_total > 0
"""


def build_panel_duckdb(warehouse: Path) -> None:
    """The pandas panel's exact work (same grid, same windows) in DuckDB SQL: the like-for-like comparison."""
    con = duckdb.connect(str(warehouse))
    con.execute(PANEL_SQL)
    print(json.dumps({"rows": con.execute("SELECT count(*) FROM panel_features").fetchone()[0]}))


def build_features_pandas(warehouse: Path) -> None:
    """The panel baseline: pair-level windows of `pair_features` the way a pandas notebook computes them."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = con.execute(
            "SELECT customer_id, product_id, order_id, purchase_date, items FROM transactions"
        ).df()
    lines["purchase_date"] = pd.to_datetime(lines["purchase_date"])
    weekly = lines.groupby(
        [
            "customer_id",
            "product_id",
            pd.Grouper(key="purchase_date", freq="W-MON", closed="left", label="left"),
        ]
    ).agg(units=("items", "sum"), orders=("order_id", "nunique"))
    weeks = pd.date_range(
        weekly.index.get_level_values(2).min(), weekly.index.get_level_values(2).max(), freq="7D"
    )
    pairs = weekly.index.droplevel(2).unique()
    grid = pd.MultiIndex.from_arrays(
        [
            np.repeat(pairs.get_level_values(0), len(weeks)),
            np.repeat(pairs.get_level_values(1), len(weeks)),
            np.tile(weeks, len(pairs)),
        ],
        names=["customer_id", "product_id", "week_start"],
    )
    panel = weekly.reindex(grid, fill_value=0)
    panel["bought"] = (panel["units"] > 0).astype("int8")
    by_pair = panel.groupby(level=["customer_id", "product_id"], sort=False)
    lags = {k: by_pair["bought"].shift(k).fillna(0) for k in range(1, max(WINDOWS))}
    for window in WINDOWS:
        panel[f"bought_w{window}"] = panel["bought"] + sum(lags[k] for k in range(1, window))
    unit_lags = {k: by_pair["units"].shift(k).fillna(0) for k in range(1, 12)}
    panel["units_w4"] = panel["units"] + sum(unit_lags[k] for k in range(1, 4))
    panel["units_w12"] = panel["units"] + sum(unit_lags[k] for k in range(1, 12))
    panel["orders_w4"] = panel["orders"] + sum(by_pair["orders"].shift(k).fillna(0) for k in range(1, 4))
    panel["bought_total"] = by_pair["bought"].cumsum()
    week_index = pd.Series(panel.index.get_level_values("week_start").factorize()[0], index=panel.index)
    last_bought = week_index.where(panel["bought"] == 1).groupby(level=["customer_id", "product_id"]).ffill()
    panel["weeks_since_last"] = week_index - last_bought
    panel["label"] = by_pair["bought"].shift(-1)
    features = panel[panel["bought_total"] > 0]  # from the pair's first purchase, as in pair_features
    print(json.dumps({"rows": len(features)}))


def panel_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        pairs, weeks = con.execute(
            "SELECT count(DISTINCT (customer_id, product_id)), count(DISTINCT week_start) FROM transactions"
        ).fetchone()
    return pairs * weeks


# --- one scale ---------------------------------------------------------------------------------------------


def ovni_env(home: Path, hpo_seconds: float | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["OVNI_HOME"] = str(home)
    if hpo_seconds is not None:
        env["OVNI_HPO_SECONDS"] = str(hpo_seconds)
    return env


def run_scale(
    scale: int, workdir: Path, seed: int, hpo_seconds: float | None, pandas_budget: float
) -> ScaleResult:
    folder = workdir / f"scale_{scale}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"[{scale}×] preparing data in {folder}", flush=True)
    source = source_tables(scale, folder, seed)
    home = folder / "ovni_home"
    later = folder / "next_week"
    rows, weeks = split_last_week(source, home / "landing", later)
    env = ovni_env(home, hpo_seconds)

    full = measured([str(OVNI), "run"], env=env, label=f"ovni run (full, {scale}×)")
    print(f"  full run: {describe(full)}", flush=True)
    for path in later.iterdir():
        shutil.move(path, home / "landing" / path.name)
    incremental = measured([str(OVNI), "run"], env=env, label=f"ovni run (incremental, {scale}×)")
    print(f"  incremental run: {describe(incremental)}", flush=True)

    copy = folder / "features_bench.duckdb"
    shutil.copy(home / "warehouse.duckdb", copy)
    script = str(Path(__file__).resolve())
    duck = measured([sys.executable, script, "--feature-build", "duckdb", str(copy)], label="duckdb features")
    with duckdb.connect(str(copy), read_only=True) as con:
        feature_rows = con.execute("SELECT count(*) FROM pair_features").fetchone()[0]
    print(f"  DuckDB feature build: {describe(duck)}", flush=True)
    duck_panel = measured(
        [sys.executable, script, "--feature-build", "panel", str(copy)], label="duckdb panel"
    )
    print(
        f"  DuckDB panel (the pandas baseline's work in SQL): {describe(duck_panel)}",
        flush=True,
    )

    grid_rows = panel_rows(copy)
    estimate = grid_rows * PANEL_BYTES_PER_ROW
    pandas_measure, skipped = None, None
    if estimate > pandas_budget:
        skipped = (
            f"panel of {grid_rows:,} pair-weeks needs about {estimate / 2**30:.0f} GiB "
            f"(> budget {pandas_budget / 2**30:.0f} GiB)"
        )
        print(f"  pandas panel skipped: {skipped}", flush=True)
    else:
        pandas_measure = measured(
            [sys.executable, script, "--feature-build", "pandas", str(copy)], label="pandas panel"
        )
        print(
            f"  pandas panel: {describe(pandas_measure)} → same work in DuckDB "
            f"{pandas_measure.wall_s / duck_panel.wall_s:.1f}× faster; OVNI's whole feature build "
            f"{pandas_measure.wall_s / duck.wall_s:.1f}× faster",
            flush=True,
        )
    copy.unlink()
    return ScaleResult(
        scale=scale,
        customers=REAL_CUSTOMERS * scale if scale > 1 else _customers(source),
        transaction_rows=rows,
        weeks=weeks,
        full_run=full,
        incremental_run=incremental,
        duckdb_features=duck,
        duckdb_panel=duck_panel,
        pair_feature_rows=feature_rows,
        pandas_panel=pandas_measure,
        panel_rows=grid_rows,
        pandas_skipped=skipped,
    )


def _customers(source: Path) -> int:
    customers = source / "clientes.parquet"
    with duckdb.connect() as con:
        return con.execute(f"SELECT count(*) FROM read_parquet('{customers}')").fetchone()[0]


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, pandas {pd.__version__}, "
        f"{platform.system()} {platform.release()}"
    )


def print_summary(results: list[ScaleResult]) -> None:
    print(f"\nmachine: {machine()}")
    print("wall s / CPU s / peak RSS MiB per step; speed-up = pandas panel wall / DuckDB panel wall")
    print(
        f"{'scale':>5} {'tx rows':>11} {'full run':>22} {'incremental run':>22} {'OVNI features':>22} "
        f"{'panel in DuckDB':>22} {'pandas panel':>22} {'speed-up':>8}"
    )
    for r in results:

        def cell(measure: Measure | None) -> str:
            if measure is None:
                return f"{'skipped':>22}"
            return f"{measure.wall_s:>7.1f} /{measure.cpu_s:>6.0f} /{measure.peak_rss_mib:>6,.0f}"

        speedup = f"{r.speedup:>7.1f}×" if r.speedup else f"{'-':>8}"
        print(
            f"{r.scale:>4}× {r.transaction_rows:>11,} {cell(r.full_run)} {cell(r.incremental_run)} "
            f"{cell(r.duckdb_features)} {cell(r.duckdb_panel)} {cell(r.pandas_panel)} {speedup}"
        )
        if r.pandas_skipped:
            print(f"      pandas panel at {r.scale}×: {r.pandas_skipped}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100", help="Comma-separated: 1 (real data), 10, 100.")
    parser.add_argument(
        "--workdir", type=Path, help="Where the per-scale OVNI_HOMEs go (default: a temp dir)."
    )
    parser.add_argument("--seed", type=int, default=7, help="Seed of the synthetic data.")
    parser.add_argument(
        "--hpo-seconds", type=float, help="OVNI_HPO_SECONDS for the runs (default: settings)."
    )
    parser.add_argument(
        "--pandas-budget-gib", type=float, default=0.6 * psutil.virtual_memory().total / 2**30,
        help="Skip the pandas panel when its estimated size exceeds this (default: 60%% of RAM).",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="Also write the results as JSON here.")
    parser.add_argument("--keep", action="store_true", help="Keep the work folders.")
    parser.add_argument("--feature-build", nargs=2, metavar=("ENGINE", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.feature_build:
        engine, warehouse = args.feature_build
        builders = {
            "duckdb": build_features_duckdb,
            "panel": build_panel_duckdb,
            "pandas": build_features_pandas,
        }
        builders[engine](Path(warehouse))
        return

    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    if 1 in scales and not (SODAI_DIR / "transacciones.parquet").exists():
        sys.exit(f"1× needs the real data at {SODAI_DIR}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ovni-bench-"))
    print(f"machine: {machine()}\nworkdir: {workdir}", flush=True)
    results = []
    for scale in scales:
        results.append(run_scale(scale, workdir, args.seed, args.hpo_seconds, args.pandas_budget_gib * 2**30))
        if not args.keep:
            shutil.rmtree(workdir / f"scale_{scale}", ignore_errors=True)
    print_summary(results)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "results": [{**asdict(r), "speedup": r.speedup} for r in results]},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
