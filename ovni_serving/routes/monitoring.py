"""Drift, realized quality, alerts and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from ovni_assets.monitoring.alerts import recent_alerts
from ovni_serving.deps import BundleDep
from ovni_serving.metrics import CONTENT_TYPE
from ovni_serving.schemas import (
    AlertRow,
    AlertsOut,
    DriftFeature,
    DriftOut,
    DriftRules,
    ErrorOut,
    ModelVersionRow,
    ModelVersionsOut,
    QualityOut,
    QualityRow,
)

router = APIRouter(tags=["monitoring"])


@router.get(
    "/drift",
    response_model=DriftOut,
    summary="The newest drift report, feature by feature",
    responses={503: {"model": ErrorOut}},
)
async def drift(bundle: BundleDep) -> DriftOut:
    rows = bundle.snapshot.drift_reports
    if not rows:
        return DriftOut(
            report_id=None,
            week_start=None,
            reference_model_version=None,
            created_at=None,
            drifted_features=0,
            features=[],
        )
    newest = max(rows, key=lambda r: (str(r.get("created_at") or ""), str(r.get("report_id") or "")))
    report = [r for r in rows if r.get("report_id") == newest.get("report_id")]
    features = [DriftFeature(**{k: r.get(k) for k in DriftFeature.model_fields}) for r in report]
    features.sort(key=lambda f: (not f.drifted, -(f.psi or 0.0), f.feature))
    return DriftOut(
        report_id=str(newest.get("report_id")),
        week_start=_text(newest.get("week_start")),
        reference_model_version=_text(newest.get("reference_model_version")),
        created_at=_text(newest.get("created_at")),
        drifted_features=sum(1 for f in features if f.drifted),
        rules=_rules(newest),
        features=features,
    )


def _rules(row: dict) -> DriftRules | None:
    """The rules a report row recorded (reports made before the rules were recorded have none)."""
    values = {name: row.get(name) for name in DriftRules.model_fields}
    return None if any(v is None for v in values.values()) else DriftRules(**values)


@router.get(
    "/quality",
    response_model=QualityOut,
    summary="Realized precision, recall and F1 of past batches",
    responses={503: {"model": ErrorOut}},
)
async def quality(bundle: BundleDep) -> QualityOut:
    rows = [
        QualityRow(**{k: _field(r, k) for k in QualityRow.model_fields})
        for r in bundle.snapshot.prediction_quality
    ]
    rows.sort(key=lambda r: r.week_start or "", reverse=True)
    return QualityOut(items=rows)


@router.get(
    "/model/versions",
    response_model=ModelVersionsOut,
    summary="Registered model versions with their validation metrics, newest first",
    responses={503: {"model": ErrorOut}},
)
async def model_versions(bundle: BundleDep) -> ModelVersionsOut:
    """The snapshot's `model_versions` rows (as the registry was when the snapshot was published)."""
    rows = [
        ModelVersionRow(
            model_version=str(r.get("model_version")),
            run_id=_text(r.get("run_id")),
            trained_at=_text(r.get("trained_at")),
            val_f1=r.get("val_f1"),
            val_precision=r.get("val_precision"),
            val_recall=r.get("val_recall"),
            threshold=r.get("threshold"),
            training_snapshot_id=_text(r.get("training_snapshot_id")),
            is_champion=bool(r.get("is_champion")),
        )
        for r in bundle.snapshot.model_versions
    ]
    rows.sort(key=_training_order, reverse=True)
    return ModelVersionsOut(items=rows)


def _training_order(row: ModelVersionRow) -> tuple[str, int]:
    """(trained_at, version number): sorted in reverse, newest first and versions without a date last."""
    version = row.model_version
    return (row.trained_at or "", int(version) if version.isdigit() else -1)


@router.get(
    "/alerts",
    response_model=AlertsOut,
    summary="The alerts OVNI sent (or could not send), newest first",
    responses={422: {"model": ErrorOut}},
)
async def alerts(
    request: Request, limit: Annotated[int, Query(ge=1, le=500, description="How many, newest first.")] = 50
) -> AlertsOut:
    records = await run_in_threadpool(recent_alerts, request.app.state.settings.home, limit)
    rows = [
        AlertRow(**{name: record.get(name) for name in AlertRow.model_fields if name in record})
        for record in records
        if {"at", "event", "subject", "text", "status"} <= record.keys()
    ]
    failed = sum(1 for row in rows if any(outcome != "ok" for outcome in row.deliveries.values()))
    return AlertsOut(items=rows, failed_deliveries=failed)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics: requests, latency, model version, last reload",
)
async def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.app.state.metrics.render(), media_type=CONTENT_TYPE)


def _text(value) -> str | None:
    return None if value is None else str(value)


def _field(row: dict, name: str):
    value = row.get(name)
    return _text(value) if name in {"week_start", "batch_id", "model_version", "scored_at"} else value
