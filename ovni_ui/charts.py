"""The data behind the page's charts, labelled in the page's language, and the updates that show or hide one.

A chart without enough data to draw is hidden, and the note above it says why.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import gradio as gr
import pandas as pd

from ovni_ui.drift import drift_status
from ovni_ui.formatting import day, whole_percent
from ovni_ui.i18n import Texts

PROBABILITY_BINS = 10
TOP_PRODUCTS_CHART = 15
DRIFT_CHART_FEATURES = 15


def hidden_chart() -> dict:
    return gr.update(value=None, visible=False)


def visible_chart(frame: pd.DataFrame) -> dict:
    return gr.update(value=frame, visible=True)


def probability_histogram(tr: Texts, batch: pd.DataFrame) -> pd.DataFrame:
    """How many pairs of the batch fall in each tenth of probability."""
    edges = [i / PROBABILITY_BINS for i in range(PROBABILITY_BINS + 1)]
    labels = [f"{tr.number(lo, 1)}–{tr.number(hi, 1)}" for lo, hi in itertools.pairwise(edges)]
    bins = pd.cut(batch["probability"], bins=edges, labels=labels, include_lowest=True)
    counts = bins.value_counts().reindex(labels, fill_value=0)
    return pd.DataFrame({tr("probability_bin"): labels, tr("pairs_count"): counts.to_numpy()})


def expected_buyers(tr: Texts, batch: pd.DataFrame, products: dict[int, dict]) -> pd.DataFrame:
    """The products with the most expected buyers (the sum of their probabilities), by id and brand."""
    top = batch.groupby("product_id")["probability"].sum().nlargest(TOP_PRODUCTS_CHART)
    names = [f"{int(pid)} · {products.get(int(pid), {}).get('brand') or ''}".strip(" ·") for pid in top.index]
    return pd.DataFrame({tr("col_product"): names, tr("expected_buyers"): top.round(2).to_numpy()})


def f1_per_week(tr: Texts, scored_weeks: list[dict], validation: Mapping[str, Any]) -> pd.DataFrame:
    """Realized F1 of each scored week beside the validation F1 (`validation`, by version) of the version
    that made its batch, in whole percents: the chart's axis and tooltips cannot write a decimal comma."""
    weeks = [day(q["week_start"]) for q in scored_weeks]
    realized = [whole_percent(q["f1"]) for q in scored_weeks]
    validated = [whole_percent(validation.get(str(q.get("model_version")))) for q in scored_weeks]
    frame = pd.DataFrame(
        {
            tr("col_week"): weeks * 2,
            tr("f1_axis"): realized + validated,
            tr("quality_series"): [tr("realized_f1")] * len(weeks)
            + [tr("validation_f1_series")] * len(weeks),
        }
    ).dropna()
    frame[tr("f1_axis")] = frame[tr("f1_axis")].astype(int)
    return frame


def charted_features(features: list[dict]) -> list[dict]:
    """Every flagged feature and the largest moves: a readable chart even with dozens of features."""
    ranked = sorted(features, key=lambda f: (not f.get("drifted"), -(f.get("psi") or 0.0)))
    flagged = sum(bool(f.get("drifted")) for f in features)
    return ranked[: max(DRIFT_CHART_FEATURES, flagged)]


def psi_per_feature(tr: Texts, features: list[dict], rules: dict | None) -> pd.DataFrame:
    """Each feature's PSI and its drift state under the report's rules, which colours its bar."""
    return pd.DataFrame(
        {
            tr("feature"): [f["feature"] for f in features],
            tr("psi"): [f.get("psi") or 0.0 for f in features],
            tr("drift_flag"): [tr(drift_status(f, rules)) for f in features],
        }
    )
