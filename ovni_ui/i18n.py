"""Every label and message of the UI, in Spanish (default) and English.

`Texts(lang)("key", **values)` returns the text with `str.format` placeholders filled in.
"""

from __future__ import annotations

LANG_NAMES = {"es": "Español", "en": "English"}

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "page_title": "OVNI · Qué ofrecer la próxima semana",
        "app_title": "OVNI · Predicción de compras",
        "app_intro": (
            "Cada semana el modelo estima qué productos comprará cada cliente la semana siguiente. "
            "Elija un cliente para ver qué ofrecerle y por qué; revise cómo va el modelo en "
            "<b>Modelo y monitoreo</b>."
        ),
        "switch_language": "English",
        "status_ok": "Servicio en línea · modelo v{version} · predicciones para la semana del {week}",
        "api_down": (
            "El servicio de predicciones no responde. Intente de nuevo en unos minutos; si el problema "
            "sigue, avise al equipo de datos."
        ),
        "api_loading": (
            "El servicio de predicciones está cargando el modelo o los datos. "
            "Intente de nuevo en unos segundos."
        ),
        "error_unknown_customer": "El cliente {customer_id} no está en las predicciones publicadas.",
        "error_unknown_product": "El producto {product_id} no está en las predicciones publicadas.",
        "error_unknown_week": "No hay predicciones guardadas para la semana «{week}».",
        "error_not_found": "El servicio no encontró lo consultado.",
        "error_invalid": "El servicio no aceptó un valor de la consulta.",
        "error_too_large": "La consulta es demasiado grande para el servicio.",
        "status_error": "Falló la última consulta al servicio de predicciones",
        "tab_recommend": "Recomendaciones",
        "tab_consult": "Consultar",
        "tab_explore": "Explorar",
        "tab_model": "Modelo y monitoreo",
        "tab_help": "Ayuda",
        # Recommendations
        "customer": "Cliente",
        "customer_info": "Escriba el número o el tipo de cliente para buscar.",
        "customer_choice": "{customer_id} · {customer_type} · {deliveries} entregas/sem.",
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
        "col_product": "Producto",
        "col_probability": "Probabilidad de compra",
        "col_decision": "Decisión",
        "col_reasons": "Por qué",
        "will_buy": "Ofrecer",
        "will_not_buy": "No prioritario",
        "customer_card_title": "Cliente {customer_id}",
        "customer_type": "Tipo",
        "deliveries_per_week": "Entregas por semana",
        "visits_per_week": "Visitas por semana",
        "location": "Ubicación",
        "segment_label": "segmento {segment}",
        # Consult
        "product": "Producto",
        "product_info": "Escriba el número, la marca o el segmento para buscar.",
        "product_choice": "{product_id} · {line}",
        "consult_button": "Calcular",
        "pick_pair": "Elija un cliente y un producto y pulse «Calcular».",
        "consult_heading": "Cliente {customer_id} y producto {product_id}, semana del {week}",
        "probability": "Probabilidad",
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
        # Explore
        "week": "Semana",
        "customer_type_filter": "Tipo de cliente",
        "segment_filter": "Segmento",
        "brand_filter": "Marca",
        "all": "Todos",
        "decision_filter": "Decisión",
        "only_buy": "Sólo «Ofrecer»",
        "explore_button": "Filtrar",
        "explore_summary": (
            "{pairs} pares cliente-producto · {buyers} con decisión «Ofrecer» · "
            "{expected} compras esperadas (suma de probabilidades)"
        ),
        "explore_empty": "No hay predicciones con esos filtros.",
        "explore_truncated": "Se muestran las primeras {shown} de {total} filas; el CSV tiene todas.",
        "histogram_title": "Distribución de probabilidades",
        "probability_bin": "Probabilidad",
        "pairs_count": "Pares",
        "expected_buyers_title": "Compradores esperados por producto (15 principales)",
        "expected_buyers": "Compradores esperados",
        "download_csv": "Descargar CSV",
        "loading_predictions": "Cargando predicciones",
        "col_customer_id": "Cliente",
        "col_customer_type": "Tipo de cliente",
        "col_product_id": "Producto",
        "col_brand": "Marca",
        "col_segment": "Segmento",
        "col_probability_short": "Probabilidad",
        "col_will_buy": "Ofrecer",
        "col_week": "Semana",
        "yes": "sí",
        "no": "no",
        # Model and monitoring
        "refresh": "Actualizar",
        "champion_title": "Modelo en producción (campeón)",
        "version": "Versión",
        "trained_at": "Entrenado",
        "validation_f1": "F1 de validación",
        "validation_precision": "Precisión de validación",
        "validation_recall": "Recall de validación",
        "threshold": "Umbral",
        "train_data_until": "Entrenado con datos hasta la semana del {week}.",
        "versions_title": "Versiones registradas, la más nueva primero: validación y F1 real",
        "col_version": "Versión",
        "col_trained_at": "Entrenado",
        "col_val_f1": "F1 validación",
        "col_val_precision": "Precisión validación",
        "col_val_recall": "Recall validación",
        "f1_axis": "F1 (%)",
        "col_threshold": "Umbral",
        "col_champion": "Campeón",
        "col_weeks_served": "Semanas evaluadas",
        "col_realized_f1": "F1 real promedio",
        "quality_title": "F1 real por semana (cuando llegan las compras reales)",
        "quality_empty": (
            "Todavía no hay semanas con compras reales para comparar: el F1 real de una semana se calcula "
            "cuando llegan sus compras, en la corrida siguiente."
        ),
        "quality_one_week": (
            "Una sola semana evaluada ({week}): F1 real {f1} frente a {val_f1} en validación. "
            "El gráfico de evolución aparece desde la segunda semana evaluada."
        ),
        "quality_series": "Serie",
        "validation_f1_series": "F1 de validación del modelo",
        "quality_latest": "Última semana evaluada con compras reales: {week} · F1 real {f1}",
        "realized_f1": "F1 real",
        "drift_title": "Cambio en los datos por variable (PSI); en rojo las marcadas",
        "drift_empty": (
            "Todavía no hay un informe de cambio en los datos: cada corrida semanal compara la semana nueva "
            "con los datos del modelo campeón, y la primera corrida, que entrena el primer modelo, no tiene "
            "con qué comparar."
        ),
        "drift_rule": (
            "Una variable se marca cuando su PSI es al menos {psi}, la prueba estadística confirma el cambio "
            "y el cambio es al menos el doble de lo que la variable se mueve en una semana normal. "
            "El color dice qué le falta a cada variable estable."
        ),
        "stable_small": "Estable: cambio pequeño",
        "stable_unconfirmed": "Estable: la prueba no confirma el cambio",
        "stable_ordinary": "Estable: se mueve así en semanas normales",
        "drift_week": (
            "Informe de la semana del {week}: {flagged} de {total} variables marcadas; "
            "el gráfico muestra las {shown} que más cambiaron."
        ),
        "feature": "Variable",
        "psi": "PSI",
        "drift_flag": "Estado",
        "drifted": "Marcada",
        # Help
        "help_markdown": """
### Cómo leer esta página
- **Recomendaciones**: elija un cliente (puede escribir su número o su tipo). La tabla muestra los productos
  con mayor probabilidad de compra la próxima semana, de mayor a menor. La barra es la probabilidad; la
  columna *Decisión* dice si conviene ofrecerlo (la probabilidad supera el umbral del modelo). *Por qué*
  resume el historial que llevó a esa estimación.
- **Consultar**: la probabilidad para un cliente y un producto cualquiera, con su explicación. En
  *¿Y si…?* puede cambiar el historial y ver cómo respondería el modelo (simulación, no cambia datos).
- **Explorar**: todo el lote de la semana, con filtros por tipo de cliente, segmento y marca; el
  histograma de probabilidades, los compradores esperados por producto y la descarga en CSV.
- **Modelo y monitoreo**: qué versión del modelo está en producción, cómo rindió en validación, su F1
  real semana a semana y si los datos de entrada cambiaron (drift).

### Qué significan los números
- **Probabilidad**: de 0 % a 100 %, la chance estimada de que el cliente compre el producto la semana
  indicada (al menos una línea de pedido).
- **Umbral y decisión**: el modelo marca «Ofrecer» cuando la probabilidad supera su umbral, elegido al
  entrenar para equilibrar aciertos y falsas alarmas (maximiza F1).
- **F1**: combina precisión (de lo marcado, cuánto se compró) y recall (de lo comprado, cuánto se
  marcó). 1 es perfecto.
- **Compradores esperados**: suma de probabilidades; cuántos clientes se espera que compren el producto.
- **PSI**: cuánto cambió la distribución de una variable en la última semana respecto de las semanas con
  que se entrenó el modelo. Una variable queda **marcada** (en rojo) cuando además la prueba estadística
  lo confirma y el cambio es al menos el doble de lo que esa variable se mueve en una semana normal; una
  variable marcada hace que el proceso semanal reentrene el modelo.

### De dónde vienen los datos
Las transacciones, clientes y productos del sistema de la distribuidora llegan cada semana. El proceso
semanal los limpia, calcula el historial de cada cliente y producto, reentrena el modelo cuando hace
falta y publica las predicciones de la semana siguiente. Esta página las consulta al servicio de
predicciones; no guarda datos propios.
""",
    },
    "en": {
        "page_title": "OVNI · What to offer next week",
        "app_title": "OVNI · Purchase predictions",
        "app_intro": (
            "Every week the model estimates which products each customer will buy the following week. "
            "Pick a customer to see what to offer and why; check how the model is doing in "
            "<b>Model and monitoring</b>."
        ),
        "switch_language": "Español",
        "status_ok": "Service online · model v{version} · predictions for the week of {week}",
        "api_down": (
            "The prediction service is not responding. Please try again in a few minutes; if the problem "
            "persists, tell the data team."
        ),
        "api_loading": "The prediction service is loading the model or the data. Try again in a few seconds.",
        "error_unknown_customer": "Customer {customer_id} is not in the published predictions.",
        "error_unknown_product": "Product {product_id} is not in the published predictions.",
        "error_unknown_week": "There are no stored predictions for the week “{week}”.",
        "error_not_found": "The service did not find what was asked for.",
        "error_invalid": "The service did not accept a value of the request.",
        "error_too_large": "The request is too large for the service.",
        "status_error": "The last request to the prediction service failed",
        "tab_recommend": "Recommendations",
        "tab_consult": "Look up",
        "tab_explore": "Explore",
        "tab_model": "Model and monitoring",
        "tab_help": "Help",
        "customer": "Customer",
        "customer_info": "Type the customer number or type to search.",
        "customer_choice": "{customer_id} · {customer_type} · {deliveries} deliveries/week",
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
        "col_product": "Product",
        "col_probability": "Purchase probability",
        "col_decision": "Decision",
        "col_reasons": "Why",
        "will_buy": "Offer",
        "will_not_buy": "Low priority",
        "customer_card_title": "Customer {customer_id}",
        "customer_type": "Type",
        "deliveries_per_week": "Deliveries per week",
        "visits_per_week": "Visits per week",
        "location": "Location",
        "segment_label": "{segment} segment",
        "product": "Product",
        "product_info": "Type the product number, brand or segment to search.",
        "product_choice": "{product_id} · {line}",
        "consult_button": "Calculate",
        "pick_pair": "Pick a customer and a product and press “Calculate”.",
        "consult_heading": "Customer {customer_id} and product {product_id}, week of {week}",
        "probability": "Probability",
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
        "week": "Week",
        "customer_type_filter": "Customer type",
        "segment_filter": "Segment",
        "brand_filter": "Brand",
        "all": "All",
        "decision_filter": "Decision",
        "only_buy": "Only “Offer”",
        "explore_button": "Filter",
        "explore_summary": (
            "{pairs} customer-product pairs · {buyers} marked “Offer” · "
            "{expected} expected purchases (sum of probabilities)"
        ),
        "explore_empty": "No predictions match these filters.",
        "explore_truncated": "Showing the first {shown} of {total} rows; the CSV has all of them.",
        "histogram_title": "Distribution of probabilities",
        "probability_bin": "Probability",
        "pairs_count": "Pairs",
        "expected_buyers_title": "Expected buyers per product (top 15)",
        "expected_buyers": "Expected buyers",
        "download_csv": "Download CSV",
        "loading_predictions": "Loading predictions",
        "col_customer_id": "Customer",
        "col_customer_type": "Customer type",
        "col_product_id": "Product",
        "col_brand": "Brand",
        "col_segment": "Segment",
        "col_probability_short": "Probability",
        "col_will_buy": "Offer",
        "col_week": "Week",
        "yes": "yes",
        "no": "no",
        "refresh": "Refresh",
        "champion_title": "Model in production (champion)",
        "version": "Version",
        "trained_at": "Trained",
        "validation_f1": "Validation F1",
        "validation_precision": "Validation precision",
        "validation_recall": "Validation recall",
        "threshold": "Threshold",
        "train_data_until": "Trained on data up to the week of {week}.",
        "versions_title": "Registered versions, newest first: validation and realized F1",
        "col_version": "Version",
        "col_trained_at": "Trained",
        "col_val_f1": "Validation F1",
        "col_val_precision": "Validation precision",
        "col_val_recall": "Validation recall",
        "f1_axis": "F1 (%)",
        "col_threshold": "Threshold",
        "col_champion": "Champion",
        "col_weeks_served": "Weeks evaluated",
        "col_realized_f1": "Mean realized F1",
        "quality_title": "Realized F1 per week (once real purchases arrive)",
        "quality_empty": (
            "No week with real purchases to compare yet: a week's realized F1 is computed when its "
            "purchases arrive, in the next run."
        ),
        "quality_one_week": (
            "One week evaluated ({week}): realized F1 {f1} against {val_f1} in validation. "
            "The chart over time appears from the second evaluated week."
        ),
        "quality_series": "Series",
        "validation_f1_series": "Model's validation F1",
        "quality_latest": "Latest week evaluated against real purchases: {week} · realized F1 {f1}",
        "realized_f1": "Realized F1",
        "drift_title": "Data drift per feature (PSI); flagged ones in red",
        "drift_empty": (
            "No data drift report yet: each weekly run compares the new week with the champion model's "
            "data, and the first run, which trains the first model, has nothing to compare with."
        ),
        "drift_rule": (
            "A feature is flagged when its PSI is at least {psi}, the statistical test confirms the change "
            "and the change is at least twice what the feature moves in an ordinary week. "
            "The colour says what each stable feature lacks."
        ),
        "stable_small": "Stable: small change",
        "stable_unconfirmed": "Stable: the test does not confirm it",
        "stable_ordinary": "Stable: moves like this in ordinary weeks",
        "drift_week": (
            "Report for the week of {week}: {flagged} of {total} features flagged; "
            "the chart shows the {shown} that moved most."
        ),
        "feature": "Feature",
        "psi": "PSI",
        "drift_flag": "Status",
        "drifted": "Flagged",
        "help_markdown": """
### How to read this page
- **Recommendations**: pick a customer (type their number or type). The table lists the products most
  likely to be bought next week, highest first. The bar is the probability; *Decision* says whether the
  product is worth offering (the probability is above the model's threshold). *Why* summarises the
  history behind the estimate.
- **Look up**: the probability for any customer and product, with its explanation. In *What if…?* you can
  change the history and see how the model would respond (a simulation; no data changes).
- **Explore**: the whole batch of the week, filtered by customer type, segment and brand; the histogram
  of probabilities, the expected buyers per product and a CSV download.
- **Model and monitoring**: which model version is in production, how it did in validation, its realized
  F1 week by week and whether the input data changed (drift).

### What the numbers mean
- **Probability**: from 0 % to 100 %, the estimated chance that the customer buys the product in the
  given week (at least one order line).
- **Threshold and decision**: the model marks “Offer” when the probability is above its threshold, chosen
  at training time to balance hits and false alarms (it maximises F1).
- **F1**: combines precision (of what was marked, how much was bought) and recall (of what was bought,
  how much was marked). 1 is perfect.
- **Expected buyers**: the sum of probabilities; how many customers are expected to buy the product.
- **PSI**: how much a feature's distribution in the latest week moved away from the weeks the model was
  trained on. A feature is **flagged** (red) when a statistical test confirms it too and the change is at
  least twice what the feature moves in an ordinary week; a flagged feature makes the weekly process
  retrain the model.

### Where the data comes from
The distributor's transactions, customers and products arrive every week. The weekly process cleans
them, computes each customer's and product's history, retrains the model when needed and publishes next
week's predictions. This page reads them from the prediction service; it stores no data of its own.
""",
    },
}


