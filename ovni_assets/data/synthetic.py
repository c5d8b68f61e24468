"""Calibrated synthetic SodAI data: `transacciones`, `clientes`, `productos` in the source schema.

What is generated (calibrated against `../shared/data/sodai`; `synthetic_stats.dataset_statistics` measures
both, `docs/synthetic-data.md` lists the numbers):
- `productos`: a 971-product catalogue with the real attribute counts (brands, category, sub-category,
  segment, package, size), of which 100 products ever sell, with the real "how many customers buy it" curve.
- `clientes`: the real customer-type and deliveries-per-week mix, one region and zone, coordinates around
  X ≈ -108 (longitude), Y ≈ -46.6 (latitude); one customer has no X and a few (about 3 per 1,569) have X and
  Y swapped (Y ≈ -108).
- `transacciones`: each buying customer has a habitual basket (its size depends on the customer type; which
  products, on their popularity) and a weekly activity rate that depends on its deliveries per week. A week is
  active with a two-state chain; in an active week each basket product is bought with the pair's own rate
  (a few "core" products most weeks, the others now and then; a product just bought is a little less likely
  the next week, a restocking cadence), plus occasional trials of other products (new pairs). Some basket
  products start or stop mid-period, a few customers arrive late or stop buying, and customers with 1–2
  deliveries a week mostly never buy. An active week has 1 + Binomial(deliveries - 1, p) orders on distinct
  days (one `order_id` per customer and day, increasing with the date); a product is sometimes bought in two
  orders of a week. Units are (2j + 1)/3 (thirds) from the real units curve, usually the pair's habitual
  quantity. About 3.4 % of lines are returns (a negative line in the same order as a purchase of the same
  product, nearly always all of it but 2/3 of a unit, as in the real data; 1 % more than was bought), 1.3 %
  are a second line for the same product and order, 0.34 % are exact duplicates. Activity follows a mild
  yearly wave, weekly noise and a few holiday weeks at 45 %.

Drifts (`--drift KIND@WEEK`, WEEK 0-based from `start`; every order line before WEEK is exactly the line the
same seed writes without the drift):
- `product_mix`: at WEEK, half of every customer's habitual products (`PRODUCT_MIX_REPLACED_SHARE`) are
  replaced by products drawn with segment weights `PRODUCT_MIX_SEGMENT_WEIGHT` (towards LOW and HIGH, away
  from PREMIUM); trials use the same weights. The PREMIUM share of lines drops, new pairs spike.
- `volume`: from WEEK, units per line × `VOLUME_UNITS_FACTOR` (1.6, rounded to thirds) and each habitual
  pair's weekly purchase probability × `VOLUME_FREQUENCY_FACTOR` (0.5).
- `new_customers`: `NEW_CUSTOMERS_SHARE` (20 %) more customers, added to `clientes` with new ids, each
  buying like the others from WEEK on (none of them buys before WEEK).

Generation runs in chunks of `CHUNK_CUSTOMERS` customers, each with its own random streams (per week), and
writes each chunk to parquet as it goes, so memory stays flat in the number of customers and the output is
deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ovni_assets.data import synthetic_catalogue as ref

# --- behaviour, calibrated so that synthetic_stats matches the real data (see docs/synthetic-data.md) ---
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

# --- drifts ---
PRODUCT_MIX_REPLACED_SHARE = 0.5
PRODUCT_MIX_SEGMENT_WEIGHT = {"PREMIUM": 0.25, "MEDIUM": 1.0, "HIGH": 3.0, "LOW": 3.0}
VOLUME_UNITS_FACTOR = 1.6
VOLUME_FREQUENCY_FACTOR = 0.5
NEW_CUSTOMERS_SHARE = 0.2
DRIFT_KINDS = ("product_mix", "volume", "new_customers")

CHUNK_CUSTOMERS = 4000
REGION_ID, ZONE_ID = 80, 5148
ORDER_ID_OFFSET = 1000

TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("product_id", pa.int64()),
        ("order_id", pa.int64()),
        ("purchase_date", pa.timestamp("ns")),
        ("items", pa.float64()),
    ]
)
CUSTOMERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("region_id", pa.int64()),
        ("zone_id", pa.int64()),
        ("customer_type", pa.string()),
        ("Y", pa.float64()),
        ("X", pa.float64()),
        ("num_deliver_per_week", pa.int64()),
        ("num_visit_per_week", pa.int64()),
    ]
)
PRODUCTS_SCHEMA = pa.schema(
    [
        ("product_id", pa.int64()),
        ("brand", pa.string()),
        ("category", pa.string()),
        ("sub_category", pa.string()),
        ("segment", pa.string()),
        ("package", pa.string()),
        ("size", pa.float64()),
    ]
)

# Independent random streams, so that one part of the data never shifts another's draws.
_STREAM_CUSTOMERS, _STREAM_WAVE, _STREAM_PRODUCTS, _STREAM_SEASON = 1, 2, 3, 4
_STREAM_CHUNK, _STREAM_WEEK, _STREAM_DRIFT = 5, 6, 7
_WAVE_CHUNK_KEY = 1_000_000


@dataclass(frozen=True)
class Drift:
    kind: str
    week: int


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 1500
    weeks: int = 40
    start: date = date(2024, 1, 1)
    seed: int = 7
    drifts: tuple[Drift, ...] = ()

    def drift_week(self, kind: str) -> int | None:
        """The week a drift of this kind starts, or None."""
        return next((d.week for d in self.drifts if d.kind == kind), None)

    def validate(self) -> None:
        if self.customers < 1 or self.weeks < 1:
            raise ValueError(f"customers and weeks must be at least 1 (got {self.customers}, {self.weeks})")
        kinds = [d.kind for d in self.drifts]
        for drift in self.drifts:
            if not 0 <= drift.week < self.weeks:
                raise ValueError(
                    f"drift {drift.kind}@{drift.week}: week must be between 0 and {self.weeks - 1} "
                    f"(0-based index of the {self.weeks} generated weeks)"
                )
            if kinds.count(drift.kind) > 1:
                raise ValueError(f"drift {drift.kind} is given more than once")


def parse_drift(spec: str) -> Drift:
    """Parse `KIND@WEEK` (e.g. `volume@30`); ValueError with a one-line message if malformed."""
    kind, separator, week_text = spec.strip().partition("@")
    if not separator or kind not in DRIFT_KINDS:
        raise ValueError(f"bad drift {spec!r}: expected KIND@WEEK with KIND one of {', '.join(DRIFT_KINDS)}")
    try:
        week = int(week_text)
    except ValueError:
        raise ValueError(f"bad drift {spec!r}: WEEK must be a whole number, got {week_text!r}") from None
    if week < 0:
        raise ValueError(f"bad drift {spec!r}: WEEK is a 0-based week index and cannot be negative")
    return Drift(kind, week)


# ----------------------------------------------------------------------------------------------------------
# Products and customers (small: built whole)


@dataclass(frozen=True)
class Catalogue:
    table: pa.Table
    sold_ids: np.ndarray  # product_id of the sold products
    sold_reach: np.ndarray  # share of buying customers that ever buy each sold product
    sold_segment: np.ndarray


def _quota(counts: dict, rng: np.random.Generator) -> list:
    """Every key repeated by its count, shuffled: exact marginals in random order."""
    values = [key for key, count in counts.items() for _ in range(count)]
    return [values[i] for i in rng.permutation(len(values))]


def build_catalogue(seed: int) -> Catalogue:
    rng = np.random.default_rng([seed, _STREAM_PRODUCTS])
    rows = []
    for sold in (True, False):
        segments = _quota(ref.SOLD_SEGMENT_SUB_CATEGORY if sold else ref.UNSOLD_SEGMENT_SUB_CATEGORY, rng)
        packages = _quota(ref.SOLD_PACKAGE_SIZE if sold else ref.UNSOLD_PACKAGE_SIZE, rng)
        brand_counts = {b: (s if sold else total - s) for b, (total, s) in ref.BRAND_COUNTS.items()}
        brands = _quota(brand_counts, rng)
        rows += [(sold, b, s, p) for b, s, p in zip(brands, segments, packages, strict=True)]
    ids = rng.choice(np.arange(1, 300_000), size=len(rows), replace=False)
    reach = np.array(ref.SOLD_PRODUCT_REACH, dtype=float) / ref.REACH_BASE_CUSTOMERS
    sold_rows = [i for i, row in enumerate(rows) if row[0]]
    order = rng.permutation(len(rows))  # file order: sold products scattered through the catalogue
    table = pa.table(
        {
            "product_id": ids[order],
            "brand": [f"Brand {rows[i][1]}" for i in order],
            "category": [ref.SUB_CATEGORY_TO_CATEGORY[rows[i][2][1]] for i in order],
            "sub_category": [rows[i][2][1] for i in order],
            "segment": [rows[i][2][0] for i in order],
            "package": [rows[i][3][0] for i in order],
            "size": [float(rows[i][3][1]) for i in order],
        },
        schema=PRODUCTS_SCHEMA,
    )
    return Catalogue(
        table=table,
        sold_ids=ids[sold_rows],
        sold_reach=reach[rng.permutation(len(reach))],
        sold_segment=np.array([rows[i][2][0] for i in sold_rows]),
    )


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray
    type_code: np.ndarray  # index into TYPE_NAMES
    deliveries: np.ndarray
    first_week: np.ndarray  # week the customer may start buying (the new-customer wave's week, else 0)


TYPE_NAMES = tuple(ref.CUSTOMER_TYPE_COUNTS)


def _weights(values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _draw_customers(rng: np.random.Generator, count: int, first_id: int, first_week: int) -> Customers:
    ids = first_id + np.cumsum(rng.integers(1, 2600, size=count))
    type_code = rng.choice(len(TYPE_NAMES), size=count, p=_weights(list(ref.CUSTOMER_TYPE_COUNTS.values())))
    deliveries = rng.choice(
        list(ref.DELIVERIES_PER_WEEK_COUNTS),
        size=count,
        p=_weights(list(ref.DELIVERIES_PER_WEEK_COUNTS.values())),
    )
    return Customers(ids, type_code, deliveries, np.full(count, first_week))


def _coordinates(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitude Y and longitude X around three towns, like the real customers."""
    centres = np.array([(-46.55, -107.90), (-46.45, -107.30), (-47.08, -108.30)])
    spread = np.array([(0.06, 0.15), (0.05, 0.15), (0.03, 0.05)])
    town = rng.choice(3, size=count, p=[0.7, 0.2, 0.1])
    points = centres[town] + spread[town] * rng.standard_normal((count, 2))
    return points[:, 0], points[:, 1]


