"""Training the purchase model from `pair_features` (no dagster, no mlflow).

- Validation is time based: the newest `VALIDATION_WEEKS` labelled feature weeks; the search fits on the
  weeks before them.
- F1 counts every real purchase of a target week (`weekly_purchases`), also the ones of pairs that are not
  candidates, so recall is honest.
- Optuna searches HistGradientBoosting's hyperparameters within a time budget, maximising validation F1;
  the decision threshold is half the best validation F1 (`decision_threshold`); the final model is refit on
  all labelled weeks (at most `MAX_TRAIN_WEEKS`).
- Row cap for large data: at most `MAX_TRAIN_WEEKS` weeks; when they hold more than `MAX_TRAIN_ROWS` rows,
  rows are sampled by a deterministic hash of the row key and weighted by 1 / rate: negatives first,
  positives only when they alone would fill more than half the cap (at 100× data). Validation rows are
  capped the same way at `MAX_VALIDATION_ROWS` (same hash: champion and challenger see the same rows), and
  their counts are weighted back, so F1 stays an estimate of the full weeks' F1.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import optuna
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from ovni_assets.features.pair_features import CATEGORICAL_FEATURES, FEATURE_COLUMNS, NUMERIC_FEATURES
from ovni_assets.features.target_week import read_target_week
from ovni_assets.warehouse import read_frame

VALIDATION_WEEKS = 4
MAX_TRAIN_WEEKS = 20
MAX_TRAIN_ROWS = 1_500_000
MAX_VALIDATION_ROWS = 2_000_000
RANDOM_STATE = 17
DEFAULT_PARAMS = {
    "learning_rate": 0.08,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 80,
    "l2_regularization": 1.0,
    "max_features": 0.8,
}


def build_pipeline(params: dict) -> Pipeline:
    """Preprocessing (categorical columns to ordinal codes, unknown → missing) + gradient boosting."""
    encoder = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                ),
                CATEGORICAL_FEATURES,
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    classifier = HistGradientBoostingClassifier(
        categorical_features=CATEGORICAL_FEATURES,
        early_stopping=False,
        random_state=RANDOM_STATE,
        **params,
    )
    return Pipeline([("preprocess", encoder), ("classifier", classifier)])


SCORING_CHUNK_ROWS = 250_000


def predict_probability(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """P(buy) for feature rows, on one OpenMP thread, `SCORING_CHUNK_ROWS` rows at a time.

    HistGradientBoosting parallelises prediction per tree; on a busy 2-core machine the thread hand-offs
    cost more than they save (measured 2.5x slower with 2 threads), so scoring runs single-threaded. The
    model input is a float64 copy of the rows (and the encoder makes another): chunks keep those copies
    small at 100× (millions of rows).
    """
    if len(frame) == 0:
        return np.empty(0)
    with threadpool_limits(limits=1, user_api="openmp"):
        return np.concatenate(
            [
                pipeline.predict_proba(model_input(frame.iloc[start : start + SCORING_CHUNK_ROWS]))[:, 1]
                for start in range(0, len(frame), SCORING_CHUNK_ROWS)
            ]
        )


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns with the dtypes of its signature (numbers float64, categories str)."""
    numeric = frame[NUMERIC_FEATURES].astype("float64")
    categorical = frame[CATEGORICAL_FEATURES].astype(object).where(frame[CATEGORICAL_FEATURES].notna(), None)
    return pd.concat([numeric, categorical], axis=1)[FEATURE_COLUMNS]


@dataclass(frozen=True)
class TrainingData:
    frame: pd.DataFrame  # keys, features, label, weight
    snapshot_id: str
    first_week: date
    last_week: date


OUTAGE_RATIO = 0.6

OUTAGE_WEEKS_SQL = """
WITH weekly AS (
    SELECT week_start, count(*) AS purchases FROM weekly_purchases GROUP BY week_start
), with_usual AS (
    SELECT week_start, purchases,
        median(purchases) OVER (ORDER BY week_start ROWS BETWEEN 8 PRECEDING AND 1 PRECEDING) AS usual
    FROM weekly
)
SELECT week_start FROM with_usual WHERE purchases < ? * usual ORDER BY week_start
"""


def outage_weeks(con: duckdb.DuckDBPyConnection, ratio: float = OUTAGE_RATIO) -> list[date]:
    """Weeks with fewer than `ratio` × the median purchases of the 8 weeks before them (supply outages).

    On the real data: 2024-05-13, 05-20, 05-27 and 07-08 (a third to half of a usual week). Labels of such a
    week say more about the outage than about customers, so training and validation leave them out.
    """
    return [r[0] for r in con.execute(OUTAGE_WEEKS_SQL, [ratio]).fetchall()]


