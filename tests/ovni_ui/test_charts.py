"""The charts' Vega-Lite specifications: numbers in the page's language (Spanish `0,25`, English `0.25`) on
the axes and in the tooltips, points on the line chart, Gradio's theme kept."""

from __future__ import annotations

import pandas as pd
import pytest

from ovni_ui import charts
from ovni_ui.formatting import spreadsheet_safe
from ovni_ui.i18n import Texts

FEATURES = [
    {"feature": "bought_w4", "psi": 0.25, "drifted": True},
    {"feature": "gap_ratio", "psi": 1.125, "drifted": False, "p_adjusted": 0.2},
    {"feature": "units_w12", "psi": 0.012, "drifted": False},
]
RULES = {"psi_threshold": 0.2, "alpha": 0.05, "baseline_factor": 2.0}
WEEKS = [
    {"week_start": "2024-08-12", "f1": 0.5612, "model_version": "2"},
    {"week_start": "2024-08-19", "f1": 0.5387, "model_version": "2"},
]


def batch(rows: int = 2500) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "probability": [(i % 100 + 0.5) / 100 for i in range(rows)],
            "product_id": [i % 20 for i in range(rows)],
        }
    )


def value_axis_labels(spec: dict) -> str | None:
    return spec["encoding"]["y"]["axis"].get("labelExpr")


def test_the_spanish_psi_chart_writes_decimal_commas():
    chart = charts.psi_per_feature(Texts("es"), FEATURES, RULES)
    spec = charts.chart_spec(chart)
    rows = spec["data"]["values"]
    assert [row["y_text"] for row in rows] == ["0,25", "1,12", "0,01"]  # what the tooltips show
    assert {"field": "y_text", "type": "nominal", "title": "PSI"} in spec["encoding"]["tooltip"]
    labels = value_axis_labels(spec)  # Vega's tick labels, `0.25` and `1,390`, to `0,25` and `1 390`
    assert "datum.label" in labels and "regexp('[.]', 'g'), ','" in labels
    assert "regexp(',', 'g'), '\u202f'" in labels
    assert labels.index("'\u202f'") < labels.index("regexp('[.]'")  # thousands first, then the decimal
    # The bars keep their drift colours under Gradio's theme, which recolours `color` but not `fill`.
    assert chart.chart == "bar" and "color" not in spec["encoding"]
    scale = spec["encoding"]["fill"]["scale"]
    states = dict(zip(scale["domain"], scale["range"], strict=True))
    assert states["Marcada"] == "#d64545"


def test_the_english_psi_chart_keeps_decimal_points():
    spec = charts.chart_spec(charts.psi_per_feature(Texts("en"), FEATURES, RULES))
    assert [row["y_text"] for row in spec["data"]["values"]] == ["0.25", "1.12", "0.01"]
    assert value_axis_labels(spec) is None  # Vega's own labels are English


@pytest.mark.parametrize(("lang", "count"), [("es", "1\u202f000"), ("en", "1,000")])
def test_the_explore_charts_number_in_the_page_language(lang: str, count: str):
    tr = Texts(lang)
    histogram = charts.chart_spec(charts.probability_histogram(tr, batch(10_000)))
    assert [row["y"] for row in histogram["data"]["values"]] == [1000] * 10
    assert {row["y_text"] for row in histogram["data"]["values"]} == {count}
    assert histogram["encoding"]["y"]["axis"]["format"] == ",d"  # whole pairs, grouped
    assert (value_axis_labels(histogram) is not None) == (lang == "es")
    expected = charts.chart_spec(charts.expected_buyers(tr, batch(), {19: {"brand": "CRISTAL"}}))
    rows = expected["data"]["values"]
    assert len(rows) == charts.TOP_PRODUCTS_CHART and any(row["x"] == "19 · CRISTAL" for row in rows)
    decimal = "," if lang == "es" else "."
    assert all(row["y_text"] == f"{row['y']:.1f}".replace(".", decimal) for row in rows)


def test_the_quality_chart_marks_every_week_with_a_point():
    chart = charts.f1_per_week(Texts("es"), WEEKS, {"2": 0.571})
    spec = charts.chart_spec(chart)
    assert chart.chart == "line"
    (layer,) = spec["layer"]  # Gradio's line theme colours each layer's series
    assert layer["mark"]["type"] == "line" and layer["mark"]["point"]["filled"] is True
    rows = spec["data"]["values"]
    assert {(row["week"], row["f1"], row["series"]) for row in rows} == {
        ("2024-08-12", 56, "F1 real"),
        ("2024-08-19", 54, "F1 real"),
        ("2024-08-12", 57, "F1 de validación del modelo"),
        ("2024-08-19", 57, "F1 de validación del modelo"),
    }
    assert layer["encoding"]["color"]["scale"]["domain"] == ["F1 real", "F1 de validación del modelo"]


def test_a_version_without_validation_f1_draws_only_the_realized_line():
    spec = charts.chart_spec(charts.f1_per_week(Texts("en"), WEEKS, {}))
    assert {row["series"] for row in spec["data"]["values"]} == {"Realized F1"}


def test_downloaded_csv_text_cannot_run_as_a_spreadsheet_formula():
    frame = pd.DataFrame({"marca": ['=HYPERLINK("x")', "Coca", "-1+2", "@A1"], "p": [-0.5, 0.1, 0.2, 0.3]})
    safe = spreadsheet_safe(frame)
    assert safe["marca"].tolist() == ['\'=HYPERLINK("x")', "Coca", "'-1+2", "'@A1"]
    assert safe["p"].tolist() == [-0.5, 0.1, 0.2, 0.3] and frame["marca"][0].startswith("=")
