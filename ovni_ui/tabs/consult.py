"""Consultar: one customer-product pair's probability and reasons, and the "¿Y si…?" simulation on its row.

The what-if starts from the pair's own feature row, rounded to readable behaviours (`ovni_ui/whatif.py`);
the model scores the edited row and nothing is saved.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gradio as gr

from ovni_ui import views
from ovni_ui.api_client import ApiError, ApiRequestError
from ovni_ui.catalogue import Catalogue
from ovni_ui.page import AskedFor, Tab, handler
from ovni_ui.pickers import customer_choices, picked_id, product_choices, search_picker
from ovni_ui.whatif import BEHAVIOURS, readable_behaviours, simulated_row

MAX_RANKED = 100  # the API's largest k: a customer's whole candidate list
WHATIF_DECIMALS = {"units_w4": 1, "mean_gap_weeks": 1}  # the rest are whole weeks or counts
NO_INPUTS = (None,) * len(BEHAVIOURS)
KEEP_INPUTS = (gr.skip(),) * len(BEHAVIOURS)
NO_WHATIF = (None, "", "", *NO_INPUTS)  # what-if state, message and result, and one value per input


class WhatIfPanel(NamedTuple):
    """The parts of the what-if panel that the tab's events read or write."""

    inputs: list[gr.Number]
    button: gr.Button
    message: gr.HTML
    result: gr.HTML


class ConsultTab(Tab):
    """A customer and a product; the pair's answer beside the what-if panel that starts from its row."""

    def render(self, status: gr.HTML) -> None:
        tr = self.tr
        with gr.Tab(tr("tab_consult"), id="consult"):
            with gr.Row():
                customer = search_picker(tr, "customer", "ovni-consult-customer")
                product = search_picker(tr, "product", "ovni-consult-product")
            button = gr.Button(tr("consult_button"), variant="primary", elem_id="ovni-consult")
            message = gr.HTML(views.banner("info", tr("pick_pair")))
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    result = gr.HTML()
                with gr.Column(scale=2), gr.Accordion(tr("whatif_title"), open=True):
                    whatif = self._render_whatif()
            state = gr.State(None)
        outputs = [message, result, state, whatif.message, whatif.result, *whatif.inputs]
        button.click(self.consult, [customer, product], [status, *outputs], api_name="consult")
        for picker in (customer, product):
            picker.change(self.forget_pair, None, outputs, api_visibility="private")
        whatif.button.click(
            self.simulate,
            [state, *whatif.inputs],
            [status, whatif.message, whatif.result, *whatif.inputs],
            api_name="simulate",
        )
        self.pickers = (customer, product)

    def _render_whatif(self) -> WhatIfPanel:
        """One number input a behaviour, two a row, then the button and where the answer goes."""
        tr = self.tr
        gr.Markdown(tr("whatif_intro"))
        inputs = []
        for first in range(0, len(BEHAVIOURS), 2):
            with gr.Row():
                inputs.extend(
                    gr.Number(
                        label=tr(f"feat_{name}"),
                        minimum=0,
                        precision=WHATIF_DECIMALS.get(name, 0),
                        min_width=140,
                        elem_id=f"ovni-whatif-{name}",
                    )
                    for name in BEHAVIOURS[first : first + 2]
                )
        button = gr.Button(tr("whatif_button"), elem_id="ovni-simulate")
        return WhatIfPanel(inputs, button, gr.HTML(), gr.HTML(elem_id="ovni-whatif-box"))

    def picker_choices(self, catalogue: Catalogue) -> tuple:
        return (
            gr.update(choices=customer_choices(self.tr, catalogue.customers)),
            gr.update(choices=product_choices(self.tr, catalogue.products)),
        )

    @handler("", *NO_WHATIF)
    def consult(self, customer: Any, product: Any) -> tuple:
        """Probability, decision and reasons of one pair; fills the what-if inputs with its behaviours.

        Outputs: message, result card, what-if state, what-if message, what-if result, one value per input."""
        customer_id, product_id = picked_id(customer), picked_id(product)
        if customer_id is None or product_id is None:
            return self.forget_pair()
        result, probability = self._pair_result(customer_id, product_id)
        return ("", result, *self._whatif_start(customer_id, product_id, probability))

    def forget_pair(self) -> tuple:
        """A new customer or product: the shown result and simulation belong to the old pair."""
        return (views.banner("info", self.tr("pick_pair")), "", *NO_WHATIF)

    def _pair_result(self, customer_id: int, product_id: int) -> tuple[str, float]:
        """The pair's result card, and its probability (what the simulation compares with)."""
        try:
            scored = self.api.predict([(customer_id, product_id)])
        except ApiRequestError as error:
            raise AskedFor(error, customer_id=customer_id, product_id=product_id) from error
        prediction = scored["predictions"][0]
        product = self.api.product(product_id)["attributes"]
        # Reasons come with the customer's ranked candidates; a pair outside them has none (cold start).
        ranked = self.api.recommendations(customer_id, MAX_RANKED, self.tr.lang)["recommendations"]
        reasons = next((r["reasons"] for r in ranked if int(r["product_id"]) == product_id), [])
        week = str(scored["week_start"])
        card = views.pair_result(self.tr, prediction, week, self.page.threshold(), reasons, product)
        return card, prediction["probability"]

    def _whatif_start(self, customer_id: int, product_id: int, probability: float) -> tuple:
        """The what-if state, message and result, and the inputs' first values: the pair's row, readable."""
        try:
            features = self.api.pair_features(customer_id, product_id)["features"]
        except ApiError as error:  # the pair's answer stands; only the simulation is unavailable
            # The pair was just scored, so a 404 here means this API version has no feature-row endpoint.
            missing = isinstance(error, ApiRequestError) and error.status_code == 404
            unavailable = (
                views.banner("info", self.tr("whatif_unavailable"))
                if missing
                else self.page.error_banner(error)
            )
            return (None, unavailable, "", *NO_INPUTS)
        start = readable_behaviours(features)
        state = {"features": features, "probability": probability}
        return (state, "", "", *(start[name] for name in BEHAVIOURS))

    @handler("", *KEEP_INPUTS)
    def simulate(self, state: dict | None, *values: float) -> tuple:
        """Score the pair's row with the edited behaviours and every feature that follows from them
        (`POST /predict/features`). Outputs: message, result, the values used (after the limits)."""
        tr = self.tr
        if not state:
            return (views.banner("info", tr("whatif_pick_first")), "", *KEEP_INPUTS)
        simulation = simulated_row(state["features"], dict(zip(BEHAVIOURS, values, strict=True)))
        scored = self.api.predict_features([simulation.row])["predictions"][0]
        result = views.whatif_result(tr, scored, state["probability"], self.page.threshold())
        message = views.banner("info", tr("whatif_adjusted")) if simulation.adjusted else ""
        return (message, result, *(simulation.behaviours[name] for name in BEHAVIOURS))