def labelled_weeks(con: duckdb.DuckDBPyConnection, until: date | None = None) -> list[date]:
    """Feature weeks with a known label and a normal target week (not an outage), optionally only those
    whose target week is ≤ `until`. A week still in progress is no label week: its labels are partial."""
    target = read_target_week(con)
    if target is not None and target.in_progress:
        newest_complete = target.target_week - ONE_WEEK
        until = newest_complete if until is None else min(until, newest_complete)
    rows = con.execute(
        "SELECT DISTINCT week_start FROM pair_features WHERE label IS NOT NULL "
        "AND (CAST(? AS DATE) IS NULL OR target_week_start <= ?) ORDER BY 1",
        [until, until],
    ).fetchall()
    outages = set(outage_weeks(con))
    return [r[0] for r in rows if r[0] + timedelta(days=7) not in outages]


def actual_purchases(con: duckdb.DuckDBPyConnection, weeks: list[date]) -> dict[date, int]:
    """Real purchases (pairs) of the target week of each feature week, candidates or not."""
    if not weeks:
        return {}
    rows = con.execute(
        "SELECT CAST(week_start - INTERVAL 7 DAY AS DATE), count(*) FROM weekly_purchases "
        "WHERE week_start - INTERVAL 7 DAY IN (SELECT unnest(?::DATE[])) GROUP BY 1",
        [weeks],
    ).fetchall()
    counts = dict.fromkeys(weeks, 0)
    counts.update({w: n for w, n in rows})
    return counts


def load_rows(con: duckdb.DuckDBPyConnection, weeks: list[date], max_rows: int | None = None) -> TrainingData:
    """Labelled rows of `weeks`, sampled (deterministically) to stay under `max_rows`.

    Negatives are sampled first; positives only when they alone would fill more than half the cap. Each
    kept row weighs 1 / its class's sampling rate, so weighted counts match the full data.
    """
    week_list = list(weeks)
    total, positives = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE label) FROM pair_features "
        "WHERE label IS NOT NULL AND week_start IN (SELECT unnest(?::DATE[]))",
        [week_list],
    ).fetchall()[0]
    positive_rate = negative_rate = 1.0
    if max_rows is not None and total > max_rows:
        positive_rate = min(1.0, max_rows / 2 / max(positives, 1))
        negative_rate = max((max_rows - positives * positive_rate) / max(total - positives, 1), 0.001)
    keep_positive, keep_negative = int(positive_rate * 1_000_000), int(negative_rate * 1_000_000)
    frame = read_frame(
        con,
        f"""SELECT customer_id, product_id, week_start, {", ".join(FEATURE_COLUMNS)}, label,
                   CASE WHEN label THEN {1.0 / positive_rate} ELSE {1.0 / negative_rate} END AS weight
            FROM pair_features
            WHERE label IS NOT NULL AND week_start IN (SELECT unnest(?::DATE[]))
              AND hash(customer_id, product_id, week_start) % 1000000
                  < CASE WHEN label THEN {keep_positive} ELSE {keep_negative} END
            ORDER BY week_start, customer_id, product_id""",
        [week_list],
    )
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    frame["label"] = frame["label"].astype(bool)
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return TrainingData(
        frame=frame,
        snapshot_id=digest.hexdigest()[:16],
        first_week=min(week_list),
        last_week=max(week_list),
    )


