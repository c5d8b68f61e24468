"""The `clientes` table: the real customer-type and deliveries mix, coordinates around three towns, and the
new-customer wave of the `new_customers` drift."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from ovni_assets.data.synthetic import reference
from ovni_assets.data.synthetic.calibration import COORDINATES_SWAPPED_PER_CUSTOMER, TYPE_NAMES, as_weights
from ovni_assets.data.synthetic.config import (
    NEW_CUSTOMERS_SHARE,
    STREAM_CUSTOMERS,
    STREAM_WAVE,
    GeneratorConfig,
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
REGION_ID, ZONE_ID = 80, 5148

# Latitude Y, longitude X: one customer has no X (`x_known` False), a few have X and Y swapped.
Coordinates = tuple[np.ndarray, np.ndarray, np.ndarray]  # (y, x, x_known)


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray
    type_code: np.ndarray  # index into TYPE_NAMES
    deliveries: np.ndarray
    first_week: np.ndarray  # week the customer may start buying (the new-customer wave's week, else 0)

    def take(self, index: np.ndarray) -> Customers:
        """The customers at positions `index`."""
        return Customers(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concatenate(parts: list[Customers]) -> Customers:
        return Customers(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Customers)))


def _draw_customers(rng: np.random.Generator, count: int, first_id: int, first_week: int) -> Customers:
    ids = first_id + np.cumsum(rng.integers(1, 2600, size=count))
    type_code = rng.choice(
        len(TYPE_NAMES), size=count, p=as_weights(list(reference.CUSTOMER_TYPE_COUNTS.values()))
    )
    deliveries = rng.choice(
        list(reference.DELIVERIES_PER_WEEK_COUNTS),
        size=count,
        p=as_weights(list(reference.DELIVERIES_PER_WEEK_COUNTS.values())),
    )
    return Customers(ids, type_code, deliveries, np.full(count, first_week))


def _coordinates(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitude Y and longitude X around three towns, like the real customers."""
    centres = np.array([(-46.55, -107.90), (-46.45, -107.30), (-47.08, -108.30)])
    spread = np.array([(0.06, 0.15), (0.05, 0.15), (0.03, 0.05)])
    town = rng.choice(3, size=count, p=[0.7, 0.2, 0.1])
    points = centres[town] + spread[town] * rng.standard_normal((count, 2))
    return points[:, 0], points[:, 1]


def _coordinates_with_anomalies(rng: np.random.Generator, count: int) -> Coordinates:
    """The base customers' coordinates with the real export's faults: one X missing, a few X and Y swapped."""
    y, x = _coordinates(rng, count)
    x_known = np.ones(count, dtype=bool)
    anomalies = rng.permutation(count)
    swapped = anomalies[1 : 1 + max(1, round(count * COORDINATES_SWAPPED_PER_CUSTOMER))]
    x_known[anomalies[0]] = False
    y[swapped], x[swapped] = x[swapped].copy(), y[swapped].copy()
    return y, x, x_known


def _new_customer_wave(config: GeneratorConfig, after_id: int, week: int) -> tuple[Customers, Coordinates]:
    """The `new_customers` drift's customers: ids after `after_id`, buying from `week` on."""
    rng = np.random.default_rng([config.seed, STREAM_WAVE])
    count = max(1, round(config.customers * NEW_CUSTOMERS_SHARE))
    wave = _draw_customers(rng, count, after_id, week)
    y, x = _coordinates(rng, count)
    return wave, (y, x, np.ones(count, dtype=bool))


def _clientes_table(customers: Customers, coordinates: Coordinates) -> pa.Table:
    y, x, x_known = coordinates
    count = len(customers.ids)
    return pa.table(
        {
            "customer_id": customers.ids,
            "region_id": np.full(count, REGION_ID),
            "zone_id": np.full(count, ZONE_ID),
            "customer_type": np.array(TYPE_NAMES)[customers.type_code],
            "Y": y,
            "X": pa.array(x, mask=~x_known),
            "num_deliver_per_week": customers.deliveries,
            "num_visit_per_week": np.ones(count, dtype=np.int64),
        },
        schema=CUSTOMERS_SCHEMA,
    )


def build_customers(config: GeneratorConfig) -> tuple[Customers, pa.Table]:
    """All customers (and the new-customer wave, if any) and the `clientes` table."""
    base = _draw_customers(
        np.random.default_rng([config.seed, STREAM_CUSTOMERS]), config.customers, 20_000, 0
    )
    rng = np.random.default_rng([config.seed, STREAM_CUSTOMERS, 1])
    parts = [(base, _coordinates_with_anomalies(rng, config.customers))]
    wave_week = config.drift_week("new_customers")
    if wave_week is not None:
        parts.append(_new_customer_wave(config, int(base.ids[-1]), wave_week))
    customers = Customers.concatenate([people for people, _ in parts])
    coordinates = tuple(np.concatenate([where[k] for _, where in parts]) for k in range(3))
    return customers, _clientes_table(customers, coordinates)
