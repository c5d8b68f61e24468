"""Habitual (customer, product) pairs: who has which products in the basket, each with its own weekly rate,
and the `product_mix` drift that swaps half of them for products of other segments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ovni_assets.data.synthetic.calibration import (
    BASKET_SIZE_BY_TYPE,
    BASKET_SIZE_SPREAD,
    CORE_PAIR_SHARE,
    CORE_RATE_BETA,
    ENDED_PAIR_SHARE,
    LATE_PAIR_SHARE,
    OCCASIONAL_RATE_BETA,
    PAIR_PERSISTENCE,
    TYPE_NAMES,
    as_weights,
)
from ovni_assets.data.synthetic.catalogue import Catalogue
from ovni_assets.data.synthetic.config import PRODUCT_MIX_REPLACED_SHARE, PRODUCT_MIX_SEGMENT_WEIGHT
from ovni_assets.data.synthetic.units import draw_j


@dataclass
class Pairs:
    """A chunk's habitual (customer, product) pairs."""

    customer: np.ndarray  # index within the chunk
    product: np.ndarray  # index into the sold products
    rate: np.ndarray  # chance of being bought in an active week
    usual_j: np.ndarray
    start: np.ndarray
    end: np.ndarray
    bought_last: np.ndarray  # bought in the customer's last active week


@dataclass(frozen=True)
class ProductMixShift:
    """The `product_mix` drift of a chunk: from `week` on, `pairs` replace the pairs it ended and trials
    draw products from `trial_cdf`."""

    week: int
    pairs: Pairs
    uniforms: np.ndarray  # (pair, week) draws that decide the purchases of `pairs`
    trial_cdf: np.ndarray


def draw_products(rng: np.random.Generator, cdf: np.ndarray, count: int) -> np.ndarray:
    """`count` sold-product indices drawn from the cumulative weights `cdf`."""
    return np.minimum(np.searchsorted(cdf, rng.random(count), side="right"), len(cdf) - 1)


def _draw_pairs(
    rng: np.random.Generator,
    customer: np.ndarray,
    product: np.ndarray,
    type_code: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> Pairs:
    """Basket pairs: a share CORE_PAIR_SHARE bought most active weeks, the others now and then."""
    count = len(customer)
    core = rng.random(count) < CORE_PAIR_SHARE
    rate = np.where(core, rng.beta(*CORE_RATE_BETA, size=count), rng.beta(*OCCASIONAL_RATE_BETA, size=count))
    return Pairs(
        customer=customer,
        product=product,
        rate=rate,
        usual_j=draw_j(rng, type_code[customer]),
        start=start,
        end=end,
        bought_last=rng.random(count) < rate,
    )


def habitual_pairs(
    rng: np.random.Generator,
    catalogue: Catalogue,
    type_code: np.ndarray,
    buys: np.ndarray,
    first_week: np.ndarray,
    weeks: int,
) -> Pairs:
    """The baskets of buying customers: sized by customer type, filled by product popularity; some pairs
    start later than the customer, some end early."""
    count = len(type_code)
    basket_size = np.array([BASKET_SIZE_BY_TYPE[TYPE_NAMES[t]] for t in type_code])
    basket_size *= rng.lognormal(0.0, BASKET_SIZE_SPREAD, size=count)
    reach = catalogue.sold_reach
    inclusion = np.minimum(1.0, basket_size[:, None] * reach[None, :] / reach.sum())
    member = (rng.random((count, len(reach))) < inclusion) & buys[:, None]
    pair_customer, pair_product = np.nonzero(member)
    starts = first_week[pair_customer]
    late_pair = rng.random(len(pair_customer)) < LATE_PAIR_SHARE
    starts = np.where(late_pair, starts + (rng.random(len(starts)) * (weeks - starts)).astype(int), starts)
    ended = rng.random(len(pair_customer)) < ENDED_PAIR_SHARE
    ends = np.where(ended, starts + 1 + (rng.random(len(starts)) * (weeks - starts)).astype(int), weeks)
    return _draw_pairs(rng, pair_customer, pair_product, type_code, starts, ends)


def shift_product_mix(
    rng: np.random.Generator,
    pairs: Pairs,
    catalogue: Catalogue,
    type_code: np.ndarray,
    week: int,
    weeks: int,
) -> ProductMixShift:
    """End a share of `pairs` at `week` (in place) and draw their replacements with segment weights."""
    segment_weight = np.array([PRODUCT_MIX_SEGMENT_WEIGHT[s] for s in catalogue.sold_segment])
    shifted_cdf = np.cumsum(as_weights(catalogue.sold_reach * segment_weight))
    replaced = (pairs.end > week) & (rng.random(len(pairs.end)) < PRODUCT_MIX_REPLACED_SHARE)
    new_customer = pairs.customer[replaced]
    new_product = draw_products(rng, shifted_cdf, len(new_customer))
    new_start = np.maximum(pairs.start[replaced], week)
    pairs.end = np.where(replaced, np.maximum(pairs.start, week), pairs.end)
    new_pairs = _draw_pairs(
        rng, new_customer, new_product, type_code, new_start, np.full(len(new_start), weeks)
    )
    return ProductMixShift(week, new_pairs, rng.random((len(new_customer), weeks)), shifted_cdf)


def pair_purchases(
    pairs: Pairs, uniforms: np.ndarray, active: np.ndarray, week: int, frequency: float
) -> np.ndarray:
    """Indices of the pairs bought this week (a two-state chain per pair over the customer's active weeks)."""
    eligible = active[pairs.customer] & (pairs.start <= week) & (week < pairs.end)
    rate = pairs.rate
    probability = np.where(
        pairs.bought_last, rate + PAIR_PERSISTENCE * (1 - rate), rate * (1 - PAIR_PERSISTENCE)
    )
    bought = eligible & (uniforms < probability * frequency)
    pairs.bought_last = np.where(eligible, bought, pairs.bought_last)
    return np.flatnonzero(bought)
