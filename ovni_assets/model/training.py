"""Training the purchase model from `pair_features` (no dagster, no mlflow).

- Validation is time based: the newest `VALIDATION_WEEKS` labelled feature weeks; the search fits on the
  weeks before them.
- The search (`search.py`) runs within a time budget and, when given, a trial count; the decision threshold
  is half the best validation F1 (`metrics.decision_threshold`); the final model is refit on all labelled
  weeks (at most `MAX_TRAIN_WEEKS`).
- Rows are capped at `MAX_TRAIN_ROWS` for fitting and `MAX_VALIDATION_ROWS` for validation (`rows.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd
from sklearn.pipeline import Pipeline

from ovni_assets.model.estimator import DEFAULT_PARAMS, build_pipeline, model_input
from ovni_assets.model.metrics import Validation
from ovni_assets.model.rows import TrainingData, actual_purchases, labelled_weeks, load_rows
from ovni_assets.model.search import search

VALIDATION_WEEKS = 4


MAX_TRAIN_WEEKS = 20


MAX_TRAIN_ROWS = 1_500_000


MAX_VALIDATION_ROWS = 2_000_000


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
    del fit  # the refit loads its own rows: on large data each frame holds up to the row cap
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
