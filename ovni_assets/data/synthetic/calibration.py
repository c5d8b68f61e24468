"""How the synthetic customers behave: the parameters tuned so that `stats.dataset_statistics` of generated
data matches the real data (docs/synthetic-data.md compares them)."""

from __future__ import annotations

import numpy as np

from ovni_assets.data.synthetic import reference

ACTIVITY_MEAN_BY_DELIVERIES = {1: 0.3, 2: 0.4, 3: 0.66, 4: 0.6, 5: 0.8, 6: 0.8}
ACTIVITY_CONCENTRATION = 1.2  # Beta(mean * c, (1 - mean) * c) spread of customers' activity rates
ACTIVITY_PERSISTENCE = 0.05  # 0 = independent weeks, 1 = never changes state
EXTRA_ORDER_PROBABILITY = 0.19  # per delivery slot beyond the first, in an active week
REPEAT_IN_OTHER_ORDER_SHARE = 0.3  # products of a week bought again in another order of that week
BASKET_SIZE_BY_TYPE = {
    "ABARROTES": 25.0,
    "MAYORISTA": 47.0,
    "CANAL FRIO": 21.0,
    "RESTAURANT": 36.0,
    "SUPERMERCADO": 30.0,
    "MINIMARKET": 72.0,
    "TIENDA DE CONVENIENCIA": 42.0,
}
BASKET_SIZE_SPREAD = 0.7  # log-normal sigma of a customer's basket size around its type's
CORE_PAIR_SHARE = 0.13  # basket products bought in most active weeks; the rest are occasional
CORE_RATE_BETA = (5.5, 1.0)  # chance a basket product is bought in an active week
OCCASIONAL_RATE_BETA = (0.5, 6.0)
PAIR_PERSISTENCE = -0.15  # < 0: a product just bought is less likely the next active week (restocking)
LATE_PAIR_SHARE = 0.3  # basket products the customer only starts buying mid-period
ENDED_PAIR_SHARE = 0.1  # basket products the customer stops buying mid-period
TRIALS_PER_ACTIVE_WEEK = 0.08  # Poisson mean of one-off purchases outside the basket
LATE_CUSTOMER_SHARE = 0.05
NEVER_BUYS_SCALE = 0.75  # late and churning customers add to the measured never-buying shares
CHURN_SHARE = 0.03
USUAL_UNITS_SHARE = 0.6  # lines that repeat the pair's habitual quantity
UNITS_TILT_BY_TYPE = {  # exponent tilting the units curve towards larger quantities
    "ABARROTES": 0.0,
    "MAYORISTA": 0.2,
    "CANAL FRIO": -0.1,
    "RESTAURANT": 0.6,
    "SUPERMERCADO": 0.15,
    "MINIMARKET": 0.3,
    "TIENDA DE CONVENIENCIA": 0.0,
}
PREFERRED_DAY_BOOST = 3.0
RETURN_SHARE = 0.035
RETURN_OTHER_SHARE = 0.03  # returns not of the usual size (all but 2/3 of a unit of the purchase)
RETURN_LARGER_SHARE = 0.01  # returns larger than the purchase they follow
SPLIT_LINE_SHARE = 0.013
DUPLICATE_SHARE = 0.0034
SEASONAL_AMPLITUDE = 0.1
SEASONAL_NOISE = 0.06
HOLIDAY_WEEK_SHARE = 0.1
HOLIDAY_FACTOR = 0.45
COORDINATES_SWAPPED_PER_CUSTOMER = 3 / 1569

# A customer's type code indexes this tuple; UNITS_TILT_BY_TYPE lists the types in the same order.
TYPE_NAMES = tuple(reference.CUSTOMER_TYPE_COUNTS)


def as_weights(values) -> np.ndarray:
    """`values` scaled to sum to 1: a probability vector for `rng.choice` or a CDF."""
    array = np.asarray(values, dtype=float)
    return array / array.sum()
