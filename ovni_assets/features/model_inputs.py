"""The feature table's keys and the model's inputs: the contract the feature SQL, training, batch scoring
and the published snapshot share. It imports nothing, so the serving package reads it without the pipeline.
"""

# Model inputs, in the order the model sees them.
NUMERIC_FEATURES = [
    "weeks_since_last",
    "weeks_since_first",
    "bought_w1",
    "bought_w2",
    "bought_w4",
    "bought_w8",
    "bought_w12",
    "bought_w26",
    "bought_total",
    "units_w4",
    "units_w12",
    "orders_w4",
    "mean_units",
    "mean_gap_weeks",
    "gap_ratio",
    "bought_lag1",
    "bought_lag2",
    "bought_lag3",
    "days_since_last",
    "mean_gap_days",
    "day_gap_ratio",
    "cust_days_since_last",
    "cust_order_days_per_week",
    "pair_share_w8",
    "pair_share_total",
    "cust_activity_rate",
    "cust_active_w1",
    "cust_active_w4",
    "cust_active_w12",
    "cust_weeks_since_last",
    "cust_products_w1",
    "cust_products_w4",
    "cust_units_w4",
    "cust_products_total",
    "prod_customers_w1",
    "prod_customers_w4",
    "prod_trend",
    "type_share_w8",
    "num_deliver_per_week",
    "latitude",
    "longitude",
    "size",
]
CATEGORICAL_FEATURES = [
    "customer_type",
    "brand",
    "category",
    "sub_category",
    "segment",
    "package",
    "is_discovery",
]
FEATURE_COLUMNS = NUMERIC_FEATURES + CATEGORICAL_FEATURES
# A feature row is one (customer, product, feature week).
KEY_COLUMNS = ["customer_id", "product_id", "week_start"]
