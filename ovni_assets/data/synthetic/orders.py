"""A week's purchases as order lines: orders on distinct days, products bought again in another order of the
week, returns, second lines, duplicates, and the `transacciones` columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ovni_assets.data.synthetic.calibration import (
    DUPLICATE_SHARE,
    EXTRA_ORDER_PROBABILITY,
    REPEAT_IN_OTHER_ORDER_SHARE,
    RETURN_SHARE,
    SPLIT_LINE_SHARE,
    USUAL_UNITS_SHARE,
)
from ovni_assets.data.synthetic.config import VOLUME_UNITS_FACTOR
from ovni_assets.data.synthetic.customers import Customers
from ovni_assets.data.synthetic.units import draw_j, return_j

ORDER_ID_OFFSET = 1000


@dataclass(frozen=True)
class WeekPurchases:
    """What a chunk's customers buy in a week: one entry per (customer, product) bought."""

    customer: np.ndarray  # index within the chunk
    product: np.ndarray  # index into the sold products
    usual_j: np.ndarray  # the pair's habitual units index


@dataclass(frozen=True)
class _PurchaseLines:
    customer: np.ndarray
    product: np.ndarray
    j: np.ndarray  # units index: (2j + 1)/3 units
    day: np.ndarray  # day offset within the week


@dataclass(frozen=True)
class _Lines:
    customer: np.ndarray
    product: np.ndarray
    day: np.ndarray
    thirds: np.ndarray  # signed units times 3


@dataclass(frozen=True)
class ChunkOrders:
    """What turns a chunk's purchases into order lines: its customers, their weekday preferences, the sold
    products' ids and how order ids are numbered (one per customer and day, increasing with the date)."""

    customers: Customers
    log_day_weights: np.ndarray  # (customer, weekday offset from `start`)
    global_index: np.ndarray  # the customers' positions among all customers
    order_stride: int
    sold_ids: np.ndarray
    start: date

    def week_lines(
        self, rng: np.random.Generator, week: int, purchases: WeekPurchases, volume_on: bool
    ) -> dict[str, np.ndarray] | None:
        """The `transacciones` columns of the week's order lines, or None when nobody bought."""
        if len(purchases.customer) == 0:
            return None
        types = self.customers.type_code
        j = np.where(
            rng.random(len(purchases.customer)) < USUAL_UNITS_SHARE,
            purchases.usual_j,
            draw_j(rng, types[purchases.customer]),
        )
        lines = _with_returns_and_splits(rng, self._in_orders(rng, purchases, j), types)
        if volume_on:
            lines = _scaled_by_volume(lines)
        return self._columns(week, _with_duplicates(rng, lines))

    def _in_orders(self, rng: np.random.Generator, purchases: WeekPurchases, j: np.ndarray) -> _PurchaseLines:
        """Orders: 1 + Binomial(deliveries - 1, p) distinct days for each customer buying this week, on the
        customer's preferred days; a product bought this week is often bought again in another of them."""
        customer, product = purchases.customer, purchases.product
        buyers = np.unique(customer)
        slots = np.minimum(self.customers.deliveries[buyers], 7) - 1
        orders = 1 + rng.binomial(slots, EXTRA_ORDER_PROBABILITY)
        gumbel = -np.log(-np.log(rng.random((len(buyers), 7))))
        days_by_preference = np.argsort(-(self.log_day_weights[buyers] + gumbel), axis=1)
        row = np.searchsorted(buyers, customer)
        slot = (rng.random(len(customer)) * orders[row]).astype(int)
        day = days_by_preference[row, slot]

        again = (orders[row] > 1) & (rng.random(len(customer)) < REPEAT_IN_OTHER_ORDER_SHARE)
        other_orders = orders[row[again]]
        other_slot = (
            slot[again] + 1 + (rng.random(again.sum()) * (other_orders - 1)).astype(int)
        ) % other_orders
        customer = np.concatenate([customer, customer[again]])
        return _PurchaseLines(
            customer=customer,
            product=np.concatenate([product, product[again]]),
            j=np.concatenate([j, draw_j(rng, self.customers.type_code[customer[len(j) :]])]),
            day=np.concatenate([day, days_by_preference[row[again], other_slot]]),
        )

    def _columns(self, week: int, lines: _Lines) -> dict[str, np.ndarray]:
        """The lines as `transacciones` columns, sorted by order and product."""
        day_index = week * 7 + lines.day
        order_id = ORDER_ID_OFFSET + day_index * self.order_stride + self.global_index[lines.customer]
        product_id = self.sold_ids[lines.product]
        sort = np.lexsort((product_id, order_id))
        epoch_day = (self.start - date(1970, 1, 1)).days
        return {
            "customer_id": self.customers.ids[lines.customer][sort],
            "product_id": product_id[sort],
            "order_id": order_id[sort],
            "purchase_date": ((epoch_day + day_index[sort]) * 86_400 * 10**9).astype("datetime64[ns]"),
            "items": lines.thirds[sort] / 3.0,
        }


def _with_returns_and_splits(
    rng: np.random.Generator, purchases: _PurchaseLines, types: np.ndarray
) -> _Lines:
    """The purchase lines, then returns (each in the order of the purchase it follows), then second lines
    for the same product and order."""
    customer, product, j, day = purchases.customer, purchases.product, purchases.j, purchases.day
    returned = rng.random(len(customer)) < RETURN_SHARE
    returned_j = return_j(rng, j[returned])
    split = rng.random(len(customer)) < SPLIT_LINE_SHARE
    split_j = draw_j(rng, types[customer[split]])
    split_j = np.where(split_j == j[split], split_j + 1, split_j)  # a second line, not a duplicate
    return _Lines(
        customer=np.concatenate([customer, customer[returned], customer[split]]),
        product=np.concatenate([product, product[returned], product[split]]),
        day=np.concatenate([day, day[returned], day[split]]),
        thirds=np.concatenate([2 * j + 1, -(2 * returned_j - 1), 2 * split_j + 1]).astype(float),
    )


def _scaled_by_volume(lines: _Lines) -> _Lines:
    """The `volume` drift: units per line times VOLUME_UNITS_FACTOR, in whole thirds, at least one."""
    thirds = np.sign(lines.thirds) * np.maximum(1, np.round(np.abs(lines.thirds) * VOLUME_UNITS_FACTOR))
    return _Lines(lines.customer, lines.product, lines.day, thirds)


def _with_duplicates(rng: np.random.Generator, lines: _Lines) -> _Lines:
    """The lines with a few of them written twice, exact duplicates as in the real export."""
    duplicate = np.flatnonzero(rng.random(len(lines.customer)) < DUPLICATE_SHARE)
    keep = np.concatenate([np.arange(len(lines.customer)), duplicate])
    return _Lines(lines.customer[keep], lines.product[keep], lines.day[keep], lines.thirds[keep])
