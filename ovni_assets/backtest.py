"""`ovni backtest --weeks N [--until WEEK]`: replay the weekly loop over N target weeks of the landed data.

For each target week T (oldest first, the newest is `--until`, default the newest landed week) the model
scores the candidate rows of feature week T − 7, trained only on rows whose label week is ≤ T − 7 (what had
landed then), with the same feature table and the same training code as the pipeline
(`train_purchase_model`, HPO budget `OVNI_HPO_SECONDS`). Every `RETRAIN_EVERY_WEEKS` target weeks (the
first week always trains) a challenger is trained and, as in the pipeline, adopted only if it wins the
champion / challenger gate of `ovni_assets.model.promotion` (same code, the previous model as champion).
F1 counts every real purchase of T. Next to it: the rule "bought in ≥ 3 of the last 8 weeks".

An export that ends mid-week (`read_target_week` says the newest week is in progress) makes that week the
newest target week: predicted as the pipeline predicts it (features of the week before, the pairs bought
so far certain, the others P(buy in the days to come) against the threshold) and scored against the
purchases landed so far; it is printed, marked, and left out of the means. With `--through-weekday D`
every target week is also replayed as if the export had ended on weekday D of it (0 = Monday): `partial_f1`
with the expected-volume threshold, `partial_plain_f1` without it (pairs bought so far certain in both).
Every week also gets `holiday_f1`: its F1 with the threshold compared with P(buy) scaled to the week's
expected volume (`expected_volume` below 1 in a week with public holidays); `model_f1` is what the product
does for a week not started yet (no scaling).

Target weeks that turn out to be supply outages (`outage_weeks`, known only once the week has landed)
are replayed and printed like any other week; the means are given with and without them.

Reads `pair_features` and `weekly_purchases` from the warehouse: copied into memory under the run lock
(so a running `ovni run` is never read half-written); nothing is written. Run `ovni run` first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from ovni_assets.features.target_week import (
    ONE_WEEK,
    TargetWeek,
    day_volumes,
    in_progress_probability,
    read_target_week,
)
from ovni_assets.model.metrics import f1_from_counts, validate, weekly_counts, weekly_metrics
from ovni_assets.model.promotion import decide_promotion
from ovni_assets.model.registry import Champion, json_weekly_f1
from ovni_assets.model.rows import actual_purchases, load_rows, outage_weeks
from ovni_assets.model.training import TrainingResult, train_purchase_model
from ovni_assets.settings import OvniSettings
from ovni_assets.warehouse import run_lock

RETRAIN_EVERY_WEEKS = 2
RULE_MIN_WEEKS = 3  # the rule: bought in ≥ 3 of the last 8 weeks
RULE_WINDOW_WEEKS = 8


@dataclass
class BacktestResult:
    weeks: pd.DataFrame  # target_week, model_f1, precision, recall, rule_f1, threshold, trained, model, ...
    seconds: float

    @property
    def mean_model_f1(self) -> float:
        return float(self.complete_weeks()["model_f1"].mean())

    @property
    def mean_rule_f1(self) -> float:
        return float(self.complete_weeks()["rule_f1"].mean())

    def normal_weeks(self) -> pd.DataFrame:
        """The complete target weeks that were not supply outages."""
        return self.complete_weeks()[~self.complete_weeks()["outage"]]

    def complete_weeks(self) -> pd.DataFrame:
        """The target weeks whose purchases have all landed (not the week in progress)."""
        return self.weeks[~self.weeks["in_progress"]]


def load_warehouse_copy(
    settings: OvniSettings, on_wait: Callable[[], None] | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory copy of the tables the backtest reads, taken under the run lock.

    Raises `FileNotFoundError` without a warehouse or its tables, `RunLockTimeout` when another run holds
    the lock for longer than `OVNI_RUN_LOCK_TIMEOUT_SECONDS`.
    """
    if not settings.warehouse_path.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse_path}: run `ovni run` first")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    with run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds, on_wait=on_wait):
        con.execute(f"ATTACH '{settings.warehouse_path}' AS wh (READ_ONLY)")
        try:
            for table in ("pair_features", "weekly_purchases"):
                found = con.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_catalog = 'wh' AND table_schema = 'main' AND table_name = ?",
                    [table],
                ).fetchall()[0][0]
                if not found:
                    raise FileNotFoundError(f"the warehouse has no {table} yet: run `ovni run` first")
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM wh.{table}")
        finally:
            con.execute("DETACH wh")
    return con


