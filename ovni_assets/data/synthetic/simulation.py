"""A chunk of customers simulated week by week: which customers are active, which basket products and trials
they buy; `orders` turns each week's purchases into order lines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ovni_assets.data.synthetic import reference
from ovni_assets.data.synthetic.baskets import (
    draw_products,
    habitual_pairs,
    pair_purchases,
    shift_product_mix,
)
from ovni_assets.data.synthetic.calibration import (
    ACTIVITY_CONCENTRATION,
    ACTIVITY_MEAN_BY_DELIVERIES,
    ACTIVITY_PERSISTENCE,
    CHURN_SHARE,
    HOLIDAY_FACTOR,
    HOLIDAY_WEEK_SHARE,
    LATE_CUSTOMER_SHARE,
    NEVER_BUYS_SCALE,
    PREFERRED_DAY_BOOST,
    SEASONAL_AMPLITUDE,
    SEASONAL_NOISE,
    TRIALS_PER_ACTIVE_WEEK,
    as_weights,
)
from ovni_assets.data.synthetic.catalogue import Catalogue
from ovni_assets.data.synthetic.config import (
    STREAM_CHUNK,
    STREAM_DRIFT,
    STREAM_SEASON,
    STREAM_WEEK,
    VOLUME_FREQUENCY_FACTOR,
    GeneratorConfig,
)
from ovni_assets.data.synthetic.customers import Customers
from ovni_assets.data.synthetic.orders import ChunkOrders, WeekPurchases
from ovni_assets.data.synthetic.units import draw_j


def season_factors(config: GeneratorConfig) -> np.ndarray:
    """Weekly multiplier of customers' activity: a mild yearly wave, noise and a few holiday weeks."""
    rng = np.random.default_rng([config.seed, STREAM_SEASON])
    day_of_year = np.array(
        [(config.start + timedelta(weeks=week)).timetuple().tm_yday for week in range(config.weeks)]
    )
    factors = 1 + SEASONAL_AMPLITUDE * np.sin(2 * np.pi * day_of_year / 365.25)
    factors += SEASONAL_NOISE * rng.standard_normal(config.weeks)
    holidays = rng.choice(config.weeks, size=round(config.weeks * HOLIDAY_WEEK_SHARE), replace=False)
    factors[holidays] *= HOLIDAY_FACTOR
    return factors


@dataclass
class _Activity:
    """Customers' active weeks: a two-state chain per customer between its first and last week."""

    rate: np.ndarray  # chance of an active week (0 for customers who never buy)
    first_week: np.ndarray
    last_week: np.ndarray  # first week after the customer stopped buying
    active_last: np.ndarray  # active in the customer's previous week

    def active_in(self, rng: np.random.Generator, week: int, season: float) -> np.ndarray:
        in_life = (self.first_week <= week) & (week < self.last_week)
        rate = self.rate
        p_active = np.where(
            self.active_last, rate + ACTIVITY_PERSISTENCE * (1 - rate), rate * (1 - ACTIVITY_PERSISTENCE)
        )
        active = in_life & (rng.random(len(rate)) < p_active * season)
        self.active_last = np.where(in_life, active, self.active_last)
        return active


def _draw_activity(
    rng: np.random.Generator, customers: Customers, weeks: int
) -> tuple[np.ndarray, _Activity]:
    """Who ever buys (by deliveries per week), how often, and when a late customer starts or a churning
    one stops."""
    count = len(customers.ids)
    never_buys = np.array([reference.NEVER_BUYS_BY_DELIVERIES[d] for d in customers.deliveries])
    buys = rng.random(count) >= never_buys * NEVER_BUYS_SCALE
    mean = np.array([ACTIVITY_MEAN_BY_DELIVERIES[d] for d in customers.deliveries])
    rate = np.where(buys, rng.beta(mean * ACTIVITY_CONCENTRATION, (1 - mean) * ACTIVITY_CONCENTRATION), 0.0)
    late = (rng.random(count) < LATE_CUSTOMER_SHARE) & (customers.first_week == 0)
    first_week = np.where(late, rng.integers(0, weeks, size=count), customers.first_week)
    churn = rng.random(count) < CHURN_SHARE
    last_week = np.where(
        churn, first_week + 1 + (rng.random(count) * (weeks - first_week)).astype(int), weeks
    )
    return buys, _Activity(rate, first_week, last_week, active_last=rng.random(count) < rate)


