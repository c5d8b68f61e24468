"""What every column of the warehouse tables means, for the column schemas the Dagster UI shows.

A plain catalogue (no dagster, no duckdb) so any face can use it. `SHARED` holds the columns that mean the
same in every table; `BY_TABLE` the columns of one table, or the ones that mean something else there.
Windows count weeks up to and including the feature week t ("w4" = weeks t-3..t).
"""

from __future__ import annotations

SHARED = {
    "customer_id": "Customer id of the source system.",
    "product_id": "Product id of the source system.",
    "order_id": "Order id of the source system; one order holds several lines.",
    "batch_id": "Ingestion batch that brought the row (one batch per landed file).",
    "source_file": "Name of the landed file the row came from.",
    "file_hash": "SHA-256 of the landed file: its identity (a file is ingested once).",
    "source_row": "Position of the row in its file (0 = first).",
    "ingested_at": "When the batch was ingested (UTC).",
    "region_id": "Sales region of the customer.",
    "zone_id": "Delivery zone of the customer.",
    "customer_type": "Kind of outlet (7 values, e.g. ABARROTES, MINIMARKET); DESCONOCIDO for placeholders.",
    "num_deliver_per_week": "Deliveries the customer gets per week (1–6).",
    "num_visit_per_week": "Sales visits the customer gets per week.",
    "brand": "Brand of the product.",
    "category": "Product category (e.g. BEBIDAS CARBONATADAS).",
    "sub_category": "Product sub-category.",
    "segment": "Price segment: PREMIUM, HIGH, MEDIUM or LOW.",
    "package": "Container: BOTELLA, LATA, TETRA or KEG.",
    "size": "Content of one unit in litres.",
    "is_known": "False for a placeholder row: the id appears in transactions but not in the master data.",
    "week_start": "Monday of the ISO week.",
    "model_version": "Version of registered model `ovni-purchase` that made the prediction.",
    "created_at": "When the row was written (UTC).",
}

PAIR_FEATURES = {
    "week_start": "Feature week t (Monday): every feature uses weeks ≤ t only.",
    "target_week_start": "The week the row predicts: t + 7 days.",
    "weeks_since_last": "Weeks from the pair's last purchase week to t (0 = bought in t); NULL for discovery "
    "rows (never bought).",
    "weeks_since_first": "Weeks from the pair's first purchase week to t; NULL for discovery rows.",
    "bought_w1": "1 if the customer bought the product in week t.",
    "bought_w2": "Weeks of t-1..t in which the pair was bought.",
    "bought_w4": "Weeks of t-3..t in which the pair was bought.",
    "bought_w8": "Weeks of t-7..t in which the pair was bought.",
    "bought_w12": "Weeks of t-11..t in which the pair was bought.",
    "bought_w26": "Weeks of t-25..t in which the pair was bought.",
    "bought_total": "Weeks up to t in which the pair was bought.",
    "units_w4": "Net units of the pair in t-3..t.",
    "units_w12": "Net units of the pair in t-11..t.",
    "orders_w4": "Distinct orders with the pair in t-3..t.",
    "mean_units": "Net units per purchase week of the pair, up to t; NULL for discovery rows.",
    "mean_gap_weeks": "Mean weeks between the pair's purchase weeks up to t; NULL until bought in two weeks.",
    "gap_ratio": "weeks_since_last / mean_gap_weeks: above 1 the pair is overdue; NULL when the gap is.",
    "bought_lag1": "1 if the pair was bought in week t-1.",
    "bought_lag2": "1 if the pair was bought in week t-2.",
    "bought_lag3": "1 if the pair was bought in week t-3.",
    "days_since_last": "Days from the pair's last purchase to the Sunday of t; NULL for discovery rows.",
    "mean_gap_days": "Mean days between the pair's purchase days up to t; NULL until bought on two days.",
    "day_gap_ratio": "days_since_last / mean_gap_days; NULL when the gap is.",
    "cust_days_since_last": "Days from the customer's last purchase (any product) to the Sunday of t.",
    "cust_order_days_per_week": "Days with an order per week of the customer, since its first purchase.",
    "pair_share_w8": "bought_w8 / weeks the customer was active in t-7..t: how often the product is in "
    "the customer's basket lately.",
    "pair_share_total": "bought_total / weeks the customer was active up to t.",
    "cust_activity_rate": "Share of the weeks since the customer's first purchase in which it bought.",
    "cust_active_w1": "1 if the customer bought anything in week t.",
    "cust_active_w4": "Weeks of t-3..t in which the customer bought anything.",
    "cust_active_w12": "Weeks of t-11..t in which the customer bought anything.",
    "cust_weeks_since_last": "Weeks from the customer's last active week to t.",
    "cust_products_w1": "Distinct products the customer bought in week t.",
    "cust_products_w4": "Product-weeks of the customer in t-3..t (sum of distinct products per week).",
    "cust_units_w4": "Net units of the customer (all products) in t-3..t.",
    "cust_products_total": "Distinct products the customer bought up to t.",
    "prod_customers_w1": "Customers who bought the product in week t.",
    "prod_customers_w4": "Mean customers per week who bought the product in t-3..t.",
    "prod_trend": "prod_customers_w4 / (1 + mean customers per week over t-11..t): above 1 the product "
    "is rising.",
    "type_share_w8": "Share of the active customers of the same customer_type who bought the product in "
    "t-7..t (what picks discovery candidates).",
    "latitude": "Customer latitude after the coordinate fixes; NULL when missing or impossible.",
    "longitude": "Customer longitude after the coordinate fixes; NULL when missing or impossible.",
    "is_discovery": "'yes' for a discovery candidate: a top product of the customer's type that the "
    "customer never bought up to t; 'no' for a pair bought in the last 26 weeks.",
    "label": "Whether the pair was bought in the target week; NULL while that week has not landed.",
}

