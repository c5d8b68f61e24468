"""Texts of the Ayuda tab: how to read the page."""

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "tab_help": "Ayuda",
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
predicciones; no guarda datos propios. Si las predicciones servidas ya pasaron su semana (y los días de
margen para que lleguen los datos), un aviso bajo el encabezado dice de qué semana son y cuántos días de
atraso llevan: siguen siendo la mejor estimación disponible, pero conviene revisar la llegada de datos.
""",
    },
    "en": {
        "tab_help": "Help",
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
week's predictions. This page reads them from the prediction service; it stores no data of its own. When
the served predictions are past their week (and the days of grace for the data to arrive), a notice under
the header says which week they are for and how many days late they are: they are still the best estimate
available, but the data's arrival is worth checking.
""",
    },
}