def build_customers(config: GeneratorConfig) -> tuple[Customers, pa.Table]:
    """All customers (and the new-customer wave, if any) and the `clientes` table."""
    base = _draw_customers(
        np.random.default_rng([config.seed, _STREAM_CUSTOMERS]), config.customers, 20_000, 0
    )
    rng = np.random.default_rng([config.seed, _STREAM_CUSTOMERS, 1])
    y, x = _coordinates(rng, config.customers)
    x_valid = np.ones(config.customers, dtype=bool)
    anomalies = rng.permutation(config.customers)
    swapped = anomalies[1 : 1 + max(1, round(config.customers * COORDINATES_SWAPPED_PER_CUSTOMER))]
    x_valid[anomalies[0]] = False
    y[swapped], x[swapped] = x[swapped].copy(), y[swapped].copy()
    parts = [(base, y, x, x_valid)]
    wave_week = config.drift_week("new_customers")
    if wave_week is not None:
        wave_rng = np.random.default_rng([config.seed, _STREAM_WAVE])
        wave_count = max(1, round(config.customers * NEW_CUSTOMERS_SHARE))
        wave = _draw_customers(wave_rng, wave_count, int(base.ids[-1]), wave_week)
        wave_y, wave_x = _coordinates(wave_rng, wave_count)
        parts.append((wave, wave_y, wave_x, np.ones(wave_count, dtype=bool)))
    customers = Customers(
        *(np.concatenate([getattr(p[0], f) for p in parts]) for f in Customers.__dataclass_fields__)
    )
    count = len(customers.ids)
    table = pa.table(
        {
            "customer_id": customers.ids,
            "region_id": np.full(count, REGION_ID),
            "zone_id": np.full(count, ZONE_ID),
            "customer_type": np.array(TYPE_NAMES)[customers.type_code],
            "Y": np.concatenate([p[1] for p in parts]),
            "X": pa.array(np.concatenate([p[2] for p in parts]), mask=~np.concatenate([p[3] for p in parts])),
            "num_deliver_per_week": customers.deliveries,
            "num_visit_per_week": np.ones(count, dtype=np.int64),
        },
        schema=CUSTOMERS_SCHEMA,
    )
    return customers, table


