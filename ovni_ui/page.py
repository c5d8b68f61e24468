"""What the tabs of one page share: the API client, the page's language, and how a failed call is shown.

Every handler's first output is the header status, which follows the call: red when the API did not answer,
green with what is served when it did. A failure never reaches the person as a traceback: it becomes a
message in the page's language, chosen by the answer's status and by what the handler asked for.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gradio as gr

from ovni_ui import views
from ovni_ui.api_client import ApiError, ApiRequestError, ApiUnavailable, OvniApiClient
from ovni_ui.catalogue import Catalogue, CatalogueCache
from ovni_ui.i18n import Texts


class AskedFor(ApiRequestError):
    """An API refusal with what the handler asked for, so the message can name it in the page's language."""

    def __init__(self, error: ApiRequestError, **asked: Any):
        super().__init__(error.status_code, error.detail)
        self.asked = asked


class OvniPage:
    """One page (one language): the API client, texts, download folder and catalogue its tabs share."""

    def __init__(
        self, api: OvniApiClient, tr: Texts, download_dir: Path, catalogue: CatalogueCache | None = None
    ):
        self.api = api
        self.tr = tr
        self.download_dir = download_dir
        self.catalogue = catalogue or CatalogueCache(api)

    def error_text(self, error: ApiError) -> str:
        """The failure in the page's language, chosen by status and by what was asked (never the API's
        English words, which are for developers)."""
        tr = self.tr
        if isinstance(error, ApiUnavailable):
            if error.preparing:
                return tr("api_preparing")
            return tr("api_loading") if error.status_code == 503 else tr("api_down")
        asked: Mapping[str, Any] = getattr(error, "asked", {})
        status = getattr(error, "status_code", None)
        if status == 404:
            return self._not_found_text(asked)
        if status == 413:
            return tr("error_too_large")
        if "week" in asked:
            return tr("error_unknown_week", week=asked["week"])
        return tr("error_invalid")

    def _not_found_text(self, asked: Mapping[str, Any]) -> str:
        """Which of the asked customer and product the published predictions lack, when the page knows."""
        known = self.catalogue.current
        customer_id, product_id = asked.get("customer_id"), asked.get("product_id")
        if customer_id is not None and (known is None or customer_id not in known.customers):
            return self.tr("error_unknown_customer", customer_id=customer_id)
        if product_id is not None and (known is None or product_id not in known.products):
            return self.tr("error_unknown_product", product_id=product_id)
        return self.tr("error_not_found")

    def error_banner(self, error: ApiError) -> str:
        return views.banner("error", self.error_text(error))

    def status(self) -> str:
        """The header line after a call the API answered: what it serves now (or why it does not), and
        under it a notice when the served week is stale (the API still serves it)."""
        try:
            ready = self.api.ready()
        except ApiUnavailable as error:
            return self.error_banner(error)
        served = views.banner(
            "ok", self.tr("status_ok", version=ready["model_version"], week=ready["week_start"])
        )
        return served + views.stale_notice(self.tr, ready)

    def threshold(self) -> float | None:
        """The champion's decision threshold, which the probability bars mark."""
        threshold = self.api.model().get("threshold")
        return None if threshold is None else float(threshold)


class Tab(ABC):
    """One tab of the page: `render` lays it out inside `gr.Tabs` and binds its events to its handlers.

    `pickers` are the dropdowns whose choices come from the catalogue; the page load fills them all in one
    call, with the updates `picker_choices` gives."""

    pickers: tuple[gr.Dropdown, ...] = ()

    def __init__(self, page: OvniPage):
        self.page = page
        self.tr = page.tr
        self.api = page.api

    @abstractmethod
    def render(self, status: gr.HTML) -> None: ...

    def picker_choices(self, catalogue: Catalogue) -> tuple:
        return ()


def handler(*blanks: Any) -> Callable:
    """A tab's event handler, whose outputs are the header status, a message, then the rest.

    The status follows the call. A failure becomes the message (in the page's language) and the rest get
    `blanks`, so the page shows what went wrong instead of a traceback."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self: Tab, *args: Any, **kwargs: Any) -> tuple:
            page = self.page
            try:
                outputs = method(self, *args, **kwargs)
            except ApiUnavailable as error:  # the header and the message both say so
                banner = page.error_banner(error)
                return (banner, banner, *blanks)
            except ApiError as error:
                outputs = (page.error_banner(error), *blanks)
            return (page.status(), *outputs)

        return wrapper

    return decorate
