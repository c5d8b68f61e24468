"""Customers, products and prediction batches as the pickers and the explorer need them, cached per snapshot.

The catalogue is the snapshot's customers and products (`GET /customers`, `GET /products`, read when the
page loads) and the prediction batch of each week the explorer opens (`GET /predictions`, read on first use),
each in pages of 1000: a few requests, once per published snapshot (its `/ready` identity), shared by every
handler of the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ovni_ui.api_client import OvniApiClient

PAGE_SIZE = 1000  # the API's largest page
ProgressFn = Callable[[float, str], None]


@dataclass
class Catalogue:
    """One snapshot's served week, its customers and products, and the batches of the weeks opened so far."""

    identity: tuple[str, str, str]  # (model_version, week_start, snapshot_created_at)
    model_version: str
    week_start: str
    customers: dict[int, dict] = field(default_factory=dict)
    products: dict[int, dict] = field(default_factory=dict)
    batches: dict[str, pd.DataFrame] = field(default_factory=dict)


def fetch_batch(
    api: OvniApiClient, week_start: str | None, progress: ProgressFn | None = None, desc: str = ""
) -> pd.DataFrame:
    """Every stored prediction of a week (newest batch), following the API's pages."""
    rows: list[dict] = []
    while True:
        page = api.predictions(week_start=week_start, limit=PAGE_SIZE, offset=len(rows))
        rows.extend(page["items"])
        total = int(page["total"])
        if progress is not None:
            progress(min(1.0, len(rows) / max(total, 1)) * 0.5, desc)
        if not page["items"] or len(rows) >= total:
            break
    columns = ["week_start", "customer_id", "product_id", "probability", "will_buy", "rank", "model_version"]
    return pd.DataFrame(rows, columns=columns)


def fetch_all(list_page: Callable[..., dict], key: str) -> dict[int, dict]:
    """Every item of a paged list endpoint (`api.customers`, `api.products`) as {id: attributes}."""
    found: dict[int, dict] = {}
    offset = 0
    while True:
        page = list_page(limit=PAGE_SIZE, offset=offset)
        for item in page["items"]:
            found[int(item[key])] = item["attributes"]
        offset += len(page["items"])
        if not page["items"] or offset >= int(page["total"]):
            return found


class CatalogueCache:
    """Builds the catalogue on first use and again whenever `/ready` reports another snapshot or model."""

    def __init__(self, api: OvniApiClient):
        self.api = api
        self._lock = threading.Lock()
        self._current: Catalogue | None = None

    @property
    def current(self) -> Catalogue | None:
        """The catalogue read last, without asking the API (None before the first read)."""
        return self._current

    def get(self, progress: ProgressFn | None = None, desc: str = "") -> Catalogue:
        ready = self.api.ready()
        identity = (
            str(ready["model_version"]),
            str(ready["week_start"]),
            str(ready.get("snapshot_created_at")),
        )
        with self._lock:
            if self._current is None or self._current.identity != identity:
                catalogue = Catalogue(identity, identity[0], identity[1])
                catalogue.customers = fetch_all(self.api.customers, "customer_id")
                if progress is not None:
                    progress(0.5, desc)
                catalogue.products = fetch_all(self.api.products, "product_id")
                self._current = catalogue
            return self._current

    def batch(self, week_start: str, progress: ProgressFn | None = None, desc: str = "") -> pd.DataFrame:
        """A week's batch joined with customer type, segment and brand."""
        catalogue = self.get(progress, desc)
        with self._lock:
            batch = catalogue.batches.get(week_start)
            if batch is None:
                batch = fetch_batch(self.api, week_start, progress, desc)
                catalogue.batches[week_start] = batch
        joined = batch.copy()
        joined["customer_type"] = joined["customer_id"].map(
            lambda c: catalogue.customers.get(int(c), {}).get("customer_type")
        )
        joined["segment"] = joined["product_id"].map(
            lambda p: catalogue.products.get(int(p), {}).get("segment")
        )
        joined["brand"] = joined["product_id"].map(lambda p: catalogue.products.get(int(p), {}).get("brand"))
        return joined