# ----------------------------------------------------------------------------------------------------------
# Transactions (large: simulated chunk by chunk, week by week)

_J_VALUES = np.array(list(ref.UNITS_J_COUNTS), dtype=np.int64)
_J_COUNTS = np.array(list(ref.UNITS_J_COUNTS.values()), dtype=float)
_TYPE_J_CDF = np.array(
    [
        np.cumsum(_weights(_J_COUNTS * np.maximum(_J_VALUES, 1) ** ref_tilt))
        for ref_tilt in UNITS_TILT_BY_TYPE.values()
    ]
)
_RETURN_J = _J_VALUES[_J_VALUES >= 1]
_RETURN_J_CDF = np.cumsum(_weights(_J_COUNTS[_J_VALUES >= 1]))


def _draw_j(rng: np.random.Generator, type_code: np.ndarray) -> np.ndarray:
    """Units index j (units = (2j + 1)/3) for lines of customers of the given types."""
    cdf = _TYPE_J_CDF[type_code]
    index = (cdf < rng.random(len(type_code))[:, None]).sum(axis=1)
    return _J_VALUES[np.minimum(index, len(_J_VALUES) - 1)]


def _return_j(rng: np.random.Generator, purchase_j: np.ndarray) -> np.ndarray:
    """Return size index j (units -(2j - 1)/3) for returns of purchases with index `purchase_j`.

    As in the real data, a return nearly always takes back all but 2/3 of a unit of the purchase (same j);
    RETURN_OTHER_SHARE take back a smaller amount from the units curve, RETURN_LARGER_SHARE one third more
    than was bought.
    """
    count = len(purchase_j)
    curve = _RETURN_J[np.minimum(np.searchsorted(_RETURN_J_CDF, rng.random(count)), len(_RETURN_J) - 1)]
    kind = rng.random(count)
    return_j = np.where(kind < RETURN_OTHER_SHARE, np.minimum(curve, purchase_j), purchase_j)
    return np.maximum(1, np.where(kind > 1 - RETURN_LARGER_SHARE, purchase_j + 1, return_j))