def target_weeks(con: duckdb.DuckDBPyConnection, weeks: int, until: date | None = None) -> list[date]:
    """The `weeks` target weeks ending at `until` (any day of that week; default the newest landed week).

    Raises `ValueError` when `until` has not landed or too few weeks precede the first target week to
    train (8 weeks of history for the rule plus a few labelled weeks).
    """
    landed = [
        r[0] for r in con.execute("SELECT DISTINCT week_start FROM weekly_purchases ORDER BY 1").fetchall()
    ]
    if not landed:
        raise ValueError("no purchases landed yet")
    newest = landed[-1] if until is None else until - timedelta(days=until.weekday())
    if newest not in landed:
        raise ValueError(f"week {newest} has not landed (landed: {landed[0]} .. {landed[-1]})")
    targets = [newest - ONE_WEEK * k for k in range(weeks - 1, -1, -1)]
    before = sum(1 for w in landed if w < targets[0])
    if before < RULE_WINDOW_WEEKS:
        raise ValueError(
            f"{before} weeks landed before the first target week {targets[0]}: too few to backtest "
            f"{weeks} weeks up to {newest} (need {RULE_WINDOW_WEEKS})"
        )
    return targets


def bought_by(con: duckdb.DuckDBPyConnection, week: date, through: date) -> set[tuple[int, int]]:
    """Pairs of `week` first bought on or before `through`."""
    rows = con.execute(
        "SELECT customer_id, product_id FROM weekly_purchases WHERE week_start = ? "
        "AND CAST(first_purchase_date AS DATE) <= ?",
        [week, through],
    ).fetchall()
    return {(int(c), int(p)) for c, p in rows}


def decided_f1(
    keys: pd.DataFrame,
    labels: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    actual: int,
    known: set[tuple[int, int]] = frozenset(),
) -> float:
    """F1 over all `actual` purchases when the pairs in `known` are predicted bought (candidates or not)
    and every other candidate by `probability` >= `threshold`."""
    is_known = np.fromiter(
        ((c, p) in known for c, p in zip(keys["customer_id"], keys["product_id"], strict=True)),
        dtype=bool,
        count=len(keys),
    )
    decided = is_known | (probability >= threshold)
    outside = len(known) - int(is_known.sum())  # bought so far, not candidates: certain, and right
    tp = int((decided & labels).sum()) + outside
    predicted = int(decided.sum()) + outside
    return f1_from_counts(tp, predicted, actual)


def in_progress_scores(
    con: duckdb.DuckDBPyConnection,
    target: date,
    through: date,
    frame: pd.DataFrame,
    probability: np.ndarray,
    threshold: float,
    actual: int,
) -> dict[str, float]:
    """F1 of target week `target` predicted as if the export ended on `through`, with and without the
    expected-volume threshold."""
    known = bought_by(con, target, through)
    volumes = day_volumes(con, target)
    known_volume = volumes.between(target, through)
    remaining_volume = volumes.between(through + timedelta(days=1), target + timedelta(days=6))
    keys, labels = frame[["customer_id", "product_id"]], frame["label"].to_numpy(dtype=bool)
    scaled = in_progress_probability(probability, known_volume, remaining_volume)
    return {
        "partial_f1": decided_f1(keys, labels, scaled, threshold, actual, known),
        "partial_plain_f1": decided_f1(keys, labels, probability, threshold, actual, known),
        "known_volume": known_volume,
    }


def as_champion(model: TrainingResult, name: str) -> Champion:
    """An in-memory model in the shape the promotion gate reads from the registry (same tags)."""
    return Champion(
        model=model.pipeline,
        version=name,
        run_id="",
        threshold=model.validation.threshold,
        tags={
            "train_last_week": str(model.training.last_week + ONE_WEEK),
            "val_weekly_f1": json_weekly_f1(model.weekly_f1()),
        },
    )


