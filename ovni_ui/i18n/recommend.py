"""Texts of the Recomendaciones tab: its controls, the notes on the threshold, the ranked table and the
customer's card."""

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "tab_recommend": "Recomendaciones",
        "top_k": "Cuántos productos",
        "show_recommendations": "Ver recomendaciones",
        "pick_customer": "Elija un cliente para ver sus recomendaciones.",
        "recommend_heading": "Qué ofrecer al cliente {customer_id} la semana del {week}",
        "model_version_note": "Modelo v{version}",
        "no_recommendations": "Este cliente no tiene productos candidatos en el último lote de predicciones.",
        "fewer_than_asked": (
            "Este cliente tiene sólo {count} productos candidatos esta semana (pidió {asked}); "
            "se muestran todos."
        ),
        "none_above_threshold": (
            "Ninguno supera el umbral de decisión ({threshold}): no hay un producto que ofrecer con "
            "confianza; la tabla muestra los más probables."
        ),
        "some_above_threshold": "{count} de {shown} superan el umbral de decisión ({threshold}).",
        "col_rank": "#",
        "col_probability": "Probabilidad de compra",
        "col_decision": "Decisión",
        "col_reasons": "Por qué",
        "customer_card_title": "Cliente {customer_id}",
        "customer_type": "Tipo",
        "deliveries_per_week": "Entregas por semana",
        "visits_per_week": "Visitas por semana",
        "location": "Ubicación",
    },
    "en": {
        "tab_recommend": "Recommendations",
        "top_k": "How many products",
        "show_recommendations": "Show recommendations",
        "pick_customer": "Pick a customer to see their recommendations.",
        "recommend_heading": "What to offer customer {customer_id} in the week of {week}",
        "model_version_note": "Model v{version}",
        "no_recommendations": "This customer has no candidate products in the latest prediction batch.",
        "fewer_than_asked": (
            "This customer has only {count} candidate products this week (you asked for {asked}); "
            "all are shown."
        ),
        "none_above_threshold": (
            "None is above the decision threshold ({threshold}): no product is worth offering with "
            "confidence; the table shows the most likely ones."
        ),
        "some_above_threshold": "{count} of {shown} are above the decision threshold ({threshold}).",
        "col_rank": "#",
        "col_probability": "Purchase probability",
        "col_decision": "Decision",
        "col_reasons": "Why",
        "customer_card_title": "Customer {customer_id}",
        "customer_type": "Type",
        "deliveries_per_week": "Deliveries per week",
        "visits_per_week": "Visits per week",
        "location": "Location",
    },
}
