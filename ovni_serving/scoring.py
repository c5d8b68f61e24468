"""Scoring with the champion: whole-snapshot scores, cold-start rows and validated what-if rows.

Cold start. A pair without a candidate row in `next_week_features` (never bought, and not proposed by the
candidate generator) is scored from a feature row built out of the snapshot, the way the pipeline builds its
"discovery" rows (pairs never bought before):
- a column of the `products` table (brand, category, size ...) is the product's, one of the `customers`
  table (type, location ...) the customer's;
- any other feature with one value per customer in the snapshot (customer activity, `cust_*`) takes the
  customer's value; one value per product (popularity, `prod_*`) the product's;
- a feature with one value per (customer attribute, product), like the share of the customer's type that buys
  the product, takes the value of that combination when the snapshot has it;
- every other feature describes the pair's own history and takes the value it has on a never-bought
  candidate row (one whose pair-level numbers are all 0 or missing: counts 0, recency missing, flagged as
  discovery); without such a row, 0 for numbers, missing for recency ("weeks since ..."), the most common
  value for text;
- a customer or product with no candidate row at all takes its attributes from the `customers` / `products`
  table when the column is there, and otherwise 0 (no recent activity), or the largest value seen for
  recency features.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ovni_assets.model.frame import input_frame
from ovni_serving.champion import ChampionModel, FeatureSpec
from ovni_serving.snapshot import Snapshot

FLOAT64_MAX = float(np.finfo(np.float64).max)
RECENCY_PATTERN = re.compile(r"(since|recency|ago)", re.IGNORECASE)


class FeatureMismatch(ValueError):
    """Feature rows that do not fit the model's signature (the message says which column and why)."""


def model_input(frame: pd.DataFrame, specs: tuple[FeatureSpec, ...]) -> pd.DataFrame:
    """Columns in signature order with the signature's types (`ovni_assets.model.frame.input_frame`)."""
    return input_frame(frame, [(spec.name, spec.input_kind) for spec in specs])


def model_frame(snapshot: Snapshot, champion: ChampionModel) -> pd.DataFrame:
    """The snapshot's candidate rows as model input; fails when a model column is missing."""
    missing = [name for name in champion.feature_names if name not in snapshot.features.columns]
    if missing:
        raise FeatureMismatch(
            f"model version {champion.version} needs columns the snapshot's next_week_features lacks: "
            + ", ".join(missing)
        )
    return model_input(snapshot.features, champion.features)


def probabilities(champion: ChampionModel, frame: pd.DataFrame) -> np.ndarray:
    """P(buy) for every row of a model-input frame (an empty frame gives an empty array)."""
    if frame.empty:
        return np.empty(0, dtype=float)
    return np.asarray(champion.model.predict_proba(frame)[:, 1], dtype=float)


def _single_valued_within(frame: pd.DataFrame, keys: list[str], column: str) -> bool:
    return bool((frame.groupby(keys, sort=False, dropna=False)[column].nunique(dropna=False) <= 1).all())


def _lookup(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> dict[Any, dict[str, Any]]:
    """First row's values of `columns` for each key (a scalar key for one column, a tuple for several)."""
    if frame.empty or not columns:
        return {}
    first = frame.drop_duplicates(keys)
    index = first[keys[0]] if len(keys) == 1 else pd.MultiIndex.from_frame(first[keys])
    return dict(zip(index, first[columns].to_dict("records"), strict=True))


@dataclass(frozen=True)
class ColdStart:
    """How to build a feature row for a pair without a candidate row (see the module docstring)."""

    specs: tuple[FeatureSpec, ...]
    customer_columns: tuple[str, ...]
    product_columns: tuple[str, ...]
    type_product_columns: dict[str, str]  # feature -> customer-level text column it is keyed by, with product
    pair_defaults: dict[str, Any]
    inactive_defaults: dict[str, Any]
    customer_values: dict[int, dict[str, Any]]
    product_values: dict[int, dict[str, Any]]
    type_product_values: dict[str, dict[tuple[Any, int], dict[str, Any]]]
    customer_table: dict[int, dict[str, Any]]
    product_table: dict[int, dict[str, Any]]

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, champion: ChampionModel) -> ColdStart:
        frame = snapshot.features
        columns = [c for c in champion.feature_names if c in frame.columns]
        customer_attributes = set(next(iter(snapshot.customers.values()), {})) - {"customer_id"}
        product_attributes = set(next(iter(snapshot.products.values()), {})) - {"product_id"}
        customer_columns, product_columns, pair_columns = [], [], []
        for column in columns:
            product_attribute = column in product_attributes and column not in customer_attributes
            customer_attribute = column in customer_attributes and column not in product_attributes
            if product_attribute:
                product_columns.append(column)
            elif customer_attribute or _single_valued_within(frame, ["customer_id"], column):
                customer_columns.append(column)
            elif _single_valued_within(frame, ["product_id"], column):
                product_columns.append(column)
            else:
                pair_columns.append(column)
        customer_text = [c for c in customer_columns if not pd.api.types.is_numeric_dtype(frame[c])]
        type_product_columns = {}
        for column in pair_columns:
            key = next(
                (k for k in customer_text if _single_valued_within(frame, [k, "product_id"], column)), None
            )
            if key is not None:
                type_product_columns[column] = key
        own_history = [c for c in pair_columns if c not in type_product_columns]
        return cls(
            specs=champion.features,
            customer_columns=tuple(customer_columns),
            product_columns=tuple(product_columns),
            type_product_columns=type_product_columns,
            pair_defaults={
                **_never_bought_values(frame, own_history),
                **{c: 0.0 if _is_number(frame[c]) else None for c in type_product_columns},
            },
            inactive_defaults={c: _inactive_value(frame[c]) for c in customer_columns + product_columns},
            customer_values=_lookup(frame, ["customer_id"], customer_columns),
            product_values=_lookup(frame, ["product_id"], product_columns),
            type_product_values={
                key: _lookup(
                    frame, [key, "product_id"], [c for c, k in type_product_columns.items() if k == key]
                )
                for key in set(type_product_columns.values())
            },
            customer_table=snapshot.customers,
            product_table=snapshot.products,
        )

    def rows(self, pairs: list[tuple[int, int]]) -> pd.DataFrame:
        """The model input of every pair, one row each, built as one frame (one type conversion)."""
        records = [self._values(customer_id, product_id) for customer_id, product_id in pairs]
        frame = pd.DataFrame.from_records(records, columns=[spec.name for spec in self.specs])
        return model_input(frame, self.specs)

    def row(self, customer_id: int, product_id: int) -> pd.DataFrame:
        """A one-row model input for the pair."""
        return self.rows([(customer_id, product_id)])

    def _values(self, customer_id: int, product_id: int) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.pair_defaults)
        values.update(
            self._entity_values(customer_id, self.customer_columns, self.customer_values, self.customer_table)
        )
        values.update(
            self._entity_values(product_id, self.product_columns, self.product_values, self.product_table)
        )
        for column, key in self.type_product_columns.items():
            known = self.type_product_values[key].get((values.get(key), product_id))
            if known is not None:
                values[column] = known[column]
        return {spec.name: values.get(spec.name) for spec in self.specs}

    def _entity_values(
        self, entity_id: int, columns: tuple[str, ...], candidates: dict, table: dict[int, dict[str, Any]]
    ) -> dict[str, Any]:
        known = candidates.get(entity_id)
        if known is not None:
            return dict(known)
        attributes = table.get(entity_id, {})
        return {c: attributes[c] if c in attributes else self.inactive_defaults[c] for c in columns}


