"""The page's charts, labelled and numbered in the page's language, and the updates that show or hide one.

Gradio's own plots (gr.BarPlot, gr.LinePlot) write numbers with decimal points whatever the language: their
axis format is a d3 format string, and d3 formats in English. So each chart here is a Vega-Lite
specification of its own, drawn by gr.Plot: tooltips show numbers already written by `Texts.number`, axes
rewrite Vega's tick labels with the language's separators (Spanish `0,25` and `1 390`), and the line chart
marks every week with a point. `AltairPlotData.chart` gives them Gradio's theme (fonts, colours, width).

A chart without enough data to draw is hidden, and the note above it says why.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any, Literal

import gradio as gr
import pandas as pd
from gradio.components.plot import AltairPlotData

from ovni_ui.drift import DRIFT_COLORS, drift_status
from ovni_ui.formatting import day, whole_percent
from ovni_ui.i18n import Texts

PROBABILITY_BINS = 10
TOP_PRODUCTS_CHART = 15
DRIFT_CHART_FEATURES = 15
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# The two series of the quality chart, in this order (Gradio's theme gives them its first two colours).
QUALITY_SERIES = ("realized_f1", "validation_f1_series")


def hidden_chart() -> dict:
    return gr.update(value=None, visible=False)


def visible_chart(chart: AltairPlotData) -> dict:
    return gr.update(value=chart, visible=True)


def chart_spec(chart: AltairPlotData) -> dict:
    """The Vega-Lite specification of a chart (what the browser draws)."""
    return json.loads(chart.plot)


def tick_labels(tr: Texts) -> dict[str, str]:
    """Axis properties that write Vega's tick labels (`0.25`, `1,390`) with the language's separators."""
    if tr.lang != "es":
        return {}
    # Vega expression: thousands separator to a narrow no-break space, then decimal point to comma.
    thin = "\u202f"
    return {
        "labelExpr": f"replace(replace(datum.label, regexp(',', 'g'), '{thin}'), regexp('[.]', 'g'), ',')"
    }


def _plot(kind: Literal["bar", "line"], spec: dict[str, Any]) -> AltairPlotData:
    return AltairPlotData(chart=kind, plot=json.dumps({"$schema": VEGA_LITE_SCHEMA, **spec}))


def _bar_chart(
    rows: list[dict],
    *,
    title: str,
    x_title: str,
    y_title: str,
    y_axis: dict,
    sort: str | None,
    x_label_angle: float = 0,
    fill: dict | None = None,
    height: int = 300,
) -> AltairPlotData:
    """Bars of `y` per category `x`; the tooltip shows `x`, `y_text` (the number as the page writes it)
    and, when the bars are coloured by a field (`fill`, which Gradio's theme keeps), that field."""
    tooltip = [
        {"field": "x", "type": "nominal", "title": x_title},
        {"field": "y_text", "type": "nominal", "title": y_title},
    ]
    encoding: dict[str, Any] = {
        "x": {"field": "x", "type": "nominal", "title": x_title, "sort": sort},
        "y": {"field": "y", "type": "quantitative", "title": y_title, "axis": y_axis},
    }
    if x_label_angle:
        encoding["x"]["axis"] = {"labelAngle": x_label_angle}
    if fill:
        encoding["fill"] = fill
        tooltip.append({"field": fill["field"], "type": "nominal", "title": fill["title"]})
    encoding["tooltip"] = tooltip
    spec = {"title": title, "height": height, "data": {"values": rows}, "mark": "bar", "encoding": encoding}
    return _plot("bar", spec)


def probability_histogram(tr: Texts, batch: pd.DataFrame) -> AltairPlotData:
    """How many pairs of the batch fall in each tenth of probability."""
    edges = [i / PROBABILITY_BINS for i in range(PROBABILITY_BINS + 1)]
    labels = [f"{tr.number(lo, 1)}–{tr.number(hi, 1)}" for lo, hi in itertools.pairwise(edges)]
    bins = pd.cut(batch["probability"], bins=edges, labels=labels, include_lowest=True)
    counts = bins.value_counts().reindex(labels, fill_value=0)
    rows = [
        {"x": label, "y": int(count), "y_text": tr.number(count, 0)}
        for label, count in zip(labels, counts.to_numpy(), strict=True)
    ]
    return _bar_chart(
        rows,
        title=tr("histogram_title"),
        x_title=tr("probability_bin"),
        y_title=tr("pairs_count"),
        y_axis={"format": ",d", "tickMinStep": 1, **tick_labels(tr)},  # whole counts
        sort=None,  # the bins in order
    )


def expected_buyers(tr: Texts, batch: pd.DataFrame, products: dict[int, dict]) -> AltairPlotData:
    """The products with the most expected buyers (the sum of their probabilities), by id and brand."""
    top = batch.groupby("product_id")["probability"].sum().nlargest(TOP_PRODUCTS_CHART)
    rows = [
        {
            "x": f"{int(pid)} · {products.get(int(pid), {}).get('brand') or ''}".strip(" ·"),
            "y": round(float(total), 2),
            "y_text": tr.number(total, 1),
        }
        for pid, total in top.items()
    ]
    return _bar_chart(
        rows,
        title=tr("expected_buyers_title"),
        x_title=tr("col_product"),
        y_title=tr("expected_buyers"),
        y_axis=tick_labels(tr),
        sort="-y",
        x_label_angle=-40,
    )


def f1_per_week(tr: Texts, scored_weeks: list[dict], validation: Mapping[str, Any]) -> AltairPlotData:
    """Realized F1 of each scored week beside the validation F1 (`validation`, by version) of the version
    that made its batch, in whole percents; a point marks every week of each line."""
    rows = []
    for q in scored_weeks:
        values = {
            "realized_f1": whole_percent(q["f1"]),
            "validation_f1_series": whole_percent(validation.get(str(q.get("model_version")))),
        }
        rows += [
            {"week": day(q["week_start"]), "f1": value, "series": tr(series)}
            for series, value in values.items()
            if value is not None
        ]
    week, f1, series = tr("col_week"), tr("f1_axis"), tr("quality_series")
    layer = {
        "mark": {"type": "line", "point": {"filled": True, "size": 70, "strokeWidth": 0}},
        "encoding": {
            "x": {"field": "week", "type": "ordinal", "title": week, "sort": "ascending"},
            "y": {
                "field": "f1",
                "type": "quantitative",
                "title": f1,
                "scale": {"domain": [0, 100]},
                "axis": {"format": "d"},
            },
            "color": {
                "field": "series",
                "type": "nominal",
                "title": series,
                "scale": {"domain": [tr(key) for key in QUALITY_SERIES], "range": ["#3b82f6", "#f97316"]},
                "legend": {"orient": "bottom", "labelLimit": 400},
            },
            "tooltip": [
                {"field": "week", "type": "ordinal", "title": week},
                {"field": "f1", "type": "quantitative", "title": f1, "format": "d"},
                {"field": "series", "type": "nominal", "title": series},
            ],
        },
    }
    spec = {"title": tr("quality_title"), "height": 300, "data": {"values": rows}, "layer": [layer]}
    return _plot("line", spec)


def charted_features(features: list[dict]) -> list[dict]:
    """Every flagged feature and the largest moves: a readable chart even with dozens of features."""
    ranked = sorted(features, key=lambda f: (not f.get("drifted"), -(f.get("psi") or 0.0)))
    flagged = sum(bool(f.get("drifted")) for f in features)
    return ranked[: max(DRIFT_CHART_FEATURES, flagged)]


def psi_per_feature(tr: Texts, features: list[dict], rules: dict | None) -> AltairPlotData:
    """Each feature's PSI and its drift state under the report's rules, which colours its bar."""
    rows = [
        {
            "x": f["feature"],
            "y": f.get("psi") or 0.0,
            "y_text": tr.number(f.get("psi") or 0.0, 2),
            "status": tr(drift_status(f, rules)),
        }
        for f in features
    ]
    colours = {tr(key): colour for key, colour in DRIFT_COLORS.items()}
    states = [state for state in colours if state in {row["status"] for row in rows}]
    fill = {
        "field": "status",
        "type": "nominal",
        "title": tr("drift_flag"),
        "scale": {"domain": states, "range": [colours[state] for state in states]},
        "legend": {"orient": "bottom", "labelLimit": 400},
    }
    return _bar_chart(
        rows,
        title=tr("drift_title"),
        x_title=tr("feature"),
        y_title=tr("psi"),
        y_axis=tick_labels(tr),
        sort="-y",
        x_label_angle=-35,
        fill=fill,
        height=340,
    )
