"""Wall time, CPU time and peak RSS of `ovni run` (full and weekly incremental) and of the feature build
against a pandas panel baseline computing the same table, at 1× (the real SodAI data), 10× and 100×
(synthetic, 15,000 / 150,000 customers).

Not a test: 100× takes a while. Per scale, in a fresh OVNI_HOME:

1. land every week but the last and time a full `ovni run` (ingest, clean, features, monitoring, first
   training with its hyperparameter search, predictions, snapshot);
2. land the last week and time `ovni run` again (the weekly incremental run), `--repeat` times from a copy
   of the home as the full run left it;
3. on a copy of the resulting warehouse, time OVNI's feature build (`weekly_purchases` + `pair_features` in
   DuckDB SQL) and `pandas_pair_features`, the same `pair_features` table computed the way a pandas user
   would (weekly resample, a dense pair × week panel, groupby-shift / cumsum windows, merges for the
   customer-, product- and customer-type-level frames, the same candidates and discovery rows), each
   `--repeat` times; the pandas build is skipped (with its estimated size) when it cannot fit in memory.

Every measured step runs in its own child process (own process group): wall time, CPU time (user + system,
all threads) and peak RSS (`os.wait4`), the 1-minute load average at start and end. A step whose process
tree passes `--rss-limit-gib` is killed (the machine is shared) and reported as such. The Dagster steps of
each `ovni run` (from the event log of the home's instance) are printed with their durations.

`--check` verifies that the pandas baseline computes the same table as the SQL: on a fresh warehouse built
from a source folder (default: the real data), it runs both builds and compares keys (EXCEPT both ways) and
every column (numbers within a relative 1e-9, everything else exactly, NULLs equal).

    .venv/bin/python benchmarks/pipeline.py [--scales 1,10,100] [--repeat N] [--workdir DIR] [--json FILE]
    .venv/bin/python benchmarks/pipeline.py --check [SOURCE_DIR]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
OVNI = Path(sys.executable).with_name("ovni")
SODAI_DIR = REPO.parent / "shared" / "data" / "sodai"
REAL_CUSTOMERS = 1500
# Peak RSS of the pandas build: a base plus bytes per pair-week of its panel (measured at 1× and 10×,
# rounded up); the estimate decides whether it runs at all.
PANDAS_BASE_BYTES = 0.4 * 2**30
PANDAS_BYTES_PER_PANEL_ROW = 1700


@dataclass
class Measure:
    """One child process: wall time, CPU time, peak RSS, 1-minute load average at start and end; `failed`
    says why when it exited non-zero or was killed over the RSS limit."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    load_start: float
    load_end: float
    failed: str | None = None
    output: str = field(default="", repr=False)
    rss_samples: list[tuple[float, int]] = field(default_factory=list, repr=False)  # (epoch s, bytes)


@dataclass
class Repeated:
    """The same step measured several times; medians are quoted."""

    runs: list[Measure]

    @property
    def ok(self) -> bool:
        return all(m.failed is None for m in self.runs)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(m, attribute) for m in self.runs)


@dataclass
class ScaleResult:
    scale: int
    customers: int
    transaction_rows: int
    weeks: int
    full_run: Measure | None = None
    full_run_steps: list[dict] = field(default_factory=list)
    incremental_run: Repeated | None = None
    incremental_run_steps: list[dict] = field(default_factory=list)
    duckdb_features: Repeated | None = None
    incremental_features: Repeated | None = None
    incremental_features_note: str | None = None
    pair_feature_rows: int | None = None
    panel_rows: int | None = None
    pandas_features: Repeated | None = None
    pandas_skipped: str | None = None
    every_week_panel_rows: int | None = None
    pandas_every_week_features: Repeated | None = None
    pandas_every_week_skipped: str | None = None

    def _speedup(self, pandas: Repeated | None) -> float | None:
        if not (pandas and pandas.ok and self.duckdb_features and self.duckdb_features.ok):
            return None
        return pandas.median("wall_s") / self.duckdb_features.median("wall_s")

    @property
    def speedup(self) -> float | None:
        """pandas build wall (panel from each pair's first purchase) / DuckDB build wall, medians."""
        return self._speedup(self.pandas_features)

    @property
    def every_week_speedup(self) -> float | None:
        """The same against the dense panel: every pair × every week."""
        return self._speedup(self.pandas_every_week_features)


def measured(
    command: list[str], env: dict[str, str] | None, log: Path, rss_limit_bytes: float | None = None
) -> Measure:
    """Run `command` in its own process group, output to `log`; kill the group when its RSS passes the
    limit."""
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    killed: list[str] = []
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def watch() -> None:
        root = psutil.Process(process.pid)
        while not done.wait(1.0):
            try:
                tree = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree)
            except psutil.NoSuchProcess:
                continue
            samples.append((time.time(), rss))
            if rss_limit_bytes and rss > rss_limit_bytes:
                killed.append(
                    f"killed at {rss / 2**30:.1f} GiB RSS after {time.perf_counter() - started:.0f} s"
                )
                os.killpg(process.pid, signal.SIGKILL)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    watcher.join()
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    output = log.read_text(errors="replace")
    failed = killed[0] if killed else (f"exit {code}" if code != 0 else None)
    return Measure(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        load_start=load_start,
        load_end=os.getloadavg()[0],
        failed=failed,
        output=output,
        rss_samples=samples,
    )


def describe(measure: Measure) -> str:
    text = (
        f"{measure.wall_s:.1f} s wall, {measure.cpu_s:.1f} s CPU, peak RSS {measure.peak_rss_mib:,.0f} MiB "
        f"(load {measure.load_start:.1f} → {measure.load_end:.1f})"
    )
    return text if measure.failed is None else f"FAILED ({measure.failed}) after {text}"