BY_TABLE: dict[str, dict[str, str]] = {
    "raw_transactions": {
        "purchase_date": "Day of the order line, as sent.",
        "items": "Units of the line as sent (multiples of 1/3; negative = a return).",
    },
    "raw_customers": {
        "Y": "Latitude as sent (sometimes swapped with X, or impossible).",
        "X": "Longitude as sent.",
    },
    "raw_products": {},
    "ingested_files": {
        "file_name": "Name of the landed file.",
        "kind": "Which source table the file holds: transactions, customers or products.",
        "row_count": "Rows the file held.",
        "size_bytes": "Size of the file.",
    },
    "customers": {
        "latitude": PAIR_FEATURES["latitude"],
        "longitude": PAIR_FEATURES["longitude"],
        "coordinates_status": "ok, swapped (Y and X exchanged back), invalid or missing (then NULL).",
    },
    "products": {},
    "transactions": {
        "purchase_date": "Day of the order.",
        "items": "Net units of the product in the order (gross minus returned); always > 0.",
        "gross_items": "Units of the order's lines with positive units.",
        "returned_items": "Units returned within the order (lines with negative units).",
        "line_count": "Source lines netted into this row (exact duplicates dropped first).",
    },
    "weekly_purchases": {
        "units": "Net units of the pair in the week.",
        "orders": "Distinct orders with the pair in the week.",
        "purchase_days": "Distinct days with an order of the pair in the week.",
        "first_purchase_date": "First day of the week the pair was bought.",
        "last_purchase_date": "Last day of the week the pair was bought.",
    },
    "pair_features": PAIR_FEATURES,
    "predictions": {
        "week_start": "Target week of the prediction (Monday).",
        "probability": "P(the customer buys the product in the target week), from the model.",
        "will_buy": "probability ≥ the model version's decision threshold.",
        "batch_id": "Prediction batch (one per scoring run; see `prediction_batches`).",
        "rank": "Position of the product in the customer's list, by probability (1 = most likely).",
        "created_at": "When the batch was scored (UTC).",
    },
    "prediction_quality": {
        "week_start": "Target week the batch predicted, now landed.",
        "batch_id": "Prediction batch scored (see `prediction_batches`).",
        "precision": "Share of the predicted buys that were bought.",
        "recall": "Share of all real purchases of the week that were predicted (pairs never bought before "
        "count too).",
        "f1": "Harmonic mean of precision and recall: the headline metric.",
        "n_predicted": "Pairs predicted to buy (will_buy).",
        "n_actual": "Pairs really bought in the week.",
        "true_positives": "Predicted pairs that were bought.",
        "batch_created_at": "When the batch was scored.",
        "scored_at": "When its quality was measured.",
    },
}


def column_description(table: str, column: str) -> str | None:
    """What `column` of `table` means, or None when the catalogue does not say."""
    return BY_TABLE.get(table, {}).get(column) or SHARED.get(column)
