"""Per-feature drift statistics between two tables of feature rows, a reference and a current one.

Per feature: PSI (population stability index; bin counts in DuckDB SQL) plus a test — two-sample
Kolmogorov–Smirnov for numeric features, chi-square on the category counts for categorical ones (scipy, on
samples of at most `TEST_SAMPLE_ROWS` rows a side). p-values are corrected for the number of features
(Benjamini–Hochberg). A feature is *drifted* only when all hold (`DriftRules`):

- adjusted p < `ALPHA` (not noise of a small sample);
- PSI ≥ `PSI_THRESHOLD` (an effect worth acting on: with a million rows any shift is "significant");
- PSI ≥ `BASELINE_FACTOR` × its *baseline PSI*, when there is one: the feature's ordinary week-to-week
  movement, which the report measures on earlier weeks (`drift.ordinary_psi`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pandas as pd
from scipy import stats

PSI_THRESHOLD = 0.2
ALPHA = 0.01
PSI_BINS = 10
BASELINE_FACTOR = 2.0
TEST_SAMPLE_ROWS = 20_000
MISSING = "∅ missing"


@dataclass(frozen=True)
class DriftRules:
    """When a feature counts as drifted (module docstring); the `drift_report` asset's config."""

    psi_threshold: float = PSI_THRESHOLD
    alpha: float = ALPHA
    baseline_factor: float = BASELINE_FACTOR

    def describe(self) -> str:
        return (
            f"BH-adjusted p < {self.alpha}, PSI ≥ {self.psi_threshold} and ≥ {self.baseline_factor}× the "
            "baseline PSI"
        )


DEFAULT_DRIFT_RULES = DriftRules()
DRIFT_COLUMNS = ["feature", "kind", "psi", "baseline_psi", "statistic", "p_value", "p_adjusted", "drifted"]