def describe_repeated(repeated: Repeated) -> str:
    if len(repeated.runs) == 1:
        return describe(repeated.runs[0])
    walls = ", ".join(f"{m.wall_s:.1f}" for m in repeated.runs)
    return (
        f"median {repeated.median('wall_s'):.1f} s wall ({walls}), {repeated.median('cpu_s'):.1f} s CPU, "
        f"peak RSS {repeated.median('peak_rss_mib'):,.0f} MiB (load {repeated.median('load_end'):.1f})"
        + ("" if repeated.ok else " — " + "; ".join(m.failed for m in repeated.runs if m.failed))
    )


# --- data ---------------------------------------------------------------------------------------------------


def source_tables(scale: int, folder: Path, seed: int) -> Path:
    """The three source tables of a scale: the real files at 1×, `ovni generate` output otherwise."""
    if scale == 1:
        return SODAI_DIR
    out = folder / "source"
    customers = REAL_CUSTOMERS * scale
    command = [str(OVNI), "generate", "--out", str(out), "--customers", str(customers), "--seed", str(seed)]
    measure = measured(command, None, folder / "generate.log")
    if measure.failed:
        sys.exit(f"ovni generate failed ({measure.failed}):\n{measure.output[-3000:]}")
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
    con.execute("SET enable_progress_bar = false")
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


# --- the pandas baseline ------------------------------------------------------------------------------------

WEEK = pd.Timedelta(days=7)
WINDOW_COLUMNS = [
    "bought_w1", "bought_w2", "bought_w4", "bought_w8", "bought_w12", "bought_w26", "bought_total",
    "units_w4", "units_w12", "orders_w4", "bought_lag1", "bought_lag2", "bought_lag3",
]  # fmt: skip


def dense_grid(first_week: pd.Series, n_weeks: int) -> pd.DataFrame:
    """One row per key and week index `wi`, from the key's first week (`first_week`, indexed by the key
    columns) to the newest week; sorted by key, then week."""
    lengths = n_weeks - first_week.to_numpy()
    grid = first_week.index.repeat(lengths).to_frame(index=False)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    grid["wi"] = np.repeat(first_week.to_numpy(), lengths) + offsets
    return grid


def rolling_sum(values: pd.Series, by: pd.Series, window: int) -> pd.Series:
    """Sum over the current and `window - 1` previous rows of each group (rows sorted by group, then week)."""
    total = values.groupby(by, sort=False).cumsum()
    return total - total.groupby(by, sort=False).shift(window, fill_value=0)


