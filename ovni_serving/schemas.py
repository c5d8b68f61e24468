"""Request and response models of the API (they are the OpenAPI schema; examples included)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PAIRS = 1000
MAX_FEATURE_ROWS = 1000
MAX_K = 100
MAX_PAGE = 1000
ID_MAX = 2**63 - 1
MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest request: MAX_FEATURE_ROWS rows of every model feature

EntityId = Annotated[int, Field(ge=0, le=ID_MAX)]
# In a JSON body an id is a JSON integer: `true`, `"12"` or `12.0` are refused, not read as 1 or 12.
JsonEntityId = Annotated[int, Field(ge=0, le=ID_MAX, strict=True)]
Scalar = float | int | str | bool | None
Lang = Literal["es", "en"]

# The documented examples are real ids and a real feature row of the demo data (`ovni generate` with its
# default seed: customer 26832 and product 251035 exist whatever the number of customers or weeks), so they
# run as they are; GET /customers/{id}/products/{id}/features gives the row of any pair.
EXAMPLE_CUSTOMER_ID = 26832
EXAMPLE_PRODUCT_ID = 251035
EXAMPLE_OTHER_PRODUCT_ID = 118463
EXAMPLE_FEATURE_ROW: dict[str, float | int | str] = {
    "weeks_since_last": 0,
    "weeks_since_first": 19,
    "bought_w1": 1,
    "bought_w2": 2,
    "bought_w4": 4,
    "bought_w8": 8,
    "bought_w12": 12,
    "bought_w26": 18,
    "bought_total": 18,
    "units_w4": 11.333,
    "units_w12": 33.667,
    "orders_w4": 5,
    "mean_units": 2.87,
    "mean_gap_weeks": 1.118,
    "gap_ratio": 0,
    "bought_lag1": 1,
    "bought_lag2": 1,
    "bought_lag3": 1,
    "days_since_last": 6,
    "mean_gap_days": 6.143,
    "day_gap_ratio": 0.977,
    "cust_days_since_last": 3,
    "cust_order_days_per_week": 1.35,
    "pair_share_w8": 1,
    "pair_share_total": 1,
    "cust_activity_rate": 0.9,
    "cust_active_w1": 1,
    "cust_active_w4": 4,
    "cust_active_w12": 12,
    "cust_weeks_since_last": 0,
    "cust_products_w1": 3,
    "cust_products_w4": 14,
    "cust_units_w4": 52.333,
    "cust_products_total": 8,
    "prod_customers_w1": 6,
    "prod_customers_w4": 9,
    "prod_trend": 0.982,
    "type_share_w8": 0.327,
    "num_deliver_per_week": 4,
    "latitude": -46.487,
    "longitude": -106.969,
    "size": 0.25,
    "customer_type": "ABARROTES",
    "brand": "Brand 15",
    "category": "BEBIDAS CARBONATADAS",
    "sub_category": "GASEOSAS",
    "segment": "MEDIUM",
    "package": "BOTELLA",
    "is_discovery": "no",
}


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in words a person understands.")


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    status: Literal["ready", "loading", "preparing"] = Field(
        description="`preparing` until the pipeline has published a first snapshot (a new home), `loading` "
        "while a published model or snapshot is being loaded."
    )
    model_version: str | None = Field(description="Champion version being served.")
    week_start: date | None = Field(description="Target week of the served snapshot (Monday).")
    data_through: date | None = Field(
        default=None, description="Newest day with data in the snapshot (the export runs through it)."
    )
    week_in_progress: bool | None = Field(
        default=None,
        description="True when the target week is the newest landed week, known up to data_through: the "
        "pairs bought so far are certain, the others are predicted for the days to come.",
    )
    snapshot_created_at: str | None
    fresh: bool | None = Field(
        default=None,
        description="Whether the served week is still the current one: true until week_start + 7 days + "
        "OVNI_FRESHNESS_GRACE_DAYS, today in OVNI_TIMEZONE. A stale batch is still served (status stays "
        "`ready`): it is the best answer there is until the next one is published.",
    )
    fresh_until: date | None = Field(
        default=None, description="The last day the served batch counts as current."
    )
    stale_days: int | None = Field(
        default=None, ge=0, description="Days past fresh_until (0 while fresh): 1 on the first stale day."
    )
    stale_reason: str | None = Field(
        default=None, description="Why the batch is stale, in words (null while it is fresh)."
    )
    errors: dict[str, str] = Field(
        description="Last load error per part (registry, snapshot, bundle); the old bundle keeps serving."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "model_version": "3",
                    "week_start": "2024-10-07",
                    "data_through": "2024-10-06",
                    "week_in_progress": False,
                    "snapshot_created_at": "2024-10-06T22:00:00",
                    "fresh": True,
                    "fresh_until": "2024-10-15",
                    "stale_days": 0,
                    "stale_reason": None,
                    "errors": {},
                }
            ]
        }
    )


class ModelOut(BaseModel):
    name: str
    version: str
    run_id: str
    trained_at: str | None
    metrics: dict[str, float] = Field(description="Validation metrics of the training run (val_*).")
    threshold: float = Field(description="Decision threshold: will_buy = probability >= threshold.")
    training_snapshot_id: str | None
    train_last_week: str | None
    features: list[str] = Field(description="Input columns of the model signature, in order.")
    loaded_at: str


class Pair(BaseModel):
    customer_id: JsonEntityId
    product_id: JsonEntityId


class PredictRequest(BaseModel):
    pairs: list[Pair] = Field(min_length=1, max_length=MAX_PAIRS, description=f"1 to {MAX_PAIRS} pairs.")
    week_start: date | None = Field(
        default=None, description="Target week (Monday); only the snapshot's target week can be scored."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "pairs": [
                        {"customer_id": EXAMPLE_CUSTOMER_ID, "product_id": EXAMPLE_PRODUCT_ID},
                        {"customer_id": EXAMPLE_CUSTOMER_ID, "product_id": EXAMPLE_OTHER_PRODUCT_ID},
                    ]
                }
            ]
        }
    )


class PairPrediction(BaseModel):
    customer_id: int
    product_id: int
    probability: float = Field(ge=0, le=1)
    will_buy: bool
    cold_start: bool = Field(description="True when the pair had no candidate row (cold-start features).")


class PredictOut(BaseModel):
    model_version: str
    week_start: date
    predictions: list[PairPrediction]


class FeatureRowsRequest(BaseModel):
    rows: list[dict[str, Scalar]] = Field(
        min_length=1,
        max_length=MAX_FEATURE_ROWS,
        description="Feature rows with exactly the columns of the model signature (see GET /model).",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"rows": [EXAMPLE_FEATURE_ROW]}]})


class FeaturePrediction(BaseModel):
    probability: float = Field(ge=0, le=1)
    will_buy: bool


class FeatureRowsOut(BaseModel):
    model_version: str
    threshold: float
    predictions: list[FeaturePrediction]


class PairFeaturesOut(BaseModel):
    customer_id: int
    product_id: int
    week_start: date
    model_version: str
    cold_start: bool = Field(description="True when the row was built by the cold-start rules.")
    features: dict[str, Scalar] = Field(
        description="The row the model scores for the pair; send it (edited) to POST /predict/features."
    )


class Recommendation(BaseModel):
    product_id: int
    probability: float = Field(ge=0, le=1)
    will_buy: bool
    rank: int = Field(ge=1)
    reasons: list[str]


class RecommendationsOut(BaseModel):
    customer_id: int
    week_start: date
    model_version: str
    lang: Lang
    recommendations: list[Recommendation]


class PredictionRow(BaseModel):
    week_start: date
    customer_id: int
    product_id: int
    probability: float
    will_buy: bool
    rank: int | None
    model_version: str | None
    batch_id: str | None
    created_at: str | None


class PredictionsPage(BaseModel):
    total: int = Field(description="Rows matching the filters.")
    limit: int
    offset: int
    items: list[PredictionRow]


class CustomerOut(BaseModel):
    customer_id: int
    attributes: dict[str, Scalar] = Field(description="The customer's row in the snapshot.")
    week_start: date
    candidates: int = Field(description="Candidate products scored for the target week.")
    predicted_purchases: int = Field(description="Candidates with will_buy for the target week.")


class ProductOut(BaseModel):
    product_id: int
    attributes: dict[str, Scalar] = Field(description="The product's row in the snapshot.")
    week_start: date
    candidates: int = Field(description="Customers for whom the product is a candidate in the target week.")
    predicted_buyers: int = Field(description="Of those, how many will_buy.")


class CustomerListItem(BaseModel):
    customer_id: int
    customer_type: str | None
    num_deliver_per_week: float | None = Field(description="Deliveries per week.")
    attributes: dict[str, Scalar] = Field(description="The customer's row in the snapshot.")


class CustomersPage(BaseModel):
    total: int = Field(description="Customers matching the filters.")
    limit: int
    offset: int
    items: list[CustomerListItem]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 1,
                    "limit": 100,
                    "offset": 0,
                    "items": [
                        {
                            "customer_id": EXAMPLE_CUSTOMER_ID,
                            "customer_type": "ABARROTES",
                            "num_deliver_per_week": 4.0,
                            "attributes": {
                                "customer_id": EXAMPLE_CUSTOMER_ID,
                                "region_id": 80,
                                "zone_id": 5148,
                                "customer_type": "ABARROTES",
                                "num_deliver_per_week": 4.0,
                            },
                        }
                    ],
                }
            ]
        }
    )


class ProductListItem(BaseModel):
    product_id: int
    segment: str | None
    brand: str | None
    attributes: dict[str, Scalar] = Field(description="The product's row in the snapshot.")


class ProductsPage(BaseModel):
    total: int = Field(description="Products matching the filters.")
    limit: int
    offset: int
    items: list[ProductListItem]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 1,
                    "limit": 100,
                    "offset": 0,
                    "items": [
                        {
                            "product_id": EXAMPLE_PRODUCT_ID,
                            "segment": "MEDIUM",
                            "brand": "Brand 15",
                            "attributes": {
                                "product_id": EXAMPLE_PRODUCT_ID,
                                "brand": "Brand 15",
                                "segment": "MEDIUM",
                                "size": 0.25,
                            },
                        }
                    ],
                }
            ]
        }
    )


class ModelVersionRow(BaseModel):
    model_version: str
    run_id: str | None
    trained_at: str | None
    val_f1: float | None
    val_precision: float | None
    val_recall: float | None
    threshold: float | None
    training_snapshot_id: str | None
    is_champion: bool


class ModelVersionsOut(BaseModel):
    items: list[ModelVersionRow] = Field(description="Registered versions, newest first.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "model_version": "3",
                            "run_id": "5f0c9a1e2b3d4c5e6f708192a3b4c5d6",
                            "trained_at": "2024-10-06T21:40:00",
                            "val_f1": 0.61,
                            "val_precision": 0.58,
                            "val_recall": 0.65,
                            "threshold": 0.35,
                            "training_snapshot_id": "snap-20241006",
                            "is_champion": True,
                        }
                    ]
                }
            ]
        }
    )


class DriftFeature(BaseModel):
    feature: str
    kind: str | None
    psi: float | None
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    baseline_psi: float | None = Field(
        default=None, description="Largest PSI of the same comparison in ordinary weeks (the bar to beat)."
    )
    drifted: bool | None


class DriftRules(BaseModel):
    """When the report counted a feature as drifted: all three must hold."""

    psi_threshold: float = Field(description="Smallest PSI that counts.")
    alpha: float = Field(description="Largest Benjamini-Hochberg adjusted p-value that counts.")
    baseline_factor: float = Field(
        description="How many times its ordinary week-to-week PSI the PSI must be."
    )


class DriftOut(BaseModel):
    report_id: str | None = Field(description="Newest drift report; null when none was made yet.")
    week_start: str | None
    reference_model_version: str | None
    created_at: str | None
    drifted_features: int
    rules: DriftRules | None = Field(
        default=None, description="The rules this report applied; null for a report that did not record them."
    )
    features: list[DriftFeature]


class QualityRow(BaseModel):
    week_start: str | None
    batch_id: str | None
    model_version: str | None
    precision: float | None
    recall: float | None
    f1: float | None
    n_predicted: int | None
    n_actual: int | None
    scored_at: str | None


class QualityOut(BaseModel):
    items: list[QualityRow] = Field(description="Realized quality of past batches, newest week first.")


class ReloadOut(BaseModel):
    swapped: bool = Field(description="True when a new bundle was swapped in by this check.")
    model_version: str | None
    week_start: date | None
    errors: dict[str, str]


class AlertRow(BaseModel):
    at: str = Field(description="When the event happened (UTC, ISO 8601).")
    event: str = Field(
        description="file_held, run_failed, retrain_triggered, quality_dropped or champion_changed."
    )
    subject: str = Field(description="What it is about: a file, a Dagster run id, a model version.")
    text: str = Field(description="The alert's text as sent.")
    status: str = Field(
        description="sent, partly sent, failed (no channel took it), suppressed (sent within the cooldown), "
        "covered by file_held, or no channel (none configured)."
    )
    deliveries: dict[str, str] = Field(
        default_factory=dict, description="Per channel (webhook, email): `ok` or the last error."
    )


class AlertsOut(BaseModel):
    items: list[AlertRow] = Field(description="Recorded alerts, newest first.")
    failed_deliveries: int = Field(description="How many of these could not be delivered on some channel.")