def weekly_counts(
    weeks: pd.Series,
    labels: np.ndarray,
    predicted: np.ndarray,
    actual: dict[date, int],
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per feature week: predicted positives, true positives and all real purchases of the target week
    (with `weights`, sampled rows count 1 / their sampling rate)."""
    tp, predicted_count = labels & predicted, predicted
    if weights is not None:
        tp, predicted_count = tp * weights, predicted * weights
    frame = pd.DataFrame({"week_start": weeks.to_numpy(), "tp": tp, "predicted": predicted_count})
    grouped = frame.groupby("week_start", sort=True)[["tp", "predicted"]].sum()
    grouped["actual"] = [actual.get(w, 0) for w in grouped.index]
    return grouped.reset_index()


def f1_from_counts(tp: float, predicted: float, actual: float) -> float:
    return 2 * tp / (predicted + actual) if predicted + actual else 0.0


def weekly_metrics(counts: pd.DataFrame) -> pd.DataFrame:
    """precision, recall and F1 per week from `weekly_counts`."""
    out = counts.copy()
    out["precision"] = np.where(out["predicted"] > 0, out["tp"] / out["predicted"].clip(lower=1), 0.0)
    out["recall"] = np.where(out["actual"] > 0, out["tp"] / out["actual"].clip(lower=1), 0.0)
    out["f1"] = [
        f1_from_counts(t, p, a) for t, p, a in zip(out["tp"], out["predicted"], out["actual"], strict=True)
    ]
    return out


def best_threshold(
    probabilities: np.ndarray, labels: np.ndarray, total_actual: int, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Threshold maximising pooled F1 = 2·TP / (predicted + all real purchases); returns (threshold, F1)."""
    weights = np.ones(len(probabilities)) if weights is None else weights
    order = np.argsort(-probabilities, kind="stable")
    p_sorted = probabilities[order]
    tp = np.cumsum(labels[order] * weights[order])
    predicted = np.cumsum(weights[order])
    # only cut where the probability changes
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    f1 = np.where(last_of_run, 2 * tp / (predicted + total_actual), -1.0)
    best = int(np.argmax(f1))
    following = p_sorted[best + 1] if best + 1 < len(p_sorted) else 0.0
    return float((p_sorted[best] + following) / 2), float(f1[best])


@dataclass
class Validation:
    weeks: list[date]
    threshold: float  # the decision threshold: half the best pooled F1 (see `decision_threshold`)
    argmax_threshold: float  # the threshold that maximised pooled F1 on these weeks (recorded, not used)
    best_f1: float  # pooled F1 at `argmax_threshold`: ranking quality, what the search maximises
    f1: float  # mean of the weekly F1s at `threshold` (the backtest's headline)
    precision: float
    recall: float
    pr_auc: float
    weekly: pd.DataFrame  # week_start, tp, predicted, actual, precision, recall, f1
    scores: pd.DataFrame  # validation rows: keys, label, probability


def decision_threshold(best_f1: float) -> float:
    """F1-optimal threshold of a calibrated classifier: half the best attainable F1.

    (Lipton, Elkan & Naryanaswamy 2014.) The raw argmax on the validation weeks is tied to the calibration
    of the model fit *before* them; the refit model, trained up to the newest week, is calibrated on
    recent weeks, and F*/2 carries over: on the real data (docs/model.md) it gave 0.566 mean F1 against
    0.548 for the argmax threshold and 0.569 for the (unknowable) best threshold per week.
    """
    return best_f1 / 2


def validate(
    pipeline: Pipeline, frame: pd.DataFrame, actual: dict[date, int], threshold: float | None = None
) -> Validation:
    """Score validation rows; choose the threshold (unless given) and compute the weekly metrics.

    Rows sampled by `load_rows` (a `weight` column other than 1) count with their weight."""
    probabilities = predict_probability(pipeline, frame)
    labels = frame["label"].to_numpy(dtype=bool)
    weights = frame["weight"].to_numpy() if "weight" in frame and (frame["weight"] != 1).any() else None
    argmax_threshold, best_f1 = best_threshold(probabilities, labels, sum(actual.values()), weights)
    if threshold is None:
        threshold = decision_threshold(best_f1)
    weekly = weekly_metrics(
        weekly_counts(frame["week_start"], labels, probabilities >= threshold, actual, weights)
    )
    pr_auc = (
        float(average_precision_score(labels, probabilities, sample_weight=weights)) if labels.any() else 0.0
    )
    return Validation(
        weeks=sorted(actual),
        threshold=float(threshold),
        argmax_threshold=float(argmax_threshold),
        best_f1=float(best_f1),
        f1=float(weekly["f1"].mean()),
        precision=float(weekly["precision"].mean()),
        recall=float(weekly["recall"].mean()),
        pr_auc=pr_auc,
        weekly=weekly,
        scores=frame[["customer_id", "product_id", "week_start"]].assign(
            label=labels, probability=probabilities
        ),
    )


@dataclass
class TrainingResult:
    pipeline: Pipeline  # refit on all labelled weeks
    params: dict
    validation: Validation  # of `validation_model`, fit on the weeks before the validation weeks
    validation_model: Pipeline
    validation_frame: pd.DataFrame
    training: TrainingData  # rows of the refit
    trials: pd.DataFrame
    hpo_seconds: float
    fit_weeks: list[date] = field(default_factory=list)

    def weekly_f1(self) -> dict[date, float]:
        return {row.week_start: float(row.f1) for row in self.validation.weekly.itertuples()}


def search_space(trial: optuna.Trial) -> dict:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "max_iter": trial.suggest_int("max_iter", 80, 400, step=20),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 15, 63),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 20, 400, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-3, 10.0, log=True),
        "max_features": trial.suggest_float("max_features", 0.4, 1.0),
    }