def pandas_pair_features(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    history_weeks: int,
    discovery_top_k: int,
    every_week: bool = False,
) -> pd.DataFrame:
    """`pair_features` computed in pandas: same rows, same columns, same values as the SQL build.

    `transactions` has customer_id, product_id, order_id, purchase_date (datetime64), items. Weeks are
    handled as an integer index `wi` from the first week; every window is over a dense grid that starts at
    the key's first purchase, as in the SQL. With `every_week` the pair panel has every pair × every week,
    the baseline as first specified (the weeks before a pair's first purchase are zeros: same windows).
    """
    tx = transactions
    tx["week_start"] = tx["purchase_date"] - pd.to_timedelta(tx["purchase_date"].dt.dayofweek, unit="D")
    weekly = (
        tx.groupby(["customer_id", "product_id", "week_start"])
        .agg(
            units=("items", "sum"),
            orders=("order_id", "nunique"),
            purchase_days=("purchase_date", "nunique"),
            first_date=("purchase_date", "min"),
            last_date=("purchase_date", "max"),
        )
        .reset_index()
    )
    first_week = weekly["week_start"].min()
    n_weeks = (weekly["week_start"].max() - first_week) // WEEK + 1
    weekly["wi"] = (weekly["week_start"] - first_week) // WEEK

    # pair level: the dense pair × week panel from the pair's first purchase
    pairs = weekly.groupby(["customer_id", "product_id"])["wi"].min().rename("first_wi")
    panel_start = pairs * 0 if every_week else pairs
    panel = dense_grid(panel_start, n_weeks).merge(
        weekly.drop(columns="week_start"), on=["customer_id", "product_id", "wi"], how="left", sort=False
    )
    panel["bought"] = panel["units"].notna().astype("int64")
    panel[["units", "orders", "purchase_days"]] = panel[["units", "orders", "purchase_days"]].fillna(0)
    pair = panel.groupby(["customer_id", "product_id"], sort=False).ngroup()
    by_pair = panel.groupby(pair, sort=False)
    panel["first_wi"] = np.repeat(pairs.to_numpy(), n_weeks - panel_start.to_numpy())
    panel["last_bought_wi"] = panel["wi"].where(panel["bought"] == 1).groupby(pair, sort=False).ffill()
    panel["last_date"] = by_pair["last_date"].ffill()
    panel["first_date"] = by_pair["first_date"].transform("first")
    panel["days_total"] = by_pair["purchase_days"].cumsum()
    for lag in (1, 2, 3):
        panel[f"bought_lag{lag}"] = by_pair["bought"].shift(lag, fill_value=0)
    panel["bought_w1"] = panel["bought"]
    for window in (2, 4, 8, 12, 26):
        panel[f"bought_w{window}"] = rolling_sum(panel["bought"], pair, window)
    panel["bought_total"] = by_pair["bought"].cumsum()
    panel["units_w4"] = rolling_sum(panel["units"], pair, 4)
    panel["units_w12"] = rolling_sum(panel["units"], pair, 12)
    panel["orders_w4"] = rolling_sum(panel["orders"], pair, 4)
    panel["units_total"] = by_pair["units"].cumsum()
    panel["label"] = by_pair["bought"].shift(-1)
    panel["weeks_since_last"] = panel["wi"] - panel["last_bought_wi"]

    # customer-type level, pair part: customers of the type who bought the product in the last 8 weeks
    types = customers.set_index("customer_id")["customer_type"]
    type_buyers = (
        (panel["bought_w8"] > 0)
        .groupby(
            [panel["customer_id"].map(types).rename("customer_type"), panel["product_id"], panel["wi"]],
            observed=True,
        )
        .sum()
        .rename("buyers")
        .reset_index()
    )

    history_columns = [
        "customer_id", "product_id", "wi", "first_wi", "last_bought_wi", "first_date", "last_date",
        "days_total", "units_total", "weeks_since_last", *WINDOW_COLUMNS, "label",
    ]  # fmt: skip
    history = panel.loc[panel["weeks_since_last"] < history_weeks, history_columns]
    del panel, by_pair, pair
    week_end = first_week + history["wi"] * WEEK + pd.Timedelta(days=6)
    history["weeks_since_first"] = history["wi"] - history["first_wi"]
    history["mean_units"] = history["units_total"] / history["bought_total"]
    history["days_since_last"] = (week_end - history["last_date"]).dt.days
    day_span = (history["last_date"] - history["first_date"]).dt.days
    history["mean_gap_days"] = (day_span / (history["days_total"] - 1)).where(history["days_total"] > 1)
    week_span = history["last_bought_wi"] - history["first_wi"]
    history["mean_gap_weeks"] = (week_span / (history["bought_total"] - 1)).where(history["bought_total"] > 1)
    history["is_discovery"] = False
    history = history.drop(
        columns=["first_wi", "last_bought_wi", "first_date", "last_date", "days_total", "units_total"]
    )

    # customer level: dense customer × week grid from the customer's first purchase
    customer_weeks = weekly.groupby(["customer_id", "wi"]).agg(
        products=("product_id", "size"), units=("units", "sum"), last_date=("last_date", "max")
    )
    tx["wi"] = (tx["week_start"] - first_week) // WEEK
    customer_weeks["order_days"] = tx.groupby(["customer_id", "wi"])["purchase_date"].nunique()
    new_pairs = (
        pairs.reset_index().groupby(["customer_id", "first_wi"]).size().rename_axis(["customer_id", "wi"])
    )
    customer_weeks["new_products"] = new_pairs.reindex(customer_weeks.index, fill_value=0)
    customer_first = customer_weeks.reset_index().groupby("customer_id")["wi"].min()
    cf = dense_grid(customer_first, n_weeks).merge(
        customer_weeks.reset_index(), on=["customer_id", "wi"], how="left", sort=False
    )
    cf["active"] = cf["products"].notna().astype("int64")
    counts = ["products", "units", "order_days", "new_products"]
    cf[counts] = cf[counts].fillna(0)
    customer = cf["customer_id"]
    by_customer = cf.groupby(customer, sort=False)
    cf["cust_first_wi"] = np.repeat(customer_first.to_numpy(), n_weeks - customer_first.to_numpy())
    cf["cust_active_w1"] = cf["active"]
    for window in (4, 8, 12):
        cf[f"cust_active_w{window}"] = rolling_sum(cf["active"], customer, window)
    cf["cust_active_total"] = by_customer["active"].cumsum()
    last_active = cf["wi"].where(cf["active"] == 1).groupby(customer, sort=False).ffill()
    cf["cust_weeks_since_last"] = cf["wi"] - last_active
    cf["cust_products_w1"] = cf["products"]
    cf["cust_products_w4"] = rolling_sum(cf["products"], customer, 4)
    cf["cust_units_w4"] = rolling_sum(cf["units"], customer, 4)
    cf["cust_products_total"] = by_customer["new_products"].cumsum()
    cust_week_end = first_week + cf["wi"] * WEEK + pd.Timedelta(days=6)
    cf["cust_days_since_last"] = (cust_week_end - by_customer["last_date"].ffill()).dt.days
    weeks_known = cf["wi"] - cf["cust_first_wi"] + 1
    cf["cust_order_days_per_week"] = by_customer["order_days"].cumsum() / weeks_known
    cf = cf.drop(columns=["products", "units", "last_date", "order_days", "new_products", "active"])
    customer_attributes = ["customer_type", "num_deliver_per_week", "latitude", "longitude"]
    cf = cf.merge(customers[["customer_id", *customer_attributes]], on="customer_id", how="left")

    # product level: customers per week, their 4-week mean and its trend against the 12-week mean
    product_weeks = weekly.groupby(["product_id", "wi"]).size().rename("customers")
    product_first = product_weeks.reset_index().groupby("product_id")["wi"].min()
    pf = dense_grid(product_first, n_weeks).merge(
        product_weeks.reset_index(), on=["product_id", "wi"], how="left", sort=False
    )
    pf["prod_customers_w1"] = pf.pop("customers").fillna(0)
    by_product = pf.groupby("product_id", sort=False)["prod_customers_w1"]
    pf["prod_customers_w4"] = by_product.rolling(4, min_periods=1).mean().to_numpy()
    pf["prod_trend"] = pf["prod_customers_w4"] / (1 + by_product.rolling(12, min_periods=1).mean().to_numpy())

    # customer-type level: the share of the type's active customers, and the type's top products
    type_active = (
        (cf["cust_active_w4"] > 0)
        .groupby([cf["customer_type"], cf["wi"]], observed=True)
        .sum()
        .rename("active")
    )
    type_share = type_buyers.merge(type_active.reset_index(), on=["customer_type", "wi"])
    type_share["type_share_w8"] = type_share.pop("buyers") / type_share.pop("active").clip(lower=1)
    type_top = (
        type_share.sort_values(
            ["customer_type", "wi", "type_share_w8", "product_id"], ascending=[True, True, False, True]
        )
        .groupby(["customer_type", "wi"], observed=True)
        .head(discovery_top_k)
    )

    # discovery candidates: the type's top products that an active customer never bought up to the week
    active = cf.loc[cf["cust_active_w4"] > 0, ["customer_id", "wi", "customer_type"]]
    discovery = active.merge(type_top[["customer_type", "wi", "product_id"]], on=["customer_type", "wi"])
    discovery = discovery.merge(pairs.reset_index(), on=["customer_id", "product_id"], how="left")
    never_bought = ~(discovery["first_wi"] <= discovery["wi"])
    discovery = discovery.loc[never_bought, ["customer_id", "product_id", "wi"]]
    bought_next = weekly[["customer_id", "product_id"]].assign(wi=weekly["wi"] - 1, bought_next=1.0)
    discovery = discovery.merge(bought_next, on=["customer_id", "product_id", "wi"], how="left")
    discovery["label"] = discovery.pop("bought_next").fillna(0).where(discovery["wi"] < n_weeks - 1)
    discovery = discovery.assign(is_discovery=True, **dict.fromkeys(WINDOW_COLUMNS, 0))

    # every candidate with its customer, product and customer-type features and attributes (products' rows
    # of `pf` exist for every candidate's week: the product was bought by then)
    rows = pd.concat([history, discovery], ignore_index=True)
    del history, discovery
    rows = rows.merge(cf, on=["customer_id", "wi"])
    product_attributes = ["size", "brand", "category", "sub_category", "segment", "package"]
    pf = pf.merge(products[["product_id", *product_attributes]], on="product_id", how="left")
    rows = rows.merge(pf, on=["product_id", "wi"], how="left")
    rows = rows.merge(type_share, on=["customer_type", "product_id", "wi"], how="left")
    for column in ("prod_customers_w1", "prod_customers_w4", "prod_trend", "type_share_w8"):
        rows[column] = rows[column].fillna(0)
    rows["week_start"] = first_week + rows["wi"] * WEEK
    rows["target_week_start"] = rows["week_start"] + WEEK
    rows["gap_ratio"] = rows["weeks_since_last"] / rows["mean_gap_weeks"].replace(0, np.nan)
    rows["day_gap_ratio"] = rows["days_since_last"] / rows["mean_gap_days"].replace(0, np.nan)
    rows["pair_share_w8"] = rows["bought_w8"] / rows["cust_active_w8"].clip(lower=1)
    rows["pair_share_total"] = rows["bought_total"] / rows["cust_active_total"].clip(lower=1)
    rows["cust_activity_rate"] = rows["cust_active_total"] / (rows["wi"] - rows["cust_first_wi"] + 1)
    rows["is_discovery"] = np.where(rows["is_discovery"], "yes", "no")
    rows["label"] = rows["label"].astype("boolean")
    return rows.drop(columns=["wi", "cust_first_wi", "cust_active_w8", "cust_active_total"])


