"""Weekly precision, recall and F1, and the decision threshold (no dagster, no mlflow).

F1 counts every real purchase of a target week (`weekly_purchases`), also the ones of pairs that are not
candidates, so recall is honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score
from sklearn.pipeline import Pipeline

from ovni_assets.model.estimator import predict_probability


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
    recent weeks, and F*/2 carries over: on the real data it beats the argmax threshold and comes close to
    the (unknowable) best threshold per week (docs/model.md).
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
