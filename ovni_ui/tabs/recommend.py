"""Recomendaciones: the products a customer is most likely to buy next week, and what the threshold says."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ovni_ui import views
from ovni_ui.api_client import ApiRequestError
from ovni_ui.catalogue import Catalogue
from ovni_ui.page import AskedFor, Tab, handler
from ovni_ui.pickers import customer_choices, picked_id, search_picker


class RecommendTab(Tab):
    """A customer and how many products; the customer's card and the ranked table with reasons."""

    def render(self, status: gr.HTML) -> None:
        tr = self.tr
        with gr.Tab(tr("tab_recommend"), id="recommend"), gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                customer = search_picker(tr, "customer", "ovni-customer")
                top_k = gr.Slider(1, 20, value=5, step=1, label=tr("top_k"))
                button = gr.Button(tr("show_recommendations"), variant="primary")
                card = gr.HTML()
            with gr.Column(scale=3):
                message = gr.HTML(views.banner("info", tr("pick_customer")))
                table = gr.HTML(elem_id="ovni-recommendations-box")
        outputs = [status, message, card, table]
        button.click(self.recommend, [customer, top_k], outputs, api_name="recommend")
        customer.change(self.recommend, [customer, top_k], outputs, api_visibility="private")
        top_k.release(self.recommend, [customer, top_k], outputs, api_visibility="private")
        self.pickers = (customer,)

    def picker_choices(self, catalogue: Catalogue) -> tuple:
        return (gr.update(choices=customer_choices(self.tr, catalogue.customers)),)

    @handler("", "")
    def recommend(self, customer: Any, k: float) -> tuple[str, str, str]:
        """Top-k products of next week for one customer: (message, customer card, table)."""
        tr = self.tr
        customer_id = picked_id(customer)
        if customer_id is None:
            return views.banner("info", tr("pick_customer")), "", ""
        asked = int(k)
        try:
            payload = self.api.recommendations(customer_id, asked, tr.lang)
            details = self.api.customer(customer_id)["attributes"]
        except ApiRequestError as error:
            raise AskedFor(error, customer_id=customer_id) from error
        items = payload.get("recommendations") or []
        products = {
            int(item["product_id"]): self.api.product(int(item["product_id"]))["attributes"] for item in items
        }
        threshold = self.page.threshold()
        table = views.recommendations_table(tr, payload, products, threshold)
        return self._notes(items, asked, threshold), views.customer_card(tr, details), table

    def _notes(self, items: list[dict], asked: int, threshold: float | None) -> str:
        """Says when the customer has fewer candidates than asked, and how many pass the threshold."""
        tr = self.tr
        if not items:
            return ""
        notes = [tr("fewer_than_asked", count=len(items), asked=asked)] if len(items) < asked else []
        passing = sum(bool(item["will_buy"]) for item in items)
        limit = tr.percent(threshold)
        notes.append(
            tr("none_above_threshold", threshold=limit)
            if passing == 0
            else tr("some_above_threshold", count=passing, shown=len(items), threshold=limit)
        )
        return "".join(views.banner("info", note) for note in notes)