def pandas_features_from_warehouse(warehouse: Path, every_week: bool = False) -> pd.DataFrame:
    """Read the clean tables out of the warehouse (as a notebook would: the columns it needs, text as
    categories) and build the features in pandas."""
    from ovni_assets.features.pair_features import DISCOVERY_TOP_K, HISTORY_WEEKS

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        transactions = con.execute(
            "SELECT customer_id, product_id, order_id, purchase_date, items FROM transactions"
        ).df()
        customers = con.execute(
            "SELECT customer_id, customer_type, num_deliver_per_week, latitude, longitude FROM customers"
        ).df()
        products = con.execute(
            "SELECT product_id, size, brand, category, sub_category, segment, package FROM products"
        ).df()
    transactions["purchase_date"] = pd.to_datetime(transactions["purchase_date"])
    customers["customer_type"] = customers["customer_type"].astype("category")
    for column in ("brand", "category", "sub_category", "segment", "package"):
        products[column] = products[column].astype("category")
    return pandas_pair_features(transactions, customers, products, HISTORY_WEEKS, DISCOVERY_TOP_K, every_week)


# --- feature builds (child processes of this script) --------------------------------------------------------


def open_warehouse(warehouse: Path):
    """The warehouse opened as OVNI opens it, with the settings of the measured commit's `connect`."""
    from ovni_assets.settings import get_settings
    from ovni_assets.warehouse import connect

    if "settings" in inspect.signature(connect).parameters:
        return connect(warehouse, get_settings())
    return connect(warehouse)


def build_features_duckdb(warehouse: Path) -> None:
    """OVNI's full feature build, on a connection opened as OVNI opens its warehouse (its settings)."""
    from ovni_assets.features.pair_features import build_pair_features, build_weekly_purchases

    con = open_warehouse(warehouse)
    build_weekly_purchases(con)
    print(json.dumps({"rows": build_pair_features(con).rows}))


def build_features_incremental(warehouse: Path) -> None:
    """The feature assets' weekly work: only the `weekly_purchases` (when the commit can) and
    `pair_features` weeks that the new transactions can change (the warehouse holds the previous build
    and its build state)."""
    from ovni_assets.features.pair_features import build_pair_features, build_weekly_purchases

    con = open_warehouse(warehouse)
    if "incremental" in inspect.signature(build_weekly_purchases).parameters:
        build_weekly_purchases(con, incremental=True)
    else:
        build_weekly_purchases(con)
    stats = build_pair_features(con, incremental=True)
    print(json.dumps({"rows": stats.rows, "mode": stats.mode, "weeks_recomputed": stats.weeks_recomputed}))


