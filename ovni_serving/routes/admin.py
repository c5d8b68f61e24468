"""Operations: force a registry and snapshot check (bearer token; disabled when OVNI_API_TOKEN is unset)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from ovni_serving.schemas import ErrorOut, ReloadOut

router = APIRouter(tags=["admin"])


@router.post(
    "/admin/reload",
    response_model=ReloadOut,
    summary="Check the registry and the snapshot now and swap in what changed",
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
)
async def reload(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer $OVNI_API_TOKEN")] = None,
) -> ReloadOut:
    token = request.app.state.settings.api_token
    if not token:
        raise HTTPException(status_code=403, detail="admin endpoints are disabled: OVNI_API_TOKEN is not set")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong token: send 'Authorization: Bearer <OVNI_API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    store = request.app.state.store
    swapped = await run_in_threadpool(store.refresh, True)
    bundle = store.bundle
    return ReloadOut(
        swapped=swapped,
        model_version=bundle.version if bundle else None,
        week_start=bundle.snapshot.target_week if bundle else None,
        errors=dict(store.status()),
    )
