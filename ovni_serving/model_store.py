"""The serving bundle and the store that swaps it.

A `ServingBundle` is immutable (apart from memo caches of answers computed from it): one champion version,
one snapshot, and the champion's probabilities for every candidate row of the snapshot, indexed for O(1)
lookup. It is built off the request path (the background
poller or `POST /admin/reload`) and published with one assignment, so a request sees either the old bundle or
the new one, never a mix, and never none once one has loaded. A failed load keeps the old bundle and records
the error, which `/ready` shows.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from ovni_assets.features.target_week import in_progress_probability
from ovni_assets.settings import OvniSettings
from ovni_serving.champion import ChampionModel, ChampionRegistry, RegistryError
from ovni_serving.reasons import FEATURES_READ, Lang, reasons
from ovni_serving.scoring import ColdStart, model_frame, probabilities
from ovni_serving.snapshot import FileIdentity, Snapshot, SnapshotError, json_safe, load_snapshot

COLD_CACHE_LIMIT = 100_000
RECOMMENDATION_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class ServingBundle:
    """What one request needs, consistent with itself (one model version, one snapshot)."""

    champion: ChampionModel
    snapshot: Snapshot
    probability: np.ndarray  # aligned with snapshot.features rows
    customer_ranking: dict[int, np.ndarray]  # row indices of each customer, best probability first
    feature_values: dict[str, np.ndarray]  # model feature columns of snapshot.features, as arrays
    cold_start: ColdStart
    cold_cache: dict[tuple[int, int], float] = field(default_factory=dict, compare=False)
    recommendation_cache: dict[tuple[int, int, str], list[dict[str, Any]]] = field(
        default_factory=dict, compare=False
    )

    @property
    def version(self) -> str:
        return self.champion.version

    def known_probability(self, customer_id: int, product_id: int) -> tuple[float, bool] | None:
        """(P(buy), cold_start) from memory: a candidate's precomputed score or a cached cold-start one."""
        row = self.snapshot.pair_row.get((customer_id, product_id))
        if row is not None:
            return float(self.probability[row]), False
        cached = self.cold_cache.get((customer_id, product_id))
        return (cached, True) if cached is not None else None

    def score_cold(self, pairs: list[tuple[int, int]]) -> list[float]:
        """Score pairs without a candidate row from cold-start features, in one batch; cache the results."""
        frame = self.cold_start.rows(pairs)
        bought = np.fromiter((pair in self.snapshot.bought_so_far for pair in pairs), bool, len(pairs))
        scores = [
            float(p)
            for p in target_week_probability(self.snapshot, probabilities(self.champion, frame), bought)
        ]
        if len(self.cold_cache) + len(pairs) <= COLD_CACHE_LIMIT:
            self.cold_cache.update(zip(pairs, scores, strict=True))
        return scores

    def pair_features(self, customer_id: int, product_id: int) -> tuple[dict[str, Any], bool]:
        """(feature row the model scores for the pair, cold_start) as JSON-safe values."""
        row = self.snapshot.pair_row.get((customer_id, product_id))
        if row is not None:
            return self.features_of(row), False
        frame = self.cold_start.row(customer_id, product_id)
        return {name: json_safe(value) for name, value in frame.iloc[0].items()}, True

    def features_of(self, row: int, names: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Feature values of a candidate row (all model features, or only `names` that exist)."""
        if names is None:
            return {name: json_safe(values[row]) for name, values in self.feature_values.items()}
        return {
            name: json_safe(self.feature_values[name][row]) for name in names if name in self.feature_values
        }

    def recommendations(self, customer_id: int, k: int, lang: Lang) -> list[dict[str, Any]]:
        """The customer's top k candidates with reasons; computed once per bundle and (customer, k, lang)."""
        key = (customer_id, k, lang)
        cached = self.recommendation_cache.get(key)
        if cached is not None:
            return cached
        threshold = self.champion.threshold
        product_ids = self.snapshot.features["product_id"].to_numpy()
        items = []
        for rank, row in enumerate(self.customer_ranking.get(customer_id, [])[:k], start=1):
            probability = float(self.probability[row])
            items.append(
                {
                    "product_id": int(product_ids[row]),
                    "probability": probability,
                    "will_buy": probability >= threshold,
                    "rank": rank,
                    "reasons": reasons(self.features_of(row, FEATURES_READ), probability, threshold, lang),
                }
            )
        if len(self.recommendation_cache) < RECOMMENDATION_CACHE_LIMIT:
            self.recommendation_cache[key] = items
        return items


def target_week_probability(snapshot: Snapshot, probability: np.ndarray, bought: np.ndarray) -> np.ndarray:
    """As the prediction batch: while the target week is in progress, 1 for the pairs bought so far and
    P(buy in the days to come) for the others; the model's probability otherwise."""
    if not snapshot.in_progress:
        return probability
    remaining = in_progress_probability(probability, snapshot.known_volume, snapshot.remaining_volume)
    return np.where(bought, 1.0, remaining)


def build_bundle(champion: ChampionModel, snapshot: Snapshot) -> ServingBundle:
    """Score every candidate row of the snapshot with the champion (the slow part, done once per swap)."""
    frame = model_frame(snapshot, champion)
    keys = zip(snapshot.features["customer_id"], snapshot.features["product_id"], strict=True)
    bought = np.fromiter(((int(c), int(p)) in snapshot.bought_so_far for c, p in keys), bool, len(frame))
    probability = target_week_probability(snapshot, probabilities(champion, frame), bought)
    customers = snapshot.features["customer_id"].to_numpy()
    order = np.lexsort((snapshot.features["product_id"].to_numpy(), -probability, customers))
    ranked_customers = customers[order]
    starts = np.flatnonzero(np.r_[True, ranked_customers[1:] != ranked_customers[:-1]]) if len(order) else []
    customer_ranking = {
        int(ranked_customers[start]): order[start:end] for start, end in pairwise([*starts, len(order)])
    }
    return ServingBundle(
        champion=champion,
        snapshot=snapshot,
        probability=probability,
        customer_ranking=customer_ranking,
        feature_values={name: frame[name].to_numpy() for name in champion.feature_names},
        cold_start=ColdStart.from_snapshot(snapshot, champion),
    )


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, RegistryError | SnapshotError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass
class ReloadStats:
    checks: int = 0
    swaps: int = 0
    failures: int = 0
    last_check_at: float | None = None
    last_swap_at: float | None = None
    last_load_seconds: float | None = None  # check + load + scoring of the last swap


class ModelStore:
    """Holds the current bundle; `refresh()` checks the registry and the snapshot and swaps when they move."""

    def __init__(self, settings: OvniSettings, registry: ChampionRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry or ChampionRegistry(settings)
        self.bundle: ServingBundle | None = None
        self.errors: dict[str, str] = {}
        self.stats = ReloadStats()
        self._champion: ChampionModel | None = None
        self._snapshot: Snapshot | None = None
        self._failed_version: str | None = None
        self._failed_snapshot: FileIdentity | None = None
        self._lock = threading.Lock()

    def status(self) -> Mapping[str, str]:
        return dict(self.errors)

    def awaiting_first_snapshot(self) -> bool:
        """Nothing published yet: no snapshot file, none loaded before (a new home's first run goes on)."""
        return self._snapshot is None and FileIdentity.of(self.settings.serving_path) is None

    def refresh(self, force: bool = False) -> bool:
        """One check of the snapshot file and the champion alias; True when a new bundle was swapped in.

        `force` retries a champion version or snapshot file whose load failed before (otherwise they are
        skipped until the alias or the file changes, so a broken one is not loaded again every poll).
        """
        with self._lock:
            started = time.perf_counter()
            self.stats.checks += 1
            self.stats.last_check_at = time.time()
            changed = self._refresh_snapshot(force) | self._refresh_champion(force)
            if not (changed or force) or self._champion is None or self._snapshot is None:
                return False
            current = self.bundle
            if (
                current is not None
                and current.champion is self._champion
                and current.snapshot is self._snapshot
            ):
                return False
            try:
                bundle = build_bundle(self._champion, self._snapshot)
            except Exception as error:  # a broken pair must never take the serving bundle down
                self._fail("bundle", error)
                return False
            self.errors.pop("bundle", None)
            self.bundle = bundle  # the swap: one assignment
            # Everything loaded so far (libraries, model, snapshot) lives until the next swap: keep it out of
            # the cyclic GC's full collections, which would otherwise pause requests for tens of ms.
            gc.freeze()
            self.stats.swaps += 1
            self.stats.last_swap_at = time.time()
            self.stats.last_load_seconds = time.perf_counter() - started
            return True

    def _refresh_snapshot(self, force: bool) -> bool:
        path = self.settings.serving_path
        identity = FileIdentity.of(path)
        if identity is None and self._snapshot is None:
            self.errors["snapshot"] = f"no serving snapshot at {path} yet (run `ovni run` to publish one)"
            return False
        if identity is None or (self._snapshot is not None and identity == self._snapshot.identity):
            return False
        if identity == self._failed_snapshot and not force:
            return False
        try:
            self._snapshot = load_snapshot(path)
        except Exception as error:  # keep the old snapshot; show why in /ready
            self._failed_snapshot = identity
            self._fail("snapshot", error)
            return False
        self._failed_snapshot = None
        self.errors.pop("snapshot", None)
        return True

    def _refresh_champion(self, force: bool) -> bool:
        try:
            version = self.registry.champion_version()
        except Exception as error:  # no registry or no alias yet: nothing to load
            self.errors["registry"] = _describe(error)
            return False
        if self._champion is not None and self._champion.version == version:
            self.errors.pop("registry", None)
            return False
        if version == self._failed_version and not force:
            return False
        try:
            champion = self.registry.load(version)
        except Exception as error:  # keep the old champion; show why in /ready
            self._failed_version = version
            self._fail("registry", error)
            return False
        self._champion = champion
        self._failed_version = None
        self.errors.pop("registry", None)
        return True

    def _fail(self, part: str, error: BaseException) -> None:
        self.errors[part] = _describe(error)
        self.stats.failures += 1