def _inactive_value(values: pd.Series) -> Any:
    """A customer or product with no candidate row has had no recent activity."""
    if not _is_number(values):
        mode = values.mode(dropna=True)
        return mode.iloc[0] if len(mode) else None
    if RECENCY_PATTERN.search(str(values.name)):
        return float(values.max()) if values.notna().any() else None
    return 0.0


def _never_bought_values(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Pair-level values of a never-bought candidate row, or 0 / missing / most common without one."""
    numeric = [c for c in columns if _is_number(frame[c])]
    if numeric and not frame.empty:
        no_history = (frame[numeric].fillna(0) == 0).all(axis=1).to_numpy()
        if no_history.any():
            template = frame.loc[no_history, columns].iloc[0]
            return {c: (None if pd.isna(template[c]) else template[c]) for c in columns}
    values: dict[str, Any] = {}
    for column in columns:
        if column in numeric:
            values[column] = None if RECENCY_PATTERN.search(column) else 0.0
        else:
            mode = frame[column].mode(dropna=True)
            values[column] = mode.iloc[0] if len(mode) else None
    return values


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def validated_rows(rows: list[dict[str, Any]], specs: tuple[FeatureSpec, ...]) -> pd.DataFrame:
    """What-if rows checked against the signature: every column present, no unknown one, right types."""
    names = [spec.name for spec in specs]
    known = set(names)
    for index, row in enumerate(rows):
        missing = [name for name in names if name not in row]
        if missing:
            raise FeatureMismatch(f"row {index}: missing feature(s) {', '.join(missing)}")
        unknown = sorted(set(row) - known)
        if unknown:
            raise FeatureMismatch(
                f"row {index}: unknown feature(s) {', '.join(unknown)}; the model takes {', '.join(names)}"
            )
        for spec in specs:
            _check_value(index, spec, row[spec.name])
    return model_input(pd.DataFrame(rows, columns=names), specs)


def _check_value(index: int, spec: FeatureSpec, value: Any) -> None:
    where = f"row {index}, feature {spec.name!r}"
    if value is None:
        # Numbers may be missing (the model handles missing values; the snapshot has them too).
        if spec.required and not spec.numeric:
            raise FeatureMismatch(f"{where}: a value is required")
        return
    if spec.numeric:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FeatureMismatch(f"{where}: expected a number ({spec.kind}), got {value!r}")
        try:
            finite = math.isfinite(value) and abs(value) <= FLOAT64_MAX
        except OverflowError:  # an integer with more digits than a float64 holds
            finite = False
        if not finite:
            raise FeatureMismatch(
                f"{where}: expected a finite number a float64 can hold (use null for a missing value)"
            )
        if spec.kind in {"long", "integer"} and float(value) != int(value):
            raise FeatureMismatch(f"{where}: expected a whole number, got {value!r}")
    elif spec.kind == "boolean":
        if not isinstance(value, bool):
            raise FeatureMismatch(f"{where}: expected true or false, got {value!r}")
    elif spec.kind == "string" and not isinstance(value, str):
        raise FeatureMismatch(f"{where}: expected text, got {value!r}")
