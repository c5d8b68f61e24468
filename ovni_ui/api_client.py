"""Every HTTP call the UI makes to the OVNI API, in one place.

Failures come back as two exception types the UI turns into messages a person reads:
`ApiUnavailable` (the service is down, slow or broken) and `ApiRequestError` (the API answered 4xx, e.g. an
unknown customer id; its `detail` is the API's own explanation).
"""

from __future__ import annotations

from typing import Any

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class ApiError(Exception):
    """Base of the errors the UI shows instead of a traceback."""


class ApiUnavailable(ApiError):
    """The API did not answer, answered too late, or failed on its side (5xx; 503 while it loads)."""

    def __init__(self, message: str, status_code: int | None = None, preparing: bool = False):
        super().__init__(message)
        self.status_code = status_code
        self.preparing = preparing  # nothing published yet: a new home's first pipeline run goes on


class ApiRequestError(ApiError):
    """The API refused the request (4xx); `detail` says why in the API's (English, developer) words."""

    def __init__(self, status_code: int, detail: str):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def _detail_of(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(
            str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail
        )
    return str(detail)


def _status_of(response: httpx.Response) -> str | None:
    """The `status` field of a JSON body (`/ready`'s), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("status") if isinstance(body, dict) else None


class OvniApiClient:
    """A small synchronous client over httpx with timeouts; one instance per app, shared by handlers."""

    def __init__(self, base_url: str, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise ApiUnavailable(f"timeout calling {method} {path}") from error
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"cannot reach {self.base_url}: {error}") from error
        if response.status_code >= 500:
            raise ApiUnavailable(
                f"{method} {path} answered {response.status_code}: {_detail_of(response)}",
                response.status_code,
                preparing=_status_of(response) == "preparing",
            )
        if response.status_code >= 400:
            raise ApiRequestError(response.status_code, _detail_of(response))
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def _get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    # --- service state -------------------------------------------------------------------------------------
    def health(self) -> dict:
        return self._get("/health")

    def ready(self) -> dict:
        """`/ready` answers 503 while the model or snapshot is loading; that is 'unavailable' to the UI."""
        return self._get("/ready")

    def model(self) -> dict:
        return self._get("/model")

    # --- predictions ---------------------------------------------------------------------------------------
    def recommendations(self, customer_id: int, k: int, lang: str) -> dict:
        return self._get(f"/customers/{int(customer_id)}/recommendations", k=int(k), lang=lang)

    def predict(self, pairs: list[tuple[int, int]], week_start: str | None = None) -> dict:
        body: dict[str, Any] = {"pairs": [{"customer_id": c, "product_id": p} for c, p in pairs]}
        if week_start:
            body["week_start"] = week_start
        return self._request("POST", "/predict", json=body)

    def predict_features(self, rows: list[dict]) -> dict:
        return self._request("POST", "/predict/features", json={"rows": rows})

    def pair_features(self, customer_id: int, product_id: int) -> dict:
        """The feature row the model scores for a pair in the served week (the what-if starting point)."""
        return self._get(f"/customers/{int(customer_id)}/products/{int(product_id)}/features")

    def predictions(
        self,
        week_start: str | None = None,
        customer_id: int | None = None,
        product_id: int | None = None,
        will_buy: bool | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> dict:
        return self._get(
            "/predictions",
            week_start=week_start,
            customer_id=customer_id,
            product_id=product_id,
            will_buy=None if will_buy is None else str(will_buy).lower(),
            limit=limit,
            offset=offset,
        )

    # --- catalogue -----------------------------------------------------------------------------------------
    def customers(
        self, limit: int = 1000, offset: int = 0, customer_type: str | None = None, q: str | None = None
    ) -> dict:
        """One page of the snapshot's customers: `{total, limit, offset, items}`."""
        return self._get("/customers", limit=limit, offset=offset, customer_type=customer_type, q=q)

    def products(
        self, limit: int = 1000, offset: int = 0, segment: str | None = None, brand: str | None = None
    ) -> dict:
        """One page of the snapshot's products: `{total, limit, offset, items}`."""
        return self._get("/products", limit=limit, offset=offset, segment=segment, brand=brand)

    def customer(self, customer_id: int) -> dict:
        return self._get(f"/customers/{int(customer_id)}")

    def product(self, product_id: int) -> dict:
        return self._get(f"/products/{int(product_id)}")

    # --- monitoring ----------------------------------------------------------------------------------------
    def drift(self) -> dict:
        return self._get("/drift")

    def model_versions(self) -> list[dict]:
        """Registered model versions with their validation metrics, newest first."""
        return self._get("/model/versions")["items"]

    def alerts(self, limit: int = 20) -> dict:
        """The newest recorded alerts with each channel's outcome, and how many failed to deliver."""
        return self._get("/alerts", limit=limit)

    def quality(self) -> list[dict]:
        """Realized quality of past batches, newest week first."""
        return self._get("/quality")["items"]
