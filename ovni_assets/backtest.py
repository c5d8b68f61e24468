"""`ovni backtest --weeks N`: replay the weekly loop over the last N target weeks of the landed data.

For each target week T (oldest first) the model scores the candidate rows of feature week T − 7, trained
only on rows whose label week is ≤ T − 7 (what had landed then), with the same feature table and the same
training code as the pipeline (`train_purchase_model`, HPO budget `OVNI_HPO_SECONDS`). It retrains every
`RETRAIN_EVERY_WEEKS` target weeks (the first week always trains) and always adopts the new model (the
pipeline's promotion gate is left out: it compares models on the same weeks, here every model is fresh).
F1 counts every real purchase of T. Next to it: the rule "bought in ≥ 3 of the last 8 weeks".

Reads `pair_features` and `weekly_purchases` from the warehouse (copied into memory; nothing is written):
run `ovni run` first so the landed files are ingested.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import timedelta

import duckdb
import pandas as pd

from ovni_assets.model.training import (
    actual_purchases,
    load_rows,
    train_purchase_model,
    validate,
    weekly_counts,
    weekly_metrics,
)
from ovni_assets.settings import OvniSettings, get_settings

RETRAIN_EVERY_WEEKS = 2
RULE_MIN_WEEKS = 3  # the rule: bought in ≥ 3 of the last 8 weeks


@dataclass
class BacktestResult:
    weeks: pd.DataFrame  # target_week, model_f1, precision, recall, rule_f1, threshold, trained
    seconds: float

    @property
    def mean_model_f1(self) -> float:
        return float(self.weeks["model_f1"].mean())

    @property
    def mean_rule_f1(self) -> float:
        return float(self.weeks["rule_f1"].mean())


def load_warehouse_copy(settings: OvniSettings) -> duckdb.DuckDBPyConnection:
    """An in-memory copy of the tables the backtest reads (the warehouse is only read, briefly)."""
    if not settings.warehouse_path.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse_path}: run `ovni run` first")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{settings.warehouse_path}' AS wh (READ_ONLY)")
    try:
        for table in ("pair_features", "weekly_purchases"):
            found = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'wh' AND table_name = ?", [table]
            ).fetchall()[0][0]
            if not found:
                raise FileNotFoundError(f"the warehouse has no {table} yet: run `ovni run` first")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM wh.{table}")
    finally:
        con.execute("DETACH wh")
    return con


def run_backtest(
    con: duckdb.DuckDBPyConnection,
    weeks: int,
    hpo_seconds: float,
    retrain_every: int = RETRAIN_EVERY_WEEKS,
    progress=None,
) -> BacktestResult:
    """F1 of the model and of the 3-of-8 rule for each of the last `weeks` target weeks."""
    started = time.monotonic()
    newest = con.execute("SELECT max(week_start) FROM weekly_purchases").fetchall()[0][0]
    if newest is None:
        raise ValueError("no purchases landed yet")
    targets = [newest - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]
    rows, model = [], None
    for index, target in enumerate(targets):
        feature_week = target - timedelta(days=7)
        trained = model is None or index % retrain_every == 0
        if trained:
            model = train_purchase_model(con, hpo_seconds, until=feature_week)
        frame = load_rows(con, [feature_week]).frame
        actual = actual_purchases(con, [feature_week])
        scored = validate(model.pipeline, frame, actual, threshold=model.validation.threshold)
        rule = weekly_metrics(
            weekly_counts(
                frame["week_start"],
                frame["label"].to_numpy(dtype=bool),
                frame["bought_w8"].to_numpy() >= RULE_MIN_WEEKS,
                actual,
            )
        )
        week = scored.weekly.iloc[0] if len(scored.weekly) else None
        rows.append(
            {
                "target_week": target,
                "model_f1": float(week["f1"]) if week is not None else 0.0,
                "precision": float(week["precision"]) if week is not None else 0.0,
                "recall": float(week["recall"]) if week is not None else 0.0,
                "rule_f1": float(rule["f1"].iloc[0]) if len(rule) else 0.0,
                "threshold": model.validation.threshold,
                "trained": trained,
                "train_rows": len(model.training.frame),
            }
        )
        if progress is not None:
            progress(rows[-1])
    return BacktestResult(weeks=pd.DataFrame(rows), seconds=time.monotonic() - started)


def format_row(row: dict) -> str:
    diff = row["model_f1"] - row["rule_f1"]
    retrained = "yes" if row["trained"] else ""
    return (
        f"{row['target_week']}  {row['model_f1']:.4f}  {row['rule_f1']:.4f}     {diff:+.4f}  "
        f"{row['precision']:.3f}  {row['recall']:.3f}  {row['threshold']:.3f}  {retrained}"
    )


def run_backtest_cli(weeks: int, retrain_every: int = RETRAIN_EVERY_WEEKS) -> int:
    """Print F1 per target week next to the 3-of-8 rule, plus the means. Exit code for the CLI."""
    settings = get_settings()
    try:
        con = load_warehouse_copy(settings)
        labelled = con.execute("SELECT count(DISTINCT week_start) FROM weekly_purchases").fetchall()[0][0]
        if labelled < weeks + 8:
            raise ValueError(f"{labelled} weeks landed: too few to backtest {weeks} weeks (need {weeks + 8})")
    except (FileNotFoundError, ValueError) as error:
        print(f"ovni backtest: {error}", file=sys.stderr)
        return 1
    print(
        f"ovni backtest: last {weeks} target weeks, retraining every {retrain_every} week(s), "
        f"HPO budget {settings.hpo_seconds:g} s per training"
    )
    print("target_week  model   rule(3/8)  diff     prec   recall thresh  retrained")
    result = run_backtest(
        con,
        weeks,
        settings.hpo_seconds,
        retrain_every,
        progress=lambda row: print(format_row(row), flush=True),
    )
    print(
        f"mean         {result.mean_model_f1:.4f}  {result.mean_rule_f1:.4f}  "
        f"{result.mean_model_f1 - result.mean_rule_f1:+.4f}   ({result.seconds:.0f} s)"
    )
    return 0
