"""The searchable customer and product dropdowns: how they look, what they list, which id a value names."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ovni_ui.i18n import Texts


def search_picker(tr: Texts, kind: str, elem_id: str) -> gr.Dropdown:
    """A dropdown of every customer or every product (`kind`), searched by typing; the page load fills it,
    and a typed value that is not listed still reaches the handler, which names it in its message."""
    return gr.Dropdown(
        label=tr(kind),
        info=tr(f"{kind}_info"),
        choices=[],
        value=None,
        allow_custom_value=True,
        filterable=True,
        elem_id=elem_id,
    )


def customer_choices(tr: Texts, customers: dict[int, dict]) -> list[tuple[str, int]]:
    """One choice a customer, by id: its number, type and deliveries a week, the words people search by."""
    return [
        (
            tr(
                "customer_choice",
                customer_id=customer_id,
                customer_type=customer.get("customer_type") or "—",
                deliveries=tr.number(customer.get("num_deliver_per_week"), 0),
            ),
            customer_id,
        )
        for customer_id, customer in sorted(customers.items())
    ]


def product_choices(tr: Texts, products: dict[int, dict]) -> list[tuple[str, int]]:
    """One choice a product, by id: its number and its line (brand, package, segment)."""
    return [
        (tr("product_choice", product_id=product_id, line=tr.product_line(product)), product_id)
        for product_id, product in sorted(products.items())
    ]


def picked_id(value: Any) -> int | None:
    """A picker's value (an id, or text typed by the user starting with the id) as an int, else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    head = str(value).strip().split(" ", 1)[0]
    return int(head) if head.isdigit() else None
