"""Prediction batches, customers and products from the served snapshot."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query

from ovni_serving.deps import BundleDep
from ovni_serving.schemas import (
    ID_MAX,
    MAX_PAGE,
    CustomerOut,
    EntityId,
    ErrorOut,
    PredictionRow,
    PredictionsPage,
    ProductOut,
)
from ovni_serving.snapshot import records

router = APIRouter(tags=["catalog"])
ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}}


@router.get(
    "/predictions",
    response_model=PredictionsPage,
    summary="Stored prediction batches (newest batch of each week), filtered and paged",
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def predictions(
    bundle: BundleDep,
    week_start: Annotated[date | None, Query(description="Target week (Monday).")] = None,
    customer_id: Annotated[EntityId | None, Query()] = None,
    product_id: Annotated[EntityId | None, Query()] = None,
    will_buy: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> PredictionsPage:
    """Rows of `latest_predictions`, ordered by week (newest first), customer and rank."""
    frame = bundle.snapshot.latest_predictions
    mask = np.ones(len(frame), dtype=bool)
    if week_start is not None:
        mask &= (frame["week_start"] == week_start).to_numpy()
    if customer_id is not None:
        mask &= (frame["customer_id"] == customer_id).to_numpy()
    if product_id is not None:
        mask &= (frame["product_id"] == product_id).to_numpy()
    if will_buy is not None:
        mask &= (frame["will_buy"] == will_buy).to_numpy()
    selected = np.flatnonzero(mask)
    page = frame.iloc[selected[offset : offset + limit]]
    return PredictionsPage(
        total=len(selected),
        limit=limit,
        offset=offset,
        items=[PredictionRow(**row) for row in records(page)],
    )


def _target_week_counts(bundle, column: str, value: int) -> tuple[int, int]:
    frame = bundle.snapshot.features
    rows = np.flatnonzero((frame[column] == value).to_numpy())
    return len(rows), int((bundle.probability[rows] >= bundle.champion.threshold).sum())


@router.get("/customers/{customer_id}", response_model=CustomerOut, summary="A customer", responses=ERRORS)
async def customer(bundle: BundleDep, customer_id: Annotated[int, Path(ge=0, le=ID_MAX)]) -> CustomerOut:
    attributes = bundle.snapshot.customers.get(customer_id)
    if attributes is None:
        raise HTTPException(
            status_code=404, detail=f"unknown customer_id {customer_id} (not in the snapshot)"
        )
    candidates, predicted = _target_week_counts(bundle, "customer_id", customer_id)
    return CustomerOut(
        customer_id=customer_id,
        attributes=attributes,
        week_start=bundle.snapshot.target_week,
        candidates=candidates,
        predicted_purchases=predicted,
    )


@router.get("/products/{product_id}", response_model=ProductOut, summary="A product", responses=ERRORS)
async def product(bundle: BundleDep, product_id: Annotated[int, Path(ge=0, le=ID_MAX)]) -> ProductOut:
    attributes = bundle.snapshot.products.get(product_id)
    if attributes is None:
        raise HTTPException(status_code=404, detail=f"unknown product_id {product_id} (not in the snapshot)")
    candidates, predicted = _target_week_counts(bundle, "product_id", product_id)
    return ProductOut(
        product_id=product_id,
        attributes=attributes,
        week_start=bundle.snapshot.target_week,
        candidates=candidates,
        predicted_buyers=predicted,
    )