def run_backtest(
    con: duckdb.DuckDBPyConnection,
    weeks: int,
    hpo_seconds: float,
    retrain_every: int = RETRAIN_EVERY_WEEKS,
    until: date | None = None,
    gate: bool = True,
    max_trials: int | None = None,
    progress=None,
    through_weekday: int | None = None,
) -> BacktestResult:
    """F1 of the model and of the 3-of-8 rule for each of the `weeks` target weeks ending at `until`.

    With `gate` a retrained challenger replaces the current model only if it wins `decide_promotion`;
    without it every new model is adopted. With `through_weekday` each week is also scored as if the
    export had ended on that weekday of it (module docstring).
    """
    started = time.monotonic()
    outages = set(outage_weeks(con))
    newest = read_target_week(con)
    rows, champion, champion_name, trainings = [], None, "", 0
    for index, target in enumerate(target_weeks(con, weeks, until)):
        trained, note = index % retrain_every == 0, ""
        if trained:
            challenger = train_purchase_model(
                con, hpo_seconds, until=target - ONE_WEEK, max_trials=max_trials
            )
            trainings += 1
            champion, champion_name, note = adopt_if_better(
                con, champion, champion_name, challenger, f"m{trainings}", gate
            )
        row = score_week(con, champion, target, newest, through_weekday)
        row.update(
            threshold=champion.validation.threshold,
            trained=trained,
            model=champion_name,
            note=note,
            outage=target in outages,
            train_rows=len(champion.training.frame),
        )
        rows.append(row)
        if progress is not None:
            progress(row)
    return BacktestResult(weeks=pd.DataFrame(rows), seconds=time.monotonic() - started)


def adopt_if_better(
    con: duckdb.DuckDBPyConnection,
    champion: TrainingResult | None,
    champion_name: str,
    challenger: TrainingResult,
    challenger_name: str,
    gate: bool,
) -> tuple[TrainingResult, str, str]:
    """The model that serves from now on, its name, and a note on the decision (the pipeline's gate)."""
    decision = decide_promotion(
        con, as_champion(champion, champion_name) if gate and champion else None, challenger.weekly_f1()
    )
    if gate and not decision.promote:
        kept = f"kept {champion_name} ({decision.challenger_f1:.4f} <= {decision.champion_f1:.4f})"
        return champion, champion_name, kept
    note = (
        "adopted"
        if decision.champion_f1 is None
        else f"adopted ({decision.challenger_f1:.4f} > {decision.champion_f1:.4f})"
    )
    return challenger, challenger_name, note


def score_week(
    con: duckdb.DuckDBPyConnection,
    champion: TrainingResult,
    target: date,
    newest: TargetWeek | None,
    through_weekday: int | None,
) -> dict:
    """The model's and the rule's scores of one target week, from the feature week before it."""
    feature_week = target - ONE_WEEK
    frame = load_rows(con, [feature_week]).frame
    actual = actual_purchases(con, [feature_week])
    threshold = champion.validation.threshold
    scored = validate(champion.pipeline, frame, actual, threshold=threshold)
    probability = scored.scores["probability"].to_numpy()
    expected_volume = day_volumes(con, target).between(target, target + timedelta(days=6))
    labels = frame["label"].to_numpy(dtype=bool)
    keys = frame[["customer_id", "product_id"]]
    row = {
        "target_week": target,
        "in_progress": False,
        "expected_volume": expected_volume,
        "holiday_f1": decided_f1(
            keys, labels, probability * expected_volume, threshold, actual[feature_week]
        ),
    }
    week = scored.weekly.iloc[0] if len(scored.weekly) else None
    row["model_f1"] = float(week["f1"]) if week is not None else 0.0
    row["precision"] = float(week["precision"]) if week is not None else 0.0
    row["recall"] = float(week["recall"]) if week is not None else 0.0
    if newest is not None and newest.in_progress and target == newest.target_week:
        so_far = in_progress_scores(
            con, target, newest.data_through, frame, probability, threshold, actual[feature_week]
        )
        # as the pipeline predicts it, against the purchases so far
        row.update(in_progress=True, data_through=newest.data_through, model_f1=so_far["partial_f1"])
    elif through_weekday is not None:
        through = target + timedelta(days=through_weekday)
        row.update(
            in_progress_scores(con, target, through, frame, probability, threshold, actual[feature_week])
        )
    rule = weekly_metrics(
        weekly_counts(frame["week_start"], labels, frame["bought_w8"].to_numpy() >= RULE_MIN_WEEKS, actual)
    )
    row["rule_f1"] = float(rule["f1"].iloc[0]) if len(rule) else 0.0
    return row