def _weekday_preferences(rng: np.random.Generator, start: date, count: int) -> np.ndarray:
    """Log weights (customer, day offset within a generated week): the real weekday mix, one preferred day
    per customer boosted. Day offsets start at `start`'s weekday."""
    day_weights = np.roll(as_weights(reference.WEEKDAY_LINES), -start.weekday())
    preferred = rng.choice(7, size=count, p=day_weights)
    boosted = np.tile(day_weights, (count, 1))
    boosted[np.arange(count), preferred] *= PREFERRED_DAY_BOOST
    return np.log(boosted)


class ChunkSimulator:
    """One chunk of customers over all weeks; `weeks()` yields each week's order lines as arrays."""

    def __init__(
        self,
        config: GeneratorConfig,
        catalogue: Catalogue,
        customers: Customers,
        global_index: np.ndarray,
        chunk_key: int,
        order_stride: int,
        seasons: np.ndarray,
    ):
        self.config, self.customers, self.chunk_key, self.seasons = config, customers, chunk_key, seasons
        rng = np.random.default_rng([config.seed, STREAM_CHUNK, chunk_key])
        buys, self.activity = _draw_activity(rng, customers, config.weeks)
        day_preferences = _weekday_preferences(rng, config.start, len(customers.ids))
        self.orders = ChunkOrders(
            customers, day_preferences, global_index, order_stride, catalogue.sold_ids, config.start
        )
        self.pairs = habitual_pairs(
            rng, catalogue, customers.type_code, buys, self.activity.first_week, config.weeks
        )
        self.trial_cdf = np.cumsum(as_weights(catalogue.sold_reach))
        mix_week = config.drift_week("product_mix")
        self.product_mix = None
        if mix_week is not None:
            drift_rng = np.random.default_rng([config.seed, STREAM_DRIFT, chunk_key])
            self.product_mix = shift_product_mix(
                drift_rng, self.pairs, catalogue, customers.type_code, mix_week, config.weeks
            )

    def weeks(self) -> Iterator[dict[str, np.ndarray]]:
        config = self.config
        volume_week = config.drift_week("volume")
        for week in range(config.weeks):
            rng = np.random.default_rng([config.seed, STREAM_WEEK, self.chunk_key, week])
            active = self.activity.active_in(rng, week, self.seasons[week])
            volume_on = volume_week is not None and week >= volume_week
            frequency = VOLUME_FREQUENCY_FACTOR if volume_on else 1.0
            purchases = self._purchases(rng, week, active, frequency)
            lines = self.orders.week_lines(rng, week, purchases, volume_on)
            if lines is not None:
                yield lines

    def _purchases(
        self, rng: np.random.Generator, week: int, active: np.ndarray, frequency: float
    ) -> WeekPurchases:
        """The week's basket purchases (with the product-mix drift's pairs, if any), then the trials: Poisson
        many products outside the basket per active customer."""
        habitual = pair_purchases(self.pairs, rng.random(len(self.pairs.rate)), active, week, frequency)
        bought = [(self.pairs, habitual)]
        mix = self.product_mix
        if mix is not None:
            shifted = pair_purchases(mix.pairs, mix.uniforms[:, week], active, week, frequency)
            bought.append((mix.pairs, shifted))
        count = len(self.customers.ids)
        trials = rng.poisson(TRIALS_PER_ACTIVE_WEEK, size=count) * active
        trial_customer = np.repeat(np.arange(count), trials)
        trial_cdf = mix.trial_cdf if mix is not None and week >= mix.week else self.trial_cdf
        trial_product = draw_products(rng, trial_cdf, len(trial_customer))
        return WeekPurchases(
            customer=np.concatenate([pairs.customer[index] for pairs, index in bought] + [trial_customer]),
            product=np.concatenate([pairs.product[index] for pairs, index in bought] + [trial_product]),
            usual_j=np.concatenate(
                [pairs.usual_j[index] for pairs, index in bought]
                + [draw_j(rng, self.customers.type_code[trial_customer])]
            ),
        )
