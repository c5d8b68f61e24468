"""Prediction batches, customers and products from the served snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query

from ovni_serving.deps import BundleDep
from ovni_serving.schemas import (
    ID_MAX,
    MAX_PAGE,
    CustomerListItem,
    CustomerOut,
    CustomersPage,
    EntityId,
    ErrorOut,
    PredictionRow,
    PredictionsPage,
    ProductListItem,
    ProductOut,
    ProductsPage,
)
from ovni_serving.snapshot import records

router = APIRouter(tags=["catalog"])
ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
LIST_ERRORS = {422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, 1 to {MAX_PAGE}.")]
Offset = Annotated[int, Query(ge=0, le=ID_MAX, description="Rows to skip.")]
SHOWN_CHOICES = 20


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


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _same(value: Any, wanted: str) -> bool:
    return value is not None and str(value).casefold() == wanted.casefold()


def _filtered(rows: Iterable[dict[str, Any]], **wanted: str | None) -> list[dict[str, Any]]:
    """Rows whose columns equal the wanted values (case-insensitive); a value no row has is a 422 that
    names the values the snapshot has."""
    rows = list(rows)
    for column, value in wanted.items():
        if value is None:
            continue
        if not any(_same(r.get(column), value) for r in rows):
            known = sorted({str(r[column]) for r in rows if r.get(column) is not None})
            shown = ", ".join(known[:SHOWN_CHOICES]) + (", ..." if len(known) > SHOWN_CHOICES else "")
            raise HTTPException(
                status_code=422, detail=f"unknown {column} {value!r}; the snapshot has: {shown or 'none'}"
            )
    return [r for r in rows if all(value is None or _same(r.get(c), value) for c, value in wanted.items())]


def _contains(row: dict[str, Any], id_column: str, text: str) -> bool:
    """Whether the row's id or any of its text attributes contains `text` (case-insensitive)."""
    needle = text.casefold()
    texts = [str(row[id_column]), *(value for value in row.values() if isinstance(value, str))]
    return any(needle in value.casefold() for value in texts)


@router.get(
    "/customers",
    response_model=CustomersPage,
    summary="Customers of the served snapshot, filtered and paged (by customer_id)",
    responses=LIST_ERRORS,
)
async def customers(
    bundle: BundleDep,
    limit: Limit = 100,
    offset: Offset = 0,
    customer_type: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Exact type, any case (e.g. ABARROTES).")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Text in the id or any text attribute, any case."),
    ] = None,
) -> CustomersPage:
    rows = _filtered(bundle.snapshot.customers.values(), customer_type=customer_type)
    if q is not None:
        rows = [r for r in rows if _contains(r, "customer_id", q)]
    return CustomersPage(
        total=len(rows),
        limit=limit,
        offset=offset,
        items=[
            CustomerListItem(
                customer_id=int(r["customer_id"]),
                customer_type=_text(r.get("customer_type")),
                num_deliver_per_week=_number(r.get("num_deliver_per_week")),
                attributes=r,
            )
            for r in rows[offset : offset + limit]
        ],
    )


@router.get(
    "/products",
    response_model=ProductsPage,
    summary="Products of the served snapshot, filtered and paged (by product_id)",
    responses=LIST_ERRORS,
)
async def products(
    bundle: BundleDep,
    limit: Limit = 100,
    offset: Offset = 0,
    segment: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Exact, any case.")
    ] = None,
    brand: Annotated[str | None, Query(min_length=1, max_length=100, description="Exact, any case.")] = None,
) -> ProductsPage:
    rows = _filtered(bundle.snapshot.products.values(), segment=segment, brand=brand)
    return ProductsPage(
        total=len(rows),
        limit=limit,
        offset=offset,
        items=[
            ProductListItem(
                product_id=int(r["product_id"]),
                segment=_text(r.get("segment")),
                brand=_text(r.get("brand")),
                attributes=r,
            )
            for r in rows[offset : offset + limit]
        ],
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