def has_incremental_build() -> bool:
    from ovni_assets.features.pair_features import build_pair_features

    return "incremental" in inspect.signature(build_pair_features).parameters


def land_new_week(previous: Path, current: Path) -> None:
    """Give the warehouse `previous` (as the last run left it) the clean `transactions` of `current` (a week
    more; a weekly transactions file changes neither customers nor products)."""
    with duckdb.connect(str(previous)) as con:
        con.execute(f"ATTACH '{current}' AS current_run (READ_ONLY)")
        con.execute("CREATE OR REPLACE TABLE transactions AS SELECT * FROM current_run.transactions")


def same_features(full_build: Path, other_build: Path) -> bool:
    """Whether two warehouses hold the same `pair_features` (keys, columns, values as in `--check`)."""
    with duckdb.connect(str(other_build), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{full_build}' AS full_build (READ_ONLY)")
        return tables_equal(compare_tables(con, "full_build.pair_features", "pair_features"))


def build_features_pandas(warehouse: Path) -> None:
    print(json.dumps({"rows": len(pandas_features_from_warehouse(warehouse))}))


def build_features_pandas_every_week(warehouse: Path) -> None:
    print(json.dumps({"rows": len(pandas_features_from_warehouse(warehouse, every_week=True))}))


def panel_rows(warehouse: Path, every_week: bool = False) -> int:
    """Rows of the pandas build's pair × week panel (every pair from its first purchase week, or from the
    first week of all with `every_week`)."""
    start = "(SELECT min(week_start) FROM transactions)" if every_week else "first_week"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "WITH pairs AS (SELECT min(week_start) AS first_week FROM transactions "
            "GROUP BY customer_id, product_id) "
            f"SELECT sum(date_diff('day', {start}, (SELECT max(week_start) FROM transactions)) // 7 + 1) "
            "FROM pairs"
        ).fetchone()[0]


# --- the equality check -------------------------------------------------------------------------------------


def clean_warehouse(landing: Path, folder: Path) -> Path:
    """A warehouse in `folder` with the clean `transactions`, `customers`, `products` of the landed files."""
    from ovni_assets.data.cleaning import build_customers, build_products, build_transactions
    from ovni_assets.data.ingestion import ingest_landing

    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ingest_landing(con, landing, folder / "quarantine")
        build_customers(con)
        build_products(con)
        build_transactions(con)
    return warehouse


def compare_tables(con: duckdb.DuckDBPyConnection, expected: str, actual: str) -> dict:
    """Keys EXCEPT ALL both ways and per-column mismatches of table `actual` against table `expected`
    (numbers within a relative 1e-9, everything else exactly, NULL equal to NULL only)."""
    keys = "customer_id, product_id, week_start"
    only_expected, only_actual = (
        con.execute(
            f"SELECT count(*) FROM (SELECT {keys} FROM {a} EXCEPT ALL SELECT {keys} FROM {b})"
        ).fetchone()[0]
        for a, b in ((expected, actual), (actual, expected))
    )
    expected_columns = dict(
        con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {expected})").fetchall()
    )
    actual_columns = set(
        con.execute(f"SELECT column_name FROM (DESCRIBE {actual})").fetchnumpy()["column_name"]
    )
    compared = [c for c in expected_columns if c in actual_columns and c not in keys.split(", ")]
    tests = []
    for column in compared:
        if expected_columns[column] in ("VARCHAR", "BOOLEAN", "DATE"):
            differs = f"e.{column} IS DISTINCT FROM a.{column}::{expected_columns[column]}"
        else:
            x, y = f"e.{column}::DOUBLE", f"a.{column}::DOUBLE"
            differs = (
                f"NOT ((e.{column} IS NULL AND a.{column} IS NULL) "
                f"OR abs({x} - {y}) <= 1e-9 * greatest(1, abs({x})))"
            )
        tests.append(f"count(*) FILTER (WHERE {differs})")
    counts = con.execute(
        f"SELECT count(*), {', '.join(tests)} FROM {expected} e JOIN {actual} a USING ({keys})"
    ).fetchone()
    return {
        "expected_rows": con.execute(f"SELECT count(*) FROM {expected}").fetchone()[0],
        "actual_rows": con.execute(f"SELECT count(*) FROM {actual}").fetchone()[0],
        "only_in_expected": only_expected,
        "only_in_actual": only_actual,
        "joined_rows": counts[0],
        "columns_compared": len(compared),
        "missing_columns": [c for c in expected_columns if c not in actual_columns],
        "extra_columns": sorted(actual_columns - set(expected_columns)),
        "mismatches": {c: n for c, n in zip(compared, counts[1:], strict=True) if n},
    }


def tables_equal(comparison: dict) -> bool:
    return (
        comparison["only_in_expected"] == comparison["only_in_actual"] == 0
        and not comparison["missing_columns"]
        and not comparison["extra_columns"]
        and not comparison["mismatches"]
    )