class Texts:
    """The texts of one language; calling it looks a key up and fills in its placeholders."""

    def __init__(self, lang: str):
        if lang not in TEXTS:
            raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(TEXTS)}")
        self.lang = lang
        self._texts = TEXTS[lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts[key]
        return text.format(**values) if values else text

    @property
    def other_lang(self) -> str:
        return "en" if self.lang == "es" else "es"

    def number(self, value: float | None, digits: int = 2) -> str:
        """A number with the language's decimal separator (Spanish: comma)."""
        if value is None:
            return "—"
        text = f"{float(value):,.{digits}f}"
        if self.lang == "es":
            text = text.replace(",", "\u202f").replace(".", ",")
        return text

    def percent(self, value: float | None) -> str:
        """A probability in [0, 1] as a percentage with one decimal."""
        if value is None:
            return "—"
        return (
            f"{self.number(float(value) * 100, 1)} %" if self.lang == "es" else f"{float(value) * 100:.1f}%"
        )

    def size(self, litres: float | None) -> str:
        """A package size in litres without trailing zeros (1,5 L; 0,355 L)."""
        if litres is None:
            return ""
        return f"{self.number(litres, 3).rstrip('0').rstrip(',.')} L"

    def product_line(self, product: dict) -> str:
        """Brand, sub-category, package and size, and segment of a product in one line (known parts only)."""
        package = " ".join(
            part for part in ((product.get("package") or "").lower(), self.size(product.get("size"))) if part
        )
        parts = [product.get("brand"), (product.get("sub_category") or "").lower(), package]
        if product.get("segment"):
            parts.append(self("segment_label", segment=product["segment"]))
        return " · ".join(str(part) for part in parts if part)