def season_factors(config: GeneratorConfig) -> np.ndarray:
    """Weekly multiplier of customers' activity: a mild yearly wave, noise and a few holiday weeks."""
    rng = np.random.default_rng([config.seed, _STREAM_SEASON])
    day_of_year = np.array(
        [(config.start + timedelta(weeks=week)).timetuple().tm_yday for week in range(config.weeks)]
    )
    factors = 1 + SEASONAL_AMPLITUDE * np.sin(2 * np.pi * day_of_year / 365.25)
    factors += SEASONAL_NOISE * rng.standard_normal(config.weeks)
    holidays = rng.choice(config.weeks, size=round(config.weeks * HOLIDAY_WEEK_SHARE), replace=False)
    factors[holidays] *= HOLIDAY_FACTOR
    return factors


@dataclass
class _Pairs:
    """A chunk's habitual (customer, product) pairs."""

    customer: np.ndarray  # index within the chunk
    product: np.ndarray  # index into the sold products
    rate: np.ndarray  # chance of being bought in an active week
    usual_j: np.ndarray
    start: np.ndarray
    end: np.ndarray
    bought_last: np.ndarray  # bought in the customer's last active week


def _draw_pairs(
    rng: np.random.Generator,
    customer: np.ndarray,
    product: np.ndarray,
    type_code: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> _Pairs:
    """Basket pairs: a share CORE_PAIR_SHARE bought most active weeks, the others now and then."""
    count = len(customer)
    core = rng.random(count) < CORE_PAIR_SHARE
    rate = np.where(core, rng.beta(*CORE_RATE_BETA, size=count), rng.beta(*OCCASIONAL_RATE_BETA, size=count))
    return _Pairs(
        customer=customer,
        product=product,
        rate=rate,
        usual_j=_draw_j(rng, type_code[customer]),
        start=start,
        end=end,
        bought_last=rng.random(count) < rate,
    )


def _pair_purchases(
    pairs: _Pairs, uniforms: np.ndarray, active: np.ndarray, week: int, frequency: float
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


class _ChunkSimulator:
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
        self.config, self.catalogue, self.customers = config, catalogue, customers
        self.global_index, self.chunk_key, self.order_stride, self.seasons = (
            global_index,
            chunk_key,
            order_stride,
            seasons,
        )
        weeks = config.weeks
        count = len(customers.ids)
        rng = np.random.default_rng([config.seed, _STREAM_CHUNK, chunk_key])
        never_buys = np.array([ref.NEVER_BUYS_BY_DELIVERIES[d] for d in customers.deliveries])
        buys = rng.random(count) >= never_buys * NEVER_BUYS_SCALE
        mean = np.array([ACTIVITY_MEAN_BY_DELIVERIES[d] for d in customers.deliveries])
        self.activity = np.where(
            buys, rng.beta(mean * ACTIVITY_CONCENTRATION, (1 - mean) * ACTIVITY_CONCENTRATION), 0.0
        )
        late = (rng.random(count) < LATE_CUSTOMER_SHARE) & (customers.first_week == 0)
        self.first_week = np.where(late, rng.integers(0, weeks, size=count), customers.first_week)
        churn = rng.random(count) < CHURN_SHARE
        self.last_week = np.where(
            churn, self.first_week + 1 + (rng.random(count) * (weeks - self.first_week)).astype(int), weeks
        )
        self.active_last = rng.random(count) < self.activity
        # Day offsets within a generated week start at `start`'s weekday.
        day_weights = np.roll(_weights(ref.WEEKDAY_LINES), -config.start.weekday())
        preferred = rng.choice(7, size=count, p=day_weights)
        boosted = np.tile(day_weights, (count, 1))
        boosted[np.arange(count), preferred] *= PREFERRED_DAY_BOOST
        self.log_day_weights = np.log(boosted)

        basket_size = np.array([BASKET_SIZE_BY_TYPE[TYPE_NAMES[t]] for t in customers.type_code])
        basket_size *= rng.lognormal(0.0, BASKET_SIZE_SPREAD, size=count)
        reach = catalogue.sold_reach
        inclusion = np.minimum(1.0, basket_size[:, None] * reach[None, :] / reach.sum())
        member = (rng.random((count, len(reach))) < inclusion) & buys[:, None]
        pair_customer, pair_product = np.nonzero(member)
        starts = self.first_week[pair_customer]
        late_pair = rng.random(len(pair_customer)) < LATE_PAIR_SHARE
        starts = np.where(
            late_pair, starts + (rng.random(len(starts)) * (weeks - starts)).astype(int), starts
        )
        ended = rng.random(len(pair_customer)) < ENDED_PAIR_SHARE
        ends = np.where(ended, starts + 1 + (rng.random(len(starts)) * (weeks - starts)).astype(int), weeks)
        self.pairs = _draw_pairs(rng, pair_customer, pair_product, customers.type_code, starts, ends)
        self.trial_cdf = np.cumsum(_weights(reach))

        self.mix_week = config.drift_week("product_mix")
        self.drift_pairs = None
        if self.mix_week is not None:
            self._shift_product_mix(np.random.default_rng([config.seed, _STREAM_DRIFT, chunk_key]))

    def _shift_product_mix(self, rng: np.random.Generator) -> None:
        week, pairs = self.mix_week, self.pairs
        segment_weight = np.array([PRODUCT_MIX_SEGMENT_WEIGHT[s] for s in self.catalogue.sold_segment])
        shifted = self.catalogue.sold_reach * segment_weight
        self.shifted_cdf = np.cumsum(_weights(shifted))
        replaced = (pairs.end > week) & (rng.random(len(pairs.end)) < PRODUCT_MIX_REPLACED_SHARE)
        new_customer = pairs.customer[replaced]
        new_product = np.searchsorted(self.shifted_cdf, rng.random(len(new_customer)), side="right")
        new_product = np.minimum(new_product, len(shifted) - 1)
        new_start = np.maximum(pairs.start[replaced], week)
        pairs.end = np.where(replaced, np.maximum(pairs.start, week), pairs.end)
        self.drift_pairs = _draw_pairs(
            rng,
            new_customer,
            new_product,
            self.customers.type_code,
            new_start,
            np.full(len(new_start), self.config.weeks),
        )
        self.drift_uniforms = rng.random((len(new_customer), self.config.weeks))

    def weeks(self) -> Iterator[dict[str, np.ndarray]]:
        config = self.config
        volume_week = config.drift_week("volume")
        count = len(self.customers.ids)
        for week in range(config.weeks):
            rng = np.random.default_rng([config.seed, _STREAM_WEEK, self.chunk_key, week])
            in_life = (self.first_week <= week) & (week < self.last_week)
            a = self.activity
            p_active = np.where(
                self.active_last, a + ACTIVITY_PERSISTENCE * (1 - a), a * (1 - ACTIVITY_PERSISTENCE)
            )
            active = in_life & (rng.random(count) < p_active * self.seasons[week])
            self.active_last = np.where(in_life, active, self.active_last)

            volume_on = volume_week is not None and week >= volume_week
            frequency = VOLUME_FREQUENCY_FACTOR if volume_on else 1.0
            bought = _pair_purchases(self.pairs, rng.random(len(self.pairs.rate)), active, week, frequency)
            customer = [self.pairs.customer[bought]]
            product = [self.pairs.product[bought]]
            usual_j = [self.pairs.usual_j[bought]]
            if self.drift_pairs is not None:
                drift_bought = _pair_purchases(
                    self.drift_pairs,
                    self.drift_uniforms[:, week],
                    active,
                    week,
                    frequency,
                )
                customer.append(self.drift_pairs.customer[drift_bought])
                product.append(self.drift_pairs.product[drift_bought])
                usual_j.append(self.drift_pairs.usual_j[drift_bought])

            trials = rng.poisson(TRIALS_PER_ACTIVE_WEEK, size=count) * active
            trial_customer = np.repeat(np.arange(count), trials)
            mix_on = self.mix_week is not None and week >= self.mix_week
            cdf = self.shifted_cdf if mix_on else self.trial_cdf
            trial_product = np.minimum(
                np.searchsorted(cdf, rng.random(len(trial_customer)), side="right"), len(cdf) - 1
            )
            customer.append(trial_customer)
            product.append(trial_product)
            usual_j.append(_draw_j(rng, self.customers.type_code[trial_customer]))

            lines = self._order_lines(
                rng,
                week,
                np.concatenate(customer),
                np.concatenate(product),
                np.concatenate(usual_j),
                volume_on,
            )
            if lines is not None:
                yield lines

    def _order_lines(
        self,
        rng: np.random.Generator,
        week: int,
        customer: np.ndarray,
        product: np.ndarray,
        usual_j: np.ndarray,
        volume_on: bool,
    ) -> dict[str, np.ndarray] | None:
        if len(customer) == 0:
            return None
        types = self.customers.type_code
        j = np.where(rng.random(len(customer)) < USUAL_UNITS_SHARE, usual_j, _draw_j(rng, types[customer]))

        # Orders: 1 + Binomial(deliveries - 1, p) distinct days for each customer buying this week.
        buyers = np.unique(customer)
        slots = np.minimum(self.customers.deliveries[buyers], 7) - 1
        orders = 1 + rng.binomial(slots, EXTRA_ORDER_PROBABILITY)
        gumbel = -np.log(-np.log(rng.random((len(buyers), 7))))
        days_by_preference = np.argsort(-(self.log_day_weights[buyers] + gumbel), axis=1)
        row = np.searchsorted(buyers, customer)
        slot = (rng.random(len(customer)) * orders[row]).astype(int)
        day = days_by_preference[row, slot]

        # A product bought this week is often bought again in another of the week's orders.
        again = (orders[row] > 1) & (rng.random(len(customer)) < REPEAT_IN_OTHER_ORDER_SHARE)
        other_orders = orders[row[again]]
        other_slot = (
            slot[again] + 1 + (rng.random(again.sum()) * (other_orders - 1)).astype(int)
        ) % other_orders
        customer = np.concatenate([customer, customer[again]])
        product = np.concatenate([product, product[again]])
        j = np.concatenate([j, _draw_j(rng, types[customer[len(j) :]])])
        day = np.concatenate([day, days_by_preference[row[again], other_slot]])

        # Returns follow a purchase in the same order; split lines add a second purchase line.
        returned = rng.random(len(customer)) < RETURN_SHARE
        return_j = _return_j(rng, j[returned])
        split = rng.random(len(customer)) < SPLIT_LINE_SHARE
        split_j = _draw_j(rng, types[customer[split]])
        split_j = np.where(split_j == j[split], split_j + 1, split_j)  # a second line, not a duplicate

        line_customer = np.concatenate([customer, customer[returned], customer[split]])
        line_product = np.concatenate([product, product[returned], product[split]])
        line_day = np.concatenate([day, day[returned], day[split]])
        thirds = np.concatenate([2 * j + 1, -(2 * return_j - 1), 2 * split_j + 1]).astype(float)
        if volume_on:
            thirds = np.sign(thirds) * np.maximum(1, np.round(np.abs(thirds) * VOLUME_UNITS_FACTOR))
        duplicate = np.flatnonzero(rng.random(len(line_customer)) < DUPLICATE_SHARE)
        keep = np.concatenate([np.arange(len(line_customer)), duplicate])

        day_index = week * 7 + line_day[keep]
        order_id = ORDER_ID_OFFSET + day_index * self.order_stride + self.global_index[line_customer[keep]]
        sort = np.lexsort((self.catalogue.sold_ids[line_product[keep]], order_id))
        epoch_day = (self.config.start - date(1970, 1, 1)).days
        return {
            "customer_id": self.customers.ids[line_customer[keep]][sort],
            "product_id": self.catalogue.sold_ids[line_product[keep]][sort],
            "order_id": order_id[sort],
            "purchase_date": ((epoch_day + day_index[sort]) * 86_400 * 10**9).astype("datetime64[ns]"),
            "items": thirds[keep][sort] / 3.0,
        }


def _chunks(customers: Customers, config: GeneratorConfig) -> Iterator[tuple[int, np.ndarray]]:
    """(chunk key, global customer indices): base customers first, then the new-customer wave."""
    base = np.arange(config.customers)
    for number, begin in enumerate(range(0, config.customers, CHUNK_CUSTOMERS)):
        yield number, base[begin : begin + CHUNK_CUSTOMERS]
    wave = np.arange(config.customers, len(customers.ids))
    for number, begin in enumerate(range(0, len(wave), CHUNK_CUSTOMERS)):
        yield _WAVE_CHUNK_KEY + number, wave[begin : begin + CHUNK_CUSTOMERS]


def write_dataset(config: GeneratorConfig, out: Path) -> dict[str, int]:
    """Write transacciones/clientes/productos.parquet into `out`; return rows written per table."""
    config.validate()
    out.mkdir(parents=True, exist_ok=True)
    catalogue = build_catalogue(config.seed)
    customers, customers_table = build_customers(config)
    pq.write_table(catalogue.table, out / "productos.parquet")
    pq.write_table(customers_table, out / "clientes.parquet")

    seasons = season_factors(config)
    order_stride = 10 ** len(str(2 * config.customers))  # room for the new-customer wave (≤ 2× customers)
    rows = 0
    with pq.ParquetWriter(out / "transacciones.parquet", TRANSACTIONS_SCHEMA) as writer:
        for chunk_key, index in _chunks(customers, config):
            chunk_customers = Customers(
                *(getattr(customers, f)[index] for f in Customers.__dataclass_fields__)
            )
            simulator = _ChunkSimulator(
                config, catalogue, chunk_customers, index, chunk_key, order_stride, seasons
            )
            weeks = list(simulator.weeks())
            if not weeks:
                continue
            table = pa.table(
                {name: np.concatenate([w[name] for w in weeks]) for name in TRANSACTIONS_SCHEMA.names},
                schema=TRANSACTIONS_SCHEMA,
            )
            writer.write_table(table)
            rows += table.num_rows
    return {
        "transacciones": rows,
        "clientes": customers_table.num_rows,
        "productos": catalogue.table.num_rows,
    }
