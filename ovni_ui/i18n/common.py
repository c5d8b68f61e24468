"""Texts of the page around the tabs (title, header, service status, refusals) and of what several tabs share:
the customer and product pickers, the decision words, common column names."""

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "page_title": "OVNI · Qué ofrecer la próxima semana",
        "app_title": "OVNI · Predicción de compras",
        "app_intro": (
            "Cada semana el modelo estima qué productos comprará cada cliente la semana siguiente. "
            "Elija un cliente para ver qué ofrecerle y por qué; revise cómo va el modelo en "
            "<b>Modelo y monitoreo</b>."
        ),
        "status_ok": "Servicio en línea · modelo v{version} · predicciones para la semana del {week}",
        "stale_notice": (
            "Las predicciones servidas son de la semana del {week}; llevan {days} de atraso: revise la "
            "llegada de datos."
        ),
        "fresh_note": "Predicciones al día: semana del {week}, vigentes hasta el {until}.",
        "days_one": "1 día",
        "days_many": "{days} días",
        "api_down": (
            "El servicio de predicciones no responde. Intente de nuevo en unos minutos; si el problema "
            "sigue, avise al equipo de datos."
        ),
        "api_loading": (
            "El servicio de predicciones está cargando el modelo o los datos. "
            "Intente de nuevo en unos segundos."
        ),
        "api_preparing": (
            "Preparando las primeras predicciones: aparecen aquí cuando se publican (uno o dos minutos en "
            "una instalación nueva). Actualice la página en un momento."
        ),
        "error_unknown_customer": "El cliente {customer_id} no está en las predicciones publicadas.",
        "error_unknown_product": "El producto {product_id} no está en las predicciones publicadas.",
        "error_unknown_week": "No hay predicciones guardadas para la semana «{week}».",
        "error_not_found": "El servicio no encontró lo consultado.",
        "error_invalid": "El servicio no aceptó un valor de la consulta.",
        "error_too_large": "La consulta es demasiado grande para el servicio.",
        "customer": "Cliente",
        "customer_info": "Escriba el número o el tipo de cliente para buscar.",
        "customer_choice": "{customer_id} · {customer_type} · {deliveries} entregas/sem.",
        "col_product": "Producto",
        "will_buy": "Ofrecer",
        "will_not_buy": "No prioritario",
        "segment_label": "segmento {segment}",
        "product": "Producto",
        "product_info": "Escriba el número, la marca o el segmento para buscar.",
        "product_choice": "{product_id} · {line}",
        "loading_predictions": "Cargando predicciones",
        "col_week": "Semana",
    },
    "en": {
        "page_title": "OVNI · What to offer next week",
        "app_title": "OVNI · Purchase predictions",
        "app_intro": (
            "Every week the model estimates which products each customer will buy the following week. "
            "Pick a customer to see what to offer and why; check how the model is doing in "
            "<b>Model and monitoring</b>."
        ),
        "status_ok": "Service online · model v{version} · predictions for the week of {week}",
        "stale_notice": (
            "The served predictions are for the week of {week}; they are {days} late: check that the "
            "data has arrived."
        ),
        "fresh_note": "Predictions up to date: week of {week}, current until {until}.",
        "days_one": "1 day",
        "days_many": "{days} days",
        "api_down": (
            "The prediction service is not responding. Please try again in a few minutes; if the problem "
            "persists, tell the data team."
        ),
        "api_loading": "The prediction service is loading the model or the data. Try again in a few seconds.",
        "api_preparing": (
            "Preparing the first predictions: they appear here once published (a minute or two on a new "
            "installation). Refresh the page in a moment."
        ),
        "error_unknown_customer": "Customer {customer_id} is not in the published predictions.",
        "error_unknown_product": "Product {product_id} is not in the published predictions.",
        "error_unknown_week": "There are no stored predictions for the week “{week}”.",
        "error_not_found": "The service did not find what was asked for.",
        "error_invalid": "The service did not accept a value of the request.",
        "error_too_large": "The request is too large for the service.",
        "customer": "Customer",
        "customer_info": "Type the customer number or type to search.",
        "customer_choice": "{customer_id} · {customer_type} · {deliveries} deliveries/week",
        "col_product": "Product",
        "will_buy": "Offer",
        "will_not_buy": "Low priority",
        "segment_label": "{segment} segment",
        "product": "Product",
        "product_info": "Type the product number, brand or segment to search.",
        "product_choice": "{product_id} · {line}",
        "loading_predictions": "Loading predictions",
        "col_week": "Week",
    },
}