def search(
    fit: pd.DataFrame,
    val: pd.DataFrame,
    actual: dict[date, int],
    hpo_seconds: float,
    max_trials: int | None,
    first_params: dict,
) -> tuple[optuna.Study, dict, float]:
    """Optuna search within `hpo_seconds` (from `first_params`): fit on `fit`, score on `val`.

    Returns the study, the best trial's {"validation", "model"} and the seconds searched."""
    x_fit, y_fit, w_fit = model_input(fit), fit["label"].to_numpy(), fit["weight"].to_numpy()
    best: dict = {}

    def objective(trial: optuna.Trial) -> float:
        pipeline = build_pipeline(search_space(trial)).fit(x_fit, y_fit, classifier__sample_weight=w_fit)
        result = validate(pipeline, val, actual)
        trial.set_user_attr("threshold", result.threshold)
        trial.set_user_attr("val_f1_at_threshold", result.f1)
        if not best or result.best_f1 > best["validation"].best_f1:
            best.update(validation=result, model=pipeline)
        return result.best_f1

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=RANDOM_STATE))
    study.enqueue_trial(first_params)
    started = time.monotonic()
    study.optimize(objective, timeout=max(hpo_seconds, 0.001), n_trials=max_trials)
    return study, best, time.monotonic() - started


def train_purchase_model(
    con: duckdb.DuckDBPyConnection,
    hpo_seconds: float,
    until: date | None = None,
    validation_weeks: int = VALIDATION_WEEKS,
    max_train_weeks: int = MAX_TRAIN_WEEKS,
    max_train_rows: int = MAX_TRAIN_ROWS,
    max_trials: int | None = None,
    first_params: dict | None = None,
) -> TrainingResult:
    """Search, validate, choose the threshold and refit; `until` limits training to target weeks ≤ it.

    The search starts from `first_params` (default `DEFAULT_PARAMS`), so even the smallest budget gives a
    sensible model; `max_trials` caps the trials on top of the time budget.
    """
    weeks = labelled_weeks(con, until)
    if len(weeks) < validation_weeks + 2:
        raise ValueError(
            f"need at least {validation_weeks + 2} labelled weeks of features to train, found {len(weeks)}"
        )
    val_weeks = weeks[-validation_weeks:]
    fit_weeks = weeks[:-validation_weeks][-max_train_weeks:]
    fit = load_rows(con, fit_weeks, max_train_rows).frame
    val = load_rows(con, val_weeks, MAX_VALIDATION_ROWS).frame
    actual = actual_purchases(con, val_weeks)
    study, best, searched = search(fit, val, actual, hpo_seconds, max_trials, first_params or DEFAULT_PARAMS)
    del fit  # the refit loads its own rows: at 100× each frame holds 1.5 M rows
    params = dict(study.best_params)
    validation = best["validation"]

    training = load_rows(con, weeks[-max_train_weeks:], max_train_rows)
    frame = training.frame
    final = build_pipeline(params).fit(
        model_input(frame), frame["label"].to_numpy(), classifier__sample_weight=frame["weight"].to_numpy()
    )
    trials = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs", "duration", "state"))
    return TrainingResult(
        pipeline=final,
        params=params,
        validation=validation,
        validation_model=best["model"],
        validation_frame=val,
        training=training,
        trials=trials,
        hpo_seconds=searched,
        fit_weeks=fit_weeks,
    )


TRAINING_SNAPSHOT_FILES_DDL = """
CREATE TABLE IF NOT EXISTS training_snapshot_files (
    training_snapshot_id VARCHAR, model_version VARCHAR, file_name VARCHAR, kind VARCHAR, file_hash VARCHAR,
    ingest_batch_id VARCHAR, recorded_at TIMESTAMP
)
"""


def landed_files(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every ingested raw file (name, kind, sha256, ingest batch): what the features were built from."""
    rows = con.execute(
        "SELECT file_name, kind, file_hash, batch_id FROM ingested_files ORDER BY ingested_at, file_name"
    ).fetchall()
    return [{"file_name": n, "kind": k, "file_hash": h, "ingest_batch_id": b} for n, k, h, b in rows]


def record_training_files(con: duckdb.DuckDBPyConnection, snapshot_id: str, model_version: str) -> int:
    """Link a model version's training snapshot to the raw files it came from (`training_snapshot_files`)."""
    con.execute(TRAINING_SNAPSHOT_FILES_DDL)
    con.execute(
        """INSERT INTO training_snapshot_files
           SELECT ?, ?, file_name, kind, file_hash, batch_id, now()::TIMESTAMP FROM ingested_files""",
        [snapshot_id, model_version],
    )
    return con.execute(
        "SELECT count(*) FROM training_snapshot_files WHERE model_version = ?", [model_version]
    ).fetchall()[0][0]


ONE_WEEK = timedelta(days=7)


def json_weekly_f1(weekly: dict[date, float]) -> str:
    """{ISO week: F1} as compact JSON (a registry tag)."""
    return json.dumps({str(w): round(f1, 6) for w, f1 in sorted(weekly.items())}, separators=(",", ":"))
