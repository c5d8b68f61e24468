"""Scoring with the champion: whole-snapshot scores, cold-start rows and validated what-if rows.

Cold start. A pair that is not among the snapshot's candidates (never bought, and not proposed by the
candidate generator) gets a feature row built from the snapshot itself:
- a feature that has one value per customer in `next_week_features` (customer attributes and activity) takes
  that customer's value; one value per product (product attributes and popularity) takes the product's value;
- every other feature describes the pair's own history and takes its "no history" value: 0 for counts,
  amounts and rates, and for recency ("weeks since ...") the largest value seen in the snapshot (the model has
  seen that value for the longest-unbought pairs); text features take their most common value;
- a customer or product without any candidate row takes the median (numbers) or the most common value
  (text) over all rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ovni_serving.champion import ChampionModel, FeatureSpec
from ovni_serving.snapshot import Snapshot

RECENCY_PATTERN = re.compile(r"(since|recency|ago|gap|days_from|weeks_from)", re.IGNORECASE)


class FeatureMismatch(ValueError):
    """Feature rows that do not fit the model's signature (the message says which column and why)."""


def model_frame(snapshot: Snapshot, champion: ChampionModel) -> pd.DataFrame:
    """The snapshot's candidate rows in the model's column order; fails when a model column is missing."""
    missing = [name for name in champion.feature_names if name not in snapshot.features.columns]
    if missing:
        raise FeatureMismatch(
            f"model version {champion.version} needs columns the snapshot's next_week_features lacks: "
            + ", ".join(missing)
        )
    return snapshot.features[champion.feature_names]


def probabilities(champion: ChampionModel, frame: pd.DataFrame) -> np.ndarray:
    """P(buy) for every row (an empty frame gives an empty array)."""
    if frame.empty:
        return np.empty(0, dtype=float)
    return np.asarray(champion.model.predict_proba(frame)[:, 1], dtype=float)


def _single_valued_within(frame: pd.DataFrame, group: str, column: str) -> bool:
    return bool((frame.groupby(group, sort=False)[column].nunique(dropna=False) <= 1).all())


def _typical(values: pd.Series) -> Any:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return float(values.median()) if values.notna().any() else np.nan
    mode = values.mode(dropna=True)
    return mode.iloc[0] if len(mode) else None


@dataclass(frozen=True)
class ColdStart:
    """How to build a feature row for a pair that has no candidate row (see the module docstring)."""

    columns: tuple[str, ...]
    customer_columns: tuple[str, ...]
    product_columns: tuple[str, ...]
    pair_defaults: dict[str, Any]
    fallback: dict[str, Any]
    customer_values: dict[int, dict[str, Any]]
    product_values: dict[int, dict[str, Any]]
    dtypes: dict[str, Any]

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, champion: ChampionModel) -> ColdStart:
        frame = snapshot.features
        columns = champion.feature_names
        customer_columns, product_columns, pair_defaults = [], [], {}
        for column in columns:
            if frame.empty:
                pair_defaults[column] = np.nan
            elif _single_valued_within(frame, "customer_id", column):
                customer_columns.append(column)
            elif _single_valued_within(frame, "product_id", column):
                product_columns.append(column)
            else:
                pair_defaults[column] = _no_history_value(frame[column])
        fallback = {column: _typical(frame[column]) for column in columns} if not frame.empty else {}
        return cls(
            columns=tuple(columns),
            customer_columns=tuple(customer_columns),
            product_columns=tuple(product_columns),
            pair_defaults=pair_defaults,
            fallback=fallback,
            customer_values=_first_values(frame, "customer_id", customer_columns),
            product_values=_first_values(frame, "product_id", product_columns),
            dtypes={column: frame[column].dtype for column in columns} if not frame.empty else {},
        )

    def row(self, customer_id: int, product_id: int) -> pd.DataFrame:
        """A one-row model input for the pair."""
        values: dict[str, Any] = dict(self.pair_defaults)
        known_customer = self.customer_values.get(customer_id)
        for column in self.customer_columns:
            values[column] = known_customer[column] if known_customer else self.fallback.get(column)
        known_product = self.product_values.get(product_id)
        for column in self.product_columns:
            values[column] = known_product[column] if known_product else self.fallback.get(column)
        frame = pd.DataFrame([{column: values.get(column) for column in self.columns}])
        return frame.astype({c: d for c, d in self.dtypes.items() if not _lossy(frame[c], d)})


def _lossy(values: pd.Series, dtype: Any) -> bool:
    """Casting a missing value to an integer dtype would fail; keep such a column as float."""
    return pd.api.types.is_integer_dtype(dtype) and bool(values.isna().any())


def _no_history_value(values: pd.Series) -> Any:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return _typical(values) if not pd.api.types.is_bool_dtype(values) else False
    if RECENCY_PATTERN.search(str(values.name)):
        return float(values.max()) if values.notna().any() else np.nan
    return 0.0


def _first_values(frame: pd.DataFrame, key: str, columns: list[str]) -> dict[int, dict[str, Any]]:
    if frame.empty or not columns:
        return {}
    first = frame.drop_duplicates(key)[[key, *columns]]
    return {int(row[key]): {c: row[c] for c in columns} for row in first.to_dict("records")}


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
    frame = pd.DataFrame(rows, columns=names)
    for spec in specs:
        if spec.numeric:
            frame[spec.name] = pd.to_numeric(frame[spec.name]).astype(float)
        elif spec.kind == "boolean":
            frame[spec.name] = frame[spec.name].astype(bool)
    return frame


def _check_value(index: int, spec: FeatureSpec, value: Any) -> None:
    where = f"row {index}, feature {spec.name!r}"
    if value is None:
        if spec.required:
            raise FeatureMismatch(f"{where}: a value is required")
        return
    if spec.numeric:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FeatureMismatch(f"{where}: expected a number ({spec.kind}), got {value!r}")
        if not math.isfinite(value):
            raise FeatureMismatch(f"{where}: expected a finite number (use null for a missing value)")
        if spec.kind in {"long", "integer"} and float(value) != int(value):
            raise FeatureMismatch(f"{where}: expected a whole number, got {value!r}")
    elif spec.kind == "boolean":
        if not isinstance(value, bool):
            raise FeatureMismatch(f"{where}: expected true or false, got {value!r}")
    elif spec.kind == "string" and not isinstance(value, str):
        raise FeatureMismatch(f"{where}: expected text, got {value!r}")
