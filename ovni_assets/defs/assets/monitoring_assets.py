"""Monitoring group: feature drift against the champion's training data, and realized quality of past
batches once their week's actuals have landed. The weekly cycle's plan reads this
metadata (`ovni_assets.cycle.facts`)."""

import dagster as dg
from pydantic import Field

from ovni_assets.defs.metadata import table_metadata
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.monitoring.drift import build_drift_report
from ovni_assets.monitoring.drift_statistics import DriftRules
from ovni_assets.monitoring.quality import recent_quality, score_prediction_batches


def _text(value) -> dg.MetadataValue:
    return dg.MetadataValue.text("" if value is None else str(value))


def _float(value) -> dg.MetadataValue:
    return dg.MetadataValue.float(float("nan") if value is None else float(value))


DEFAULT_RULES = DriftRules()


class DriftConfig(dg.Config):
    """When a feature counts as drifted (docs/monitoring.md); the defaults are the product's rules."""

    psi_threshold: float = Field(
        default=DEFAULT_RULES.psi_threshold,
        description="Smallest PSI that counts as an effect worth acting on.",
    )
    alpha: float = Field(
        default=DEFAULT_RULES.alpha, description="Largest Benjamini-Hochberg adjusted p-value that counts."
    )
    baseline_factor: float = Field(
        default=DEFAULT_RULES.baseline_factor,
        description="How many times its ordinary week-to-week PSI a feature's PSI must reach.",
    )


@dg.asset(
    group_name="monitoring",
    deps=["pair_features", "purchase_model"],
    kinds={"duckdb", "scipy"},
    description="Newest feature week vs the champion's training weeks: PSI, KS / chi-square with "
    f"Benjamini-Hochberg correction; by default a feature drifts when {DEFAULT_RULES.describe()} (its "
    "ordinary week-to-week PSI). Appends to `drift_reports`.",
)
def drift_report(
    context: dg.AssetExecutionContext, config: DriftConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        rules = DriftRules(**config.model_dump())
        report = build_drift_report(con, rules)
        context.log.info(report.note)
        reports_rows = dg.MetadataValue.int(con.execute("SELECT count(*) FROM drift_reports").fetchone()[0])
    if report.report_id is None:  # nothing compared: say so instead of blank numbers
        return dg.MaterializeResult(
            metadata={
                "status": "skipped",
                "skip_reason": report.note,
                "drifted_features": dg.MetadataValue.int(0),
                **({"week_start": str(report.week_start)} if report.week_start else {}),
                **(
                    {"reference_model_version": report.reference_model_version}
                    if report.reference_model_version
                    else {}
                ),
                "report": dg.MetadataValue.md(f"**Skipped.** {report.note}"),
                "dagster/row_count": reports_rows,
            }
        )
    return dg.MaterializeResult(
        metadata={
            "status": "compared",
            "drifted_features": dg.MetadataValue.int(report.drifted_features),
            "max_psi": dg.MetadataValue.float(report.max_psi),
            "week_start": _text(report.week_start),
            "reference_model_version": _text(report.reference_model_version),
            "reference_weeks": _text(", ".join(str(w) for w in report.reference_weeks)),
            "reference_rows": dg.MetadataValue.int(report.reference_rows),
            "current_rows": dg.MetadataValue.int(report.current_rows),
            "baseline_replays": dg.MetadataValue.int(report.baseline_replays),
            "rules": rules.describe(),
            "report_id": _text(report.report_id),
            "report": dg.MetadataValue.md(report.markdown()),
            "dagster/row_count": reports_rows,
        }
    )


@dg.asset(
    group_name="monitoring",
    deps=["predictions", "transactions", "purchase_model"],
    kinds={"duckdb"},
    description="Precision, recall and F1 of every prediction batch whose week has landed, against all real "
    "purchases of that week. Appends to `prediction_quality`.",
)
def prediction_quality(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        report = score_prediction_batches(con)
        context.log.info(report.note)
        preview = recent_quality(con)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "prediction_quality"),
                "batches_scored": dg.MetadataValue.int(report.batches_scored),
                "latest_week_start": _text(report.latest_week_start),
                "latest_batch_id": _text(report.latest_batch_id),
                "latest_model_version": _text(report.latest_model_version),
                "latest_f1": _float(report.latest_f1),
                "latest_precision": _float(report.latest_precision),
                "latest_recall": _float(report.latest_recall),
                "latest_model_val_f1": _float(report.latest_model_val_f1),
                "champion_version": _text(report.champion_version),
                "champion_val_f1": _float(report.champion_val_f1),
                "summary": dg.MetadataValue.md(report.note),
                "preview": dg.MetadataValue.md(
                    preview.to_markdown(index=False) if len(preview) else f"_{report.note}_"
                ),
            }
        )
