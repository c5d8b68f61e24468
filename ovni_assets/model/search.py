"""Optuna's search over HistGradientBoosting's hyperparameters, maximising validation F1."""

from __future__ import annotations

import time
from datetime import date

import optuna
import pandas as pd

from ovni_assets.model.estimator import RANDOM_STATE, build_pipeline, model_input
from ovni_assets.model.metrics import validate


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
