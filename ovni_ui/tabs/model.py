"""Modelo y monitoreo: the champion, every registered version, realized F1 per week, data drift, and
whether alerts reach someone."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from ovni_ui import charts, views
from ovni_ui.formatting import day, minutes
from ovni_ui.page import Tab, handler

VERSION_COLUMNS = (
    "col_version",
    "col_champion",
    "col_trained_at",
    "col_val_f1",
    "col_val_precision",
    "col_val_recall",
    "col_threshold",
    "col_weeks_served",
    "col_realized_f1",
)


class ModelTab(Tab):
    """The champion card, the versions table, and the quality and drift charts, each under its note."""

    def render(self, status: gr.HTML) -> None:
        tr = self.tr
        with gr.Tab(tr("tab_model"), id="model") as tab:
            with gr.Row():
                message = gr.HTML(elem_id="ovni-model-message")
                refresh = gr.Button(tr("refresh"), size="sm", scale=0, min_width=140)
            champion = gr.HTML()
            with gr.Row(equal_height=False):
                with gr.Column():
                    quality_note = gr.HTML(elem_id="ovni-quality-note")
                    quality_plot = self._render_quality_plot()
                versions = gr.Dataframe(
                    headers=[tr(key) for key in VERSION_COLUMNS],
                    label=tr("versions_title"),
                    interactive=False,
                    max_height=300,
                )
            drift_note = gr.HTML(elem_id="ovni-drift-note")
            drift_plot = self._render_drift_plot()
            alerts_note = gr.HTML(elem_id="ovni-alerts-note")
        outputs = [
            status,
            message,
            champion,
            versions,
            quality_note,
            quality_plot,
            drift_note,
            drift_plot,
            alerts_note,
        ]
        refresh.click(self.monitoring, None, outputs, api_name="monitoring")
        tab.select(self.monitoring, None, outputs, api_visibility="private")

    def _render_quality_plot(self) -> gr.Plot:
        """Realized F1 per week (`charts.f1_per_week`: its title, axes and points come with it)."""
        return gr.Plot(visible=False, show_label=False, elem_id="ovni-quality-plot")

    def _render_drift_plot(self) -> gr.Plot:
        """PSI per feature (`charts.psi_per_feature`), coloured by drift state."""
        return gr.Plot(visible=False, show_label=False, elem_id="ovni-drift-plot")

    @handler("", None, "", gr.update(visible=False), "", gr.update(visible=False), "")
    def monitoring(self) -> tuple:
        """Champion card, version history, realized F1 per week against validation, drift per feature,
        and whether alerts reach someone.

        Outputs: message (how current the served week is), champion card, versions, quality note, quality
        chart, drift note, drift chart, alert delivery. A chart without enough data is hidden and its note,
        right above it, says why."""
        served = views.freshness(self.tr, self.api.ready())
        model = self.api.model()
        registered = self.api.model_versions()
        quality_rows = [q for q in self.api.quality() if q.get("f1") is not None]
        champion = next((v for v in registered if str(v["model_version"]) == str(model["version"])), {})
        # One training time per version: the registry's, as in the versions table.
        trained_at = minutes(champion.get("trained_at") or model.get("trained_at"))
        card = views.champion_card(self.tr, model, trained_at)
        versions = self._versions(registered, quality_rows)
        quality_note, quality_chart = self._quality(registered, quality_rows)
        drift_note, drift_chart = self._drift(self.api.drift())
        alerts = views.alert_delivery(self.tr, self.api.alerts())
        return served, card, versions, quality_note, quality_chart, drift_note, drift_chart, alerts

    def _versions(self, registered: list[dict], quality_rows: list[dict]) -> pd.DataFrame:
        """Every registered version (newest first) with the realized F1 of its weeks, numbers formatted."""
        tr = self.tr
        realized: dict[str, list[float]] = {}
        for row in quality_rows:
            realized.setdefault(str(row.get("model_version")), []).append(float(row["f1"]))
        rows = []
        for version in registered:
            f1s = realized.get(str(version["model_version"]), [])
            rows.append(
                {
                    tr("col_version"): f"v{version['model_version']}",
                    tr("col_champion"): "★" if version.get("is_champion") else "",
                    tr("col_trained_at"): minutes(version.get("trained_at")),
                    tr("col_val_f1"): tr.number(version.get("val_f1"), 3),
                    tr("col_val_precision"): tr.number(version.get("val_precision"), 3),
                    tr("col_val_recall"): tr.number(version.get("val_recall"), 3),
                    tr("col_threshold"): tr.percent(version.get("threshold")),
                    tr("col_weeks_served"): len(f1s),
                    tr("col_realized_f1"): tr.number(sum(f1s) / len(f1s), 3) if f1s else "—",
                }
            )
        return pd.DataFrame(rows, columns=[tr(key) for key in VERSION_COLUMNS])

    def _quality(self, registered: list[dict], quality_rows: list[dict]) -> tuple[str, Any]:
        """Realized F1 per week beside the validation F1 of the version that made each week's batch; one
        week draws no line, so the note compares it with validation instead."""
        tr = self.tr
        validation = {str(v["model_version"]): v.get("val_f1") for v in registered}
        rows = sorted(quality_rows, key=lambda q: str(q["week_start"]))
        if not rows:
            return views.banner("info", tr("quality_empty")), charts.hidden_chart()
        latest = rows[-1]
        week, f1 = day(latest["week_start"]), tr.number(latest["f1"], 3)
        if len(rows) == 1:
            val_f1 = tr.number(validation.get(str(latest.get("model_version"))), 3)
            note = tr("quality_one_week", week=week, f1=f1, val_f1=val_f1)
            return views.banner("info", note), charts.hidden_chart()
        note = tr("quality_latest", week=week, f1=f1)
        return views.banner("info", note), charts.visible_chart(charts.f1_per_week(tr, rows, validation))

    def _drift(self, drift: dict) -> tuple[str, Any]:
        """PSI per feature, coloured by the drift rule: flagged, or which of its conditions is missing."""
        tr = self.tr
        features = drift.get("features") or []
        if not features:
            return views.banner("info", tr("drift_empty")), charts.hidden_chart()
        shown = charts.charted_features(features)
        note = tr(
            "drift_week",
            week=day(drift.get("week_start")),
            flagged=sum(bool(f.get("drifted")) for f in features),
            total=len(features),
            shown=len(shown),
        )
        rules = drift.get("rules")
        rule = (
            tr(
                "drift_rule",
                psi=tr.number(rules["psi_threshold"], 1),
                factor=tr.number(rules["baseline_factor"], 1),
            )
            if rules
            else ""
        )
        chart = charts.psi_per_feature(tr, shown, rules)
        return views.banner("info", f"{note} {rule}".strip()), charts.visible_chart(chart)
