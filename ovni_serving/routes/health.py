"""Liveness, readiness and the served model."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ovni_assets.monitoring.freshness import freshness_for
from ovni_serving.deps import BundleDep, StoreDep
from ovni_serving.schemas import ErrorOut, HealthOut, ModelOut, ReadyOut

router = APIRouter(tags=["health"])
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:/[^\s/'\"():,]+)+/([^\s/'\"():,]+)")


def without_paths(message: str) -> str:
    """A load error as a client may see it: absolute server paths shortened to their file name."""
    return ABSOLUTE_PATH.sub(r"\1", message)


@router.get("/health", response_model=HealthOut, summary="The process is alive")
async def health() -> HealthOut:
    return HealthOut()


@router.get(
    "/ready",
    response_model=ReadyOut,
    summary="A model and a snapshot are loaded",
    description="200 once a model and a snapshot are loaded, whatever their age: `fresh`, `fresh_until`, "
    "`stale_days` and `stale_reason` say whether the served week is still the current one (judged today in "
    "OVNI_TIMEZONE, with OVNI_FRESHNESS_GRACE_DAYS after the week). A stale batch is still the best answer "
    "to serve, so it stays `ready`; 503 only while nothing is loaded.",
    responses={503: {"model": ReadyOut, "description": "Still loading (see errors)."}},
)
async def ready(store: StoreDep, request: Request):
    bundle = store.bundle
    # judged on every call: a batch goes stale with the calendar, not with a reload
    freshness = freshness_for(bundle.snapshot.target_week, request.app.state.settings) if bundle else None
    body = ReadyOut(
        status="ready" if bundle else "preparing" if store.awaiting_first_snapshot() else "loading",
        model_version=bundle.version if bundle else None,
        week_start=bundle.snapshot.target_week if bundle else None,
        data_through=bundle.snapshot.data_through if bundle else None,
        week_in_progress=bundle.snapshot.in_progress if bundle else None,
        snapshot_created_at=bundle.snapshot.created_at if bundle else None,
        fresh=freshness.fresh if freshness else None,
        fresh_until=freshness.fresh_until if freshness else None,
        stale_days=freshness.days_late if freshness else None,
        stale_reason=freshness.reason if freshness else None,
        errors={part: without_paths(message) for part, message in store.status().items()},
    )
    if bundle is None:
        return JSONResponse(status_code=503, content=body.model_dump(mode="json"))
    return body


@router.get(
    "/model",
    response_model=ModelOut,
    summary="The champion version being served",
    responses={503: {"model": ErrorOut}},
)
async def model(bundle: BundleDep) -> ModelOut:
    champion = bundle.champion
    return ModelOut(
        name=champion.name,
        version=champion.version,
        run_id=champion.run_id,
        trained_at=champion.trained_at,
        metrics=champion.metrics,
        threshold=champion.threshold,
        training_snapshot_id=champion.training_snapshot_id,
        train_last_week=champion.train_last_week,
        features=champion.feature_names,
        loaded_at=champion.loaded_at,
    )