def compare_with_sql(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> dict:
    """`frame` (the pandas build) against the `pair_features` table (expected: the SQL build)."""
    con.register("pandas_frame", frame)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pandas_features AS SELECT * REPLACE (week_start::DATE AS week_start, "
        "target_week_start::DATE AS target_week_start) FROM pandas_frame"
    )
    con.unregister("pandas_frame")
    return compare_tables(con, "pair_features", "pandas_features")


def check(source: Path) -> bool:
    """Build the features both ways from `source` and compare; prints the result, True when equal."""
    from ovni_assets.features.pair_features import build_pair_features, build_weekly_purchases

    with tempfile.TemporaryDirectory(prefix="ovni-check-") as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        for name in ("clientes.parquet", "productos.parquet", "transacciones.parquet"):
            shutil.copy(source / name, landing / name)
        warehouse = clean_warehouse(landing, Path(tmp))
        with duckdb.connect(str(warehouse)) as con:
            con.execute("SET enable_progress_bar = false")
            started = time.perf_counter()
            build_weekly_purchases(con)
            build_pair_features(con)
            sql_s = time.perf_counter() - started
        equal = True
        for every_week in (False, True):
            started = time.perf_counter()
            frame = pandas_features_from_warehouse(warehouse, every_week)
            pandas_s = time.perf_counter() - started
            with duckdb.connect(str(warehouse)) as con:
                result = compare_with_sql(con, frame)
            panel = "every pair × every week" if every_week else "each pair from its first purchase"
            print(f"check on {source}: SQL build {sql_s:.1f} s, pandas build ({panel}) {pandas_s:.1f} s")
            print(json.dumps(result, indent=2))
            print("EQUAL: same keys, same columns, same values" if tables_equal(result) else "DIFFERENT")
            equal = equal and tables_equal(result)
    return equal


# --- Dagster step timings -----------------------------------------------------------------------------------


def dagster_steps(dagster_home: Path) -> None:
    """Print (as JSON) every run of the instance with its steps' durations, oldest run first."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    runs = []
    with dg.DagsterInstance.get() as instance:
        for run in reversed(instance.get_runs()):
            steps: dict[str, dict] = {}
            for entry in instance.all_logs(run.run_id, of_type=kinds):
                step = steps.setdefault(entry.step_key, {"step": entry.step_key, "status": "started"})
                if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                    step["start"] = entry.timestamp
                else:
                    step["seconds"] = round(entry.timestamp - step.get("start", entry.timestamp), 2)
                    step["status"] = "ok" if entry.dagster_event.is_step_success else "failed"
            runs.append(
                {
                    "run_id": run.run_id,
                    "job": run.job_name,
                    "status": run.status.value,
                    "steps": list(steps.values()),
                }
            )
    print(json.dumps(runs))


def read_steps(home: Path, folder: Path, seen: set[str], measure: Measure) -> list[dict]:
    """The Dagster runs of `home` not in `seen` (which is updated), with their step durations and the peak
    RSS of the process tree (`measure`'s samples, every second) while each step ran."""
    command = [sys.executable, str(Path(__file__).resolve()), "--dagster-steps", str(home / "dagster")]
    listing = measured(command, None, folder / "dagster_steps.log")
    if listing.failed:
        return [{"error": listing.output[-500:]}]
    runs = [run for run in json.loads(listing.output.strip().splitlines()[-1]) if run["run_id"] not in seen]
    seen.update(run["run_id"] for run in runs)
    for step in (step for run in runs for step in run["steps"] if "start" in step):
        end = step["start"] + step.get("seconds", float("inf"))
        during = [rss for at, rss in measure.rss_samples if step["start"] - 1 <= at <= end + 1]
        if during:
            step["peak_rss_mib"] = round(max(during) / 2**20)
    return runs


def print_steps(runs: list[dict]) -> None:
    """One line per run: steps of 0.5 s or more, the rest summed."""
    for run in runs:
        steps, small = [], 0.0
        for step in run.get("steps", []):
            if "seconds" not in step:
                rss = f", {step['peak_rss_mib']:,} MiB" if "peak_rss_mib" in step else ""
                steps.append(f"{step['step']} (unfinished{rss})")
            elif step["status"] != "ok" or step["seconds"] >= 0.5:
                rss = f" ({step['peak_rss_mib']:,} MiB)" if "peak_rss_mib" in step else ""
                failed = "" if step["status"] == "ok" else " FAILED"
                steps.append(f"{step['step']} {step['seconds']:.1f} s{rss}{failed}")
            else:
                small += step["seconds"]
        if small:
            steps.append(f"others {small:.1f} s")
        print(
            f"    {run.get('job', '?')} [{run.get('status', run.get('error', ''))}]: {', '.join(steps)}",
            flush=True,
        )


# --- one scale ----------------------------------------------------------------------------------------------


def ovni_env(home: Path, hpo_seconds: float | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["OVNI_HOME"] = str(home)
    if hpo_seconds is not None:
        env["OVNI_HPO_SECONDS"] = str(hpo_seconds)
    return env


def repeat(times: int, make_measure) -> Repeated:
    runs = []
    for _ in range(times):
        runs.append(make_measure())
        if runs[-1].failed:
            break
    return Repeated(runs)


def run_scale(scale: int, workdir: Path, args: argparse.Namespace) -> ScaleResult:
    folder = workdir / f"scale_{scale}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rss_limit = args.rss_limit_gib * 2**30
    print(f"[{scale}×] preparing data in {folder}", flush=True)
    source = source_tables(scale, folder, args.seed)
    home = folder / "ovni_home"
    later = folder / "next_week"
    rows, weeks = split_last_week(source, home / "landing", later)
    env = ovni_env(home, args.hpo_seconds)
    seen_runs: set[str] = set()

    full = measured([str(OVNI), "run"], env, folder / "full_run.log", rss_limit)
    print(f"  full run: {describe(full)}", flush=True)
    result = ScaleResult(
        scale=scale,
        customers=_customers(source),
        transaction_rows=rows,
        weeks=weeks,
        full_run=full,
        full_run_steps=read_steps(home, folder, seen_runs, full),
    )
    print_steps(result.full_run_steps)
    if full.failed:
        print(f"  full run output (tail):\n{full.output[-2000:]}", flush=True)
        return result

    after_full = folder / "home_after_full"
    shutil.copytree(home, after_full)

    def incremental() -> Measure:
        shutil.rmtree(home)
        shutil.copytree(after_full, home)
        for path in later.iterdir():
            shutil.copy(path, home / "landing" / path.name)
        measure = measured([str(OVNI), "run"], env, folder / "incremental_run.log", rss_limit)
        print(f"  incremental run: {describe(measure)}", flush=True)
        result.incremental_run_steps = read_steps(home, folder, seen_runs, measure)
        print_steps(result.incremental_run_steps)
        return measure

    result.incremental_run = repeat(args.repeat, incremental)
    warehouse_after_full = folder / "warehouse_after_full.duckdb"
    shutil.move(after_full / "warehouse.duckdb", warehouse_after_full)
    shutil.rmtree(after_full)
    if not result.incremental_run.ok:
        print(
            f"  incremental run output (tail):\n{result.incremental_run.runs[-1].output[-2000:]}", flush=True
        )
        return result

    measure_feature_builds(result, folder, warehouse_after_full, home / "warehouse.duckdb", env, args)
    return result


def measure_feature_builds(
    result: ScaleResult,
    folder: Path,
    previous: Path,
    current: Path,
    env: dict[str, str],
    args: argparse.Namespace,
) -> None:
    """OVNI's full and incremental feature builds and the pandas build, on copies: `previous` is a
    warehouse with the features of every week but the last (and their build state), `current` has the clean
    tables of every week. Removes `previous`."""
    rss_limit = args.rss_limit_gib * 2**30
    copy = folder / "features_bench.duckdb"
    script = str(Path(__file__).resolve())

    def feature_build(engine: str) -> Measure:
        if engine == "incremental":
            shutil.copy(previous, copy)
            land_new_week(copy, current)
        else:
            shutil.copy(current, copy)
        command = [sys.executable, script, "--feature-build", engine, str(copy)]
        measure = measured(command, env, folder / f"features_{engine}.log", rss_limit)
        print(f"  {engine} feature build: {describe(measure)}", flush=True)
        return measure

    result.duckdb_features = repeat(args.repeat_features, lambda: feature_build("duckdb"))
    full_build = folder / "features_full.duckdb"
    if result.duckdb_features.ok:
        shutil.move(copy, full_build)
        with duckdb.connect(str(full_build), read_only=True) as con:
            result.pair_feature_rows = con.execute("SELECT count(*) FROM pair_features").fetchone()[0]
    if has_incremental_build() and result.duckdb_features.ok:
        result.incremental_features = repeat(args.repeat_features, lambda: feature_build("incremental"))
        if result.incremental_features.ok:
            built = json.loads(result.incremental_features.runs[-1].output.strip().splitlines()[-1])
            same = "the same table as" if same_features(full_build, copy) else "a DIFFERENT table from"
            result.incremental_features_note = (
                f"{built['mode']} build of {built['weeks_recomputed']} week(s); {same} the full build"
            )
            print(f"    {result.incremental_features_note}", flush=True)
    elif not has_incremental_build():
        result.incremental_features_note = "no incremental pair_features build at this commit"
    previous.unlink()
    full_build.unlink(missing_ok=True)

    def pandas_build(engine: str, rows: int) -> tuple[Repeated | None, str | None]:
        """The pandas build `engine` (repeated), or why it was skipped (its panel would not fit)."""
        estimate = PANDAS_BASE_BYTES + rows * PANDAS_BYTES_PER_PANEL_ROW
        if estimate > min(args.pandas_budget_gib * 2**30, rss_limit):
            skipped = (
                f"panel of {rows:,} pair-weeks needs about {estimate / 2**30:.0f} GiB "
                f"(> budget {min(args.pandas_budget_gib, args.rss_limit_gib):.0f} GiB)"
            )
            print(f"  {engine} feature build skipped: {skipped}", flush=True)
            return None, skipped
        return repeat(args.repeat_features, lambda: feature_build(engine)), None

    result.panel_rows = panel_rows(current)
    result.pandas_features, result.pandas_skipped = pandas_build("pandas", result.panel_rows)
    if result.speedup:
        print(
            f"  → OVNI's feature build is {result.speedup:.1f}× faster than pandas (median wall)", flush=True
        )
    result.every_week_panel_rows = panel_rows(current, every_week=True)
    result.pandas_every_week_features, result.pandas_every_week_skipped = pandas_build(
        "pandas-every-week", result.every_week_panel_rows
    )
    if result.every_week_speedup:
        print(
            f"  → {result.every_week_speedup:.1f}× faster than pandas, every pair × week (median wall)",
            flush=True,
        )
    copy.unlink(missing_ok=True)


def features_only_scale(scale: int, workdir: Path, args: argparse.Namespace) -> ScaleResult:
    """The feature builds of a scale without `ovni run`: clean warehouses built directly from the sources
    (every week but the last, with its features; every week)."""
    folder = workdir / f"scale_{scale}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"[{scale}×] preparing data in {folder} (feature builds only)", flush=True)
    source = source_tables(scale, folder, args.seed)
    rows, weeks = split_last_week(source, folder / "previous" / "landing", folder / "next_week")
    previous = clean_warehouse(folder / "previous" / "landing", folder / "previous")
    env = ovni_env(folder / "ovni_home", None)
    command = [sys.executable, str(Path(__file__).resolve()), "--feature-build", "duckdb", str(previous)]
    prepared = measured(command, env, folder / "features_previous.log", args.rss_limit_gib * 2**30)
    if prepared.failed:
        sys.exit(
            f"feature build of the previous weeks failed ({prepared.failed}):\n{prepared.output[-2000:]}"
        )
    landing = folder / "current" / "landing"
    landing.mkdir(parents=True)
    for name in ("clientes.parquet", "productos.parquet", "transacciones.parquet"):
        shutil.copy(source / name, landing / name)
    current = clean_warehouse(landing, folder / "current")
    result = ScaleResult(scale=scale, customers=_customers(source), transaction_rows=rows, weeks=weeks)
    measure_feature_builds(result, folder, previous, current, env, args)
    return result


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


def use_commit(ref: str, workdir: Path) -> str:
    """Export the committed tree of `ref` to `workdir` and import `ovni_assets` from there, in this process
    and in every child (PYTHONPATH comes before the editable install): others' uncommitted edits in the work
    tree do not leak into the measurement. Returns the commit id."""
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = workdir / f"src-{sha[:10]}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.Popen(["git", "-C", str(REPO), "archive", sha], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
        archive.wait()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(tree))
    return sha


def print_summary(results: list[ScaleResult], sha: str) -> None:
    print(f"\nmachine: {machine()}; commit {sha}")
    print("wall s / CPU s / peak RSS MiB / load (1-min, at end); medians when repeated")

    def cell(step: Measure | Repeated | None) -> str:
        if step is None:
            return f"{'-':>30}"
        if isinstance(step, Measure):
            step = Repeated([step])
        if not step.ok:
            return f"{'FAILED':>30}"
        return (
            f"{step.median('wall_s'):>8.1f} /{step.median('cpu_s'):>7.0f} "
            f"/{step.median('peak_rss_mib'):>7,.0f} /{step.median('load_end'):>4.1f}"
        )

    print(
        f"{'scale':>5} {'tx rows':>11} {'full run':>30} {'incremental run':>30} {'OVNI features':>30} "
        f"{'OVNI incremental features':>30} {'pandas features':>30} {'speed-up':>8}"
    )
    for r in results:
        speedup = f"{r.speedup:>7.1f}×" if r.speedup else f"{'-':>8}"
        print(
            f"{r.scale:>4}× {r.transaction_rows:>11,} {cell(r.full_run)} {cell(r.incremental_run)} "
            f"{cell(r.duckdb_features)} {cell(r.incremental_features)} {cell(r.pandas_features)} {speedup}"
        )
        if r.pandas_skipped:
            print(f"      pandas at {r.scale}×: {r.pandas_skipped}")
        if r.pandas_every_week_features or r.pandas_every_week_skipped:
            every_week = r.pandas_every_week_skipped or (
                f"{cell(r.pandas_every_week_features).strip()}"
                + (f", {r.every_week_speedup:.1f}× slower than OVNI" if r.every_week_speedup else "")
            )
            print(f"      pandas with every pair × every week at {r.scale}×: {every_week}")
        if r.incremental_features_note:
            print(f"      incremental features at {r.scale}×: {r.incremental_features_note}")
        if r.full_run and r.full_run.failed:
            print(f"      full run at {r.scale}×: {r.full_run.failed}")


def without_output(items: list[tuple[str, object]]) -> dict:
    return {key: value for key, value in items if key not in ("output", "rss_samples")}


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
    parser.add_argument("--repeat", type=int, default=1, help="Repeat the incremental run.")
    parser.add_argument("--repeat-features", type=int, default=3, help="Repeat each feature build.")
    parser.add_argument(
        "--rss-limit-gib", type=float, default=16.0,
        help="Kill a measured step whose process tree passes this RSS (default 16; the machine is shared).",
    )  # fmt: skip
    parser.add_argument(
        "--pandas-budget-gib", type=float, default=0.5 * psutil.virtual_memory().total / 2**30,
        help="Skip the pandas build when its estimated peak RSS exceeds this (default: half the RAM).",
    )  # fmt: skip
    parser.add_argument(
        "--commit", default="HEAD",
        help="Measure the code of this commit (exported from git; default HEAD), not the work tree.",
    )  # fmt: skip
    parser.add_argument(
        "--features-only", action="store_true",
        help="Only the feature builds (OVNI full, incremental, pandas) on warehouses cleaned from sources.",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="Also write the results as JSON here.")
    parser.add_argument("--keep", action="store_true", help="Keep the work folders.")
    parser.add_argument(
        "--check", nargs="?", const=SODAI_DIR, type=Path, metavar="SOURCE_DIR",
        help="Only verify that the pandas baseline equals the SQL build (default source: the real data).",
    )  # fmt: skip
    parser.add_argument("--feature-build", nargs=2, metavar=("ENGINE", "WAREHOUSE"), help=argparse.SUPPRESS)
    parser.add_argument("--dagster-steps", type=Path, metavar="DAGSTER_HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.dagster_steps:
        dagster_steps(args.dagster_steps)
        return
    if args.feature_build:
        engine, warehouse = args.feature_build
        builders = {
            "duckdb": build_features_duckdb,
            "incremental": build_features_incremental,
            "pandas": build_features_pandas,
            "pandas-every-week": build_features_pandas_every_week,
        }
        builders[engine](Path(warehouse))
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ovni-bench-"))
    sha = use_commit(args.commit, workdir)
    if args.check:
        print(f"commit {sha}")
        sys.exit(0 if check(args.check) else 1)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    if 1 in scales and not (SODAI_DIR / "transacciones.parquet").exists():
        sys.exit(f"1× needs the real data at {SODAI_DIR}")
    print(f"machine: {machine()}; commit {sha}\nworkdir: {workdir}", flush=True)
    results = []
    for scale in scales:
        results.append((features_only_scale if args.features_only else run_scale)(scale, workdir, args))
        if not args.keep:
            shutil.rmtree(workdir / f"scale_{scale}", ignore_errors=True)
    print_summary(results, sha)
    if args.json:
        payload = {
            "machine": machine(),
            "commit": sha,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "results": [
                {
                    **asdict(r, dict_factory=without_output),
                    "speedup": r.speedup,
                    "every_week_speedup": r.every_week_speedup,
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":
    main()
