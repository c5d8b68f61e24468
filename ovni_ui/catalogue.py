"""Customers, products and prediction batches as the pickers and the explorer need them, cached per snapshot.

The API lists predictions (paged) and answers one customer or one product at a time; the catalogue is the
customers and products of the served week's batch, read once per published snapshot (its `/ready` identity)
and shared by every handler of the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from ovni_ui.api_client import OvniApiClient

PAGE_SIZE = 1000  # the API's largest page
FETCH_WORKERS = 8
ProgressFn = Callable[[float, str], None]


@dataclass
class Catalogue:
    """One snapshot's served week, its batch, and the attributes of the customers and products in it."""

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


class CatalogueCache:
    """Builds the catalogue on first use and again whenever `/ready` reports another snapshot or model."""

    def __init__(self, api: OvniApiClient):
        self.api = api
        self._lock = threading.Lock()
        self._current: Catalogue | None = None

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
                batch = fetch_batch(self.api, catalogue.week_start, progress, desc)
                catalogue.batches[catalogue.week_start] = batch
                self._complete(catalogue, batch, progress, desc)
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
            self._complete(catalogue, batch, progress, desc)
        joined = batch.copy()
        joined["customer_type"] = joined["customer_id"].map(
            lambda c: catalogue.customers.get(int(c), {}).get("customer_type")
        )
        joined["segment"] = joined["product_id"].map(
            lambda p: catalogue.products.get(int(p), {}).get("segment")
        )
        joined["brand"] = joined["product_id"].map(lambda p: catalogue.products.get(int(p), {}).get("brand"))
        return joined

    def _complete(
        self, catalogue: Catalogue, batch: pd.DataFrame, progress: ProgressFn | None, desc: str
    ) -> None:
        """Fetch the attributes of the batch's customers and products not known yet (a few at a time)."""
        missing_customers = sorted(set(batch["customer_id"].astype(int)) - set(catalogue.customers))
        missing_products = sorted(set(batch["product_id"].astype(int)) - set(catalogue.products))
        if not missing_customers and not missing_products:
            return
        with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
            customers = pool.map(lambda c: self.api.customer(c)["attributes"], missing_customers)
            products = pool.map(lambda p: self.api.product(p)["attributes"], missing_products)
            for customer_id, attributes in zip(missing_customers, customers, strict=True):
                catalogue.customers[customer_id] = attributes
            if progress is not None:
                progress(0.9, desc)
            for product_id, attributes in zip(missing_products, products, strict=True):
                catalogue.products[product_id] = attributes
