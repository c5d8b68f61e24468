"""Predictions on demand: pairs, what-if feature rows, and a customer's recommendations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from ovni_serving.deps import BundleDep
from ovni_serving.model_store import ServingBundle
from ovni_serving.schemas import (
    EXAMPLE_CUSTOMER_ID,
    EXAMPLE_PRODUCT_ID,
    ID_MAX,
    MAX_K,
    ErrorOut,
    FeaturePrediction,
    FeatureRowsOut,
    FeatureRowsRequest,
    Lang,
    PairFeaturesOut,
    PairPrediction,
    PredictOut,
    PredictRequest,
    Recommendation,
    RecommendationsOut,
)
from ovni_serving.scoring import FeatureMismatch, probabilities, validated_rows

router = APIRouter(tags=["predictions"])
ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
BODY_ERRORS = {400: {"model": ErrorOut, "description": "The body is not UTF-8 JSON."}}


def require_known(bundle: ServingBundle, customer_ids: set[int], product_ids: set[int]) -> None:
    """404 naming the ids the snapshot does not know."""
    snapshot = bundle.snapshot
    unknown_customers = sorted(c for c in customer_ids if c not in snapshot.customers)
    unknown_products = sorted(p for p in product_ids if p not in snapshot.products)
    problems = []
    if unknown_customers:
        problems.append("unknown customer_id " + ", ".join(map(str, unknown_customers[:10])))
    if unknown_products:
        problems.append("unknown product_id " + ", ".join(map(str, unknown_products[:10])))
    if problems:
        raise HTTPException(status_code=404, detail="; ".join(problems) + " (not in the served snapshot)")


@router.post(
    "/predict",
    response_model=PredictOut,
    summary="P(buy) next week for customer-product pairs",
    responses={**ERRORS, **BODY_ERRORS},
)
async def predict(body: PredictRequest, bundle: BundleDep) -> PredictOut:
    """Candidates are answered from scores computed when the model was swapped in; a pair that is not a
    candidate (e.g. never bought) is scored from cold-start features built from the snapshot."""
    week = bundle.snapshot.target_week
    if body.week_start is not None and body.week_start != week:
        raise HTTPException(
            status_code=422,
            detail=f"week_start {body.week_start} cannot be scored: the served snapshot predicts {week}; "
            f"past batches are at GET /predictions?week_start={body.week_start}",
        )
    pairs = [(pair.customer_id, pair.product_id) for pair in body.pairs]
    require_known(bundle, {c for c, _ in pairs}, {p for _, p in pairs})
    known = {pair: bundle.known_probability(*pair) for pair in pairs}
    cold = list(dict.fromkeys(pair for pair, score in known.items() if score is None))
    if cold:
        scores = await run_in_threadpool(bundle.score_cold, cold)
        known.update({pair: (score, True) for pair, score in zip(cold, scores, strict=True)})
    threshold = bundle.champion.threshold
    return PredictOut(
        model_version=bundle.version,
        week_start=week,
        predictions=[
            PairPrediction(
                customer_id=c,
                product_id=p,
                probability=known[(c, p)][0],
                will_buy=known[(c, p)][0] >= threshold,
                cold_start=known[(c, p)][1],
            )
            for c, p in pairs
        ],
    )


@router.post(
    "/predict/features",
    response_model=FeatureRowsOut,
    summary="Score explicit feature rows (what-if)",
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}, **BODY_ERRORS},
)
async def predict_features(body: FeatureRowsRequest, bundle: BundleDep) -> FeatureRowsOut:
    """Rows must carry exactly the columns of the model signature (GET /model lists them) with the
    signature's types; the answer uses the champion's threshold."""
    champion = bundle.champion
    try:
        frame = validated_rows(body.rows, champion.features)
    except FeatureMismatch as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    try:
        scores = await run_in_threadpool(probabilities, champion, frame)
    except (ValueError, TypeError) as error:
        raise HTTPException(status_code=422, detail=f"the model cannot score these rows: {error}") from None
    return FeatureRowsOut(
        model_version=champion.version,
        threshold=champion.threshold,
        predictions=[
            FeaturePrediction(probability=float(s), will_buy=bool(s >= champion.threshold)) for s in scores
        ],
    )


@router.get(
    "/customers/{customer_id}/products/{product_id}/features",
    response_model=PairFeaturesOut,
    summary="The feature row the model scores for a pair (the starting point of a what-if)",
    responses=ERRORS,
)
async def pair_features(
    bundle: BundleDep,
    customer_id: Annotated[int, Path(ge=0, le=ID_MAX, examples=[EXAMPLE_CUSTOMER_ID])],
    product_id: Annotated[int, Path(ge=0, le=ID_MAX, examples=[EXAMPLE_PRODUCT_ID])],
) -> PairFeaturesOut:
    """The pair's candidate row of the target week, or its cold-start row when it is not a candidate."""
    require_known(bundle, {customer_id}, {product_id})
    features, cold = bundle.pair_features(customer_id, product_id)
    return PairFeaturesOut(
        customer_id=customer_id,
        product_id=product_id,
        week_start=bundle.snapshot.target_week,
        model_version=bundle.version,
        cold_start=cold,
        features=features,
    )


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=RecommendationsOut,
    summary="A customer's top-k products for next week, with reasons",
    responses=ERRORS,
)
async def recommendations(
    bundle: BundleDep,
    customer_id: Annotated[int, Path(ge=0, le=ID_MAX, examples=[EXAMPLE_CUSTOMER_ID])],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="How many products.")] = 5,
    lang: Annotated[Lang, Query(description="Language of the reasons: es or en.")] = "es",
) -> RecommendationsOut:
    """The customer's candidates of the target week ranked by the champion's probability (the latest batch
    when it was made by the champion), each with reasons in plain words built from its features."""
    require_known(bundle, {customer_id}, set())
    return RecommendationsOut(
        customer_id=customer_id,
        week_start=bundle.snapshot.target_week,
        model_version=bundle.version,
        lang=lang,
        recommendations=[Recommendation(**item) for item in bundle.recommendations(customer_id, k, lang)],
    )
