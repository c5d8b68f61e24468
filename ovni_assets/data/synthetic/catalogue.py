"""The `productos` catalogue: the real attribute counts, split into the products that sell and the rest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ovni_assets.data.synthetic import reference
from ovni_assets.data.synthetic.config import STREAM_PRODUCTS

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


def _attribute_rows(rng: np.random.Generator) -> list[tuple]:
    """(sold, brand, (segment, sub_category), (package, size)) per product, sold products first."""
    rows = []
    for sold in (True, False):
        segments = _quota(
            reference.SOLD_SEGMENT_SUB_CATEGORY if sold else reference.UNSOLD_SEGMENT_SUB_CATEGORY, rng
        )
        packages = _quota(reference.SOLD_PACKAGE_SIZE if sold else reference.UNSOLD_PACKAGE_SIZE, rng)
        brand_counts = {b: (s if sold else total - s) for b, (total, s) in reference.BRAND_COUNTS.items()}
        brands = _quota(brand_counts, rng)
        rows += [(sold, b, s, p) for b, s, p in zip(brands, segments, packages, strict=True)]
    return rows


def build_catalogue(seed: int) -> Catalogue:
    """The `productos` table of `seed` and the sold products the baskets draw from."""
    rng = np.random.default_rng([seed, STREAM_PRODUCTS])
    rows = _attribute_rows(rng)
    ids = rng.choice(np.arange(1, 300_000), size=len(rows), replace=False)
    reach = np.array(reference.SOLD_PRODUCT_REACH, dtype=float) / reference.REACH_BASE_CUSTOMERS
    sold_rows = [i for i, row in enumerate(rows) if row[0]]
    order = rng.permutation(len(rows))  # file order: sold products scattered through the catalogue
    table = pa.table(
        {
            "product_id": ids[order],
            "brand": [f"Brand {rows[i][1]}" for i in order],
            "category": [reference.SUB_CATEGORY_TO_CATEGORY[rows[i][2][1]] for i in order],
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