def quoted_identifier(name: str) -> str:
    """`name` as a DuckDB identifier (double quotes, inner ones doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _reference_edges(
    con: duckdb.DuckDBPyConnection, reference: str, numeric: list[str], bins: int
) -> dict[str, list[float]]:
    """Per numeric feature, the distinct reference quantiles cutting it into `bins` bins (NULLs ignored)."""
    cut_points = [i / bins for i in range(1, bins)]
    select = ", ".join(
        f"list_sort(list_distinct(quantile_disc(CAST({quoted_identifier(c)} AS DOUBLE), {cut_points})))"
        for c in numeric
    )
    row = con.execute(f"SELECT {select} FROM {reference}").fetchone()
    return {feature: list(edges or []) for feature, edges in zip(numeric, row, strict=True)}


def _numeric_bin_counts(
    con: duckdb.DuckDBPyConnection, table: str, edges: dict[str, list[float]]
) -> dict[str, dict[str, int]]:
    """{feature: {bin: rows}} in one scan: bin k holds the values above exactly k edges, NULLs `MISSING`.

    Counts "above edge e" per edge (plain filtered counts, no per-row lists) and takes differences."""
    aggregates, params = ["count(*)"], []
    for feature, feature_edges in edges.items():
        value = f"CAST({quoted_identifier(feature)} AS DOUBLE)"
        aggregates.append(f"count({value})")
        aggregates.extend(f"count_if({value} > ?)" for _ in feature_edges)
        params.extend(feature_edges)
    row = iter(con.execute(f"SELECT {', '.join(aggregates)} FROM {table}", params).fetchone())
    total = next(row)
    counts = {}
    for feature, feature_edges in edges.items():
        present = next(row)
        above = [present, *(next(row) for _ in feature_edges), 0]
        counts[feature] = {str(k): above[k] - above[k + 1] for k in range(len(feature_edges) + 1)}
        counts[feature][MISSING] = total - present
    return counts


def _categorical_counts(
    con: duckdb.DuckDBPyConnection, table: str, categorical: list[str]
) -> dict[str, dict[str, int]]:
    """{feature: {category: rows}}, NULLs `MISSING`."""
    counts: dict[str, dict[str, int]] = {feature: {} for feature in categorical}
    if not categorical:
        return counts
    select = ", ".join(
        f"coalesce(CAST({quoted_identifier(c)} AS VARCHAR), '{MISSING}') AS {quoted_identifier(c)}"
        for c in categorical
    )
    names = ", ".join(quoted_identifier(c) for c in categorical)
    rows = con.execute(
        f"SELECT feature, value, count(*) FROM (SELECT {select} FROM {table}) "
        f"UNPIVOT (value FOR feature IN ({names})) GROUP BY ALL"
    ).fetchall()
    for feature, value, count in rows:
        counts[feature][value] = count
    return counts


def _psi(reference: dict[str, int], current: dict[str, int]) -> float:
    """PSI of two bin-count histograms; bins empty on both sides dropped, shares smoothed by half a row."""
    bins = [b for b in reference.keys() | current.keys() if reference.get(b, 0) + current.get(b, 0) > 0]
    reference_total = sum(reference.get(b, 0) for b in bins) + 0.5 * len(bins)
    current_total = sum(current.get(b, 0) for b in bins) + 0.5 * len(bins)
    psi = 0.0
    for b in bins:
        p_reference = (reference.get(b, 0) + 0.5) / reference_total
        p_current = (current.get(b, 0) + 0.5) / current_total
        psi += (p_current - p_reference) * math.log(p_current / p_reference)
    return psi


def population_stability(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    current: str,
    numeric: list[str],
    categorical: list[str],
    bins: int = PSI_BINS,
) -> dict[str, float]:
    """PSI per feature: numeric features in reference-quantile bins (ties merge bins), categorical features
    by category; NULL is a bin of its own; shares smoothed by half a row per bin. The bin counts come from
    DuckDB (one aggregate scan per table and kind); the PSI arithmetic runs on those few hundred counts."""
    edges = _reference_edges(con, reference, numeric, bins) if numeric else {}
    reference_counts = {
        **_numeric_bin_counts(con, reference, edges),
        **_categorical_counts(con, reference, categorical),
    }
    current_counts = {
        **_numeric_bin_counts(con, current, edges),
        **_categorical_counts(con, current, categorical),
    }
    return {f: _psi(reference_counts[f], current_counts[f]) for f in numeric + categorical}


def _sample(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: int, seed: int
) -> pd.DataFrame:
    select = ", ".join(quoted_identifier(c) for c in columns)
    return con.execute(
        f"SELECT {select} FROM {table} USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE ({int(seed)})"
    ).df()


def _ks(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    reference, current = reference.dropna().astype(float), current.dropna().astype(float)
    if reference.empty or current.empty:
        return float("nan"), 1.0
    result = stats.ks_2samp(reference.to_numpy(), current.to_numpy())
    return float(result.statistic), float(result.pvalue)


def _chi_square(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    counts = pd.concat(
        [
            reference.astype("string").fillna(MISSING).value_counts(),
            current.astype("string").fillna(MISSING).value_counts(),
        ],
        axis=1,
    ).fillna(0)
    counts = counts[counts.sum(axis=1) > 0]
    if len(counts) < 2 or (counts.sum(axis=0) == 0).any():
        return 0.0, 1.0
    result = stats.chi2_contingency(counts.to_numpy(dtype=float).T)
    return float(result.statistic), float(result.pvalue)


def feature_drift(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    current: str,
    numeric: list[str],
    categorical: list[str],
    rules: DriftRules = DEFAULT_DRIFT_RULES,
    baseline: dict[str, float] | None = None,
    test_sample_rows: int = TEST_SAMPLE_ROWS,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per feature (`DRIFT_COLUMNS`), largest PSI first. `reference` and `current` are tables or
    views in `con` holding the feature columns; `baseline` is the ordinary PSI per feature (see the module
    docstring), NaN when unknown."""
    if not numeric and not categorical:
        return pd.DataFrame(columns=DRIFT_COLUMNS)
    psi = population_stability(con, reference, current, numeric, categorical)
    columns = numeric + categorical
    reference_sample = _sample(con, reference, columns, test_sample_rows, seed)
    current_sample = _sample(con, current, columns, test_sample_rows, seed + 1)
    rows = []
    for feature in columns:
        kind = "numeric" if feature in numeric else "categorical"
        test = _ks if kind == "numeric" else _chi_square
        statistic, p_value = test(reference_sample[feature], current_sample[feature])
        ordinary = (baseline or {}).get(feature, float("nan"))
        rows.append((feature, kind, psi.get(feature, 0.0), ordinary, statistic, p_value))
    result = pd.DataFrame(rows, columns=["feature", "kind", "psi", "baseline_psi", "statistic", "p_value"])
    result["p_adjusted"] = stats.false_discovery_control(result["p_value"].to_numpy(), method="bh")
    beyond_ordinary = result["baseline_psi"].isna() | (
        result["psi"] >= rules.baseline_factor * result["baseline_psi"]
    )
    result["drifted"] = (
        (result["p_adjusted"] < rules.alpha) & (result["psi"] >= rules.psi_threshold) & beyond_ordinary
    )
    return result.sort_values("psi", ascending=False, ignore_index=True)[DRIFT_COLUMNS]
