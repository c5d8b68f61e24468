"""Texts of the Consultar tab: the pair's result card and the "¿Y si…?" panel, one label per behaviour."""

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "tab_consult": "Consultar",
        "consult_button": "Calcular",
        "pick_pair": "Elija un cliente y un producto y pulse «Calcular».",
        "consult_heading": "Cliente {customer_id} y producto {product_id}, semana del {week}",
        "decision_buy": "Comprará: conviene ofrecerlo",
        "decision_no_buy": "Probablemente no comprará",
        "threshold_note": "Umbral de decisión del modelo: {threshold}",
        "reasons_title": "Por qué",
        "no_reasons": "Sin historial de compra de este producto: la estimación usa clientes parecidos.",
        "whatif_title": "¿Y si…? Simular otro comportamiento",
        "whatif_intro": (
            "Cambie el historial del cliente con este producto y vea cómo cambia la probabilidad. "
            "Lo que depende de cada valor cambia con él (compras semana a semana, días sin comprar, "
            "proporciones). No modifica ningún dato: sólo consulta al modelo."
        ),
        "whatif_button": "Simular",
        "whatif_pick_first": "Primero calcule un cliente y producto en «Consultar».",
        "whatif_unavailable": (
            "La simulación no está disponible con esta versión del servicio de predicciones."
        ),
        "whatif_result": "Con estos valores: {probability} ({decision}); antes {before}.",
        "feat_weeks_ago": "Hace cuántas semanas fue la última compra (1 = la semana pasada)",
        "whatif_adjusted": (
            "Algunos valores no eran posibles juntos y se ajustaron al más cercano (vea los campos)."
        ),
        "feat_bought_w4": "Semanas con compra de las últimas 4",
        "feat_bought_w12": "Semanas con compra de las últimas 12",
        "feat_units_w4": "Unidades compradas en las últimas 4 semanas",
        "feat_mean_gap_weeks": "Semanas promedio entre compras",
        "feat_cust_active_w4": "Semanas activas del cliente (de las últimas 4)",
    },
    "en": {
        "tab_consult": "Look up",
        "consult_button": "Calculate",
        "pick_pair": "Pick a customer and a product and press “Calculate”.",
        "consult_heading": "Customer {customer_id} and product {product_id}, week of {week}",
        "decision_buy": "Will buy: worth offering",
        "decision_no_buy": "Probably will not buy",
        "threshold_note": "Model decision threshold: {threshold}",
        "reasons_title": "Why",
        "no_reasons": "No purchase history for this product: the estimate relies on similar customers.",
        "whatif_title": "What if…? Simulate a different behaviour",
        "whatif_intro": (
            "Change the customer's history with this product and see how the probability changes. "
            "What depends on each value changes with it (week-by-week purchases, days without buying, "
            "shares). Nothing is saved: it only asks the model."
        ),
        "whatif_button": "Simulate",
        "whatif_pick_first": "First calculate a customer and product in “Look up”.",
        "whatif_unavailable": "Simulation is not available with this version of the prediction service.",
        "whatif_result": "With these values: {probability} ({decision}); before {before}.",
        "feat_weeks_ago": "How many weeks ago the last purchase was (1 = last week)",
        "whatif_adjusted": (
            "Some values were not possible together and were moved to the nearest (see the fields)."
        ),
        "feat_bought_w4": "Weeks with a purchase out of the last 4",
        "feat_bought_w12": "Weeks with a purchase out of the last 12",
        "feat_units_w4": "Units bought in the last 4 weeks",
        "feat_mean_gap_weeks": "Average weeks between purchases",
        "feat_cust_active_w4": "Customer's active weeks (out of the last 4)",
    },
}
