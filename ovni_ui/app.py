"""The OVNI Gradio app: recommendations, look-up with what-if, batch explorer, model monitoring, help.

`build_app(api_url, lang)` builds the page in one language; `launch(host, port)` serves the page in
`OVNI_UI_LANG` at `/` and in the other language at `/en/` or `/es/` (the button in the header switches).
Every handler talks to the API through `OvniApiClient`; when the API is down or refuses, the page shows a
plain message instead of a traceback.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from ovni_ui import views
from ovni_ui.api_client import ApiError, ApiRequestError, ApiUnavailable, OvniApiClient
from ovni_ui.catalogue import CatalogueCache
from ovni_ui.config import load_config
from ovni_ui.i18n import LANG_NAMES, Texts
from ovni_ui.whatif import BEHAVIOURS, readable_behaviours, simulated_row

# The pipeline's drift rule (ovni_assets/monitoring/drift.py), to say why a feature is not flagged.
DRIFT_PSI_THRESHOLD = 0.2
DRIFT_ALPHA = 0.01
DRIFT_BASELINE_FACTOR = 2.0
WHATIF_DECIMALS = {"units_w4": 1, "mean_gap_weeks": 1}  # the rest are whole weeks or counts
DRIFT_COLORS = {
    "drifted": "#d64545",
    "stable_ordinary": "#e0a03a",
    "stable_unconfirmed": "#8fa8d9",
    "stable_small": "#5b8def",
}
MAX_RANKED = 100  # the API's largest k: a customer's whole candidate list
EXPLORE_TABLE_ROWS = 300
TOP_PRODUCTS_CHART = 15
EXPLORE_COLUMNS = (
    "col_week",
    "col_customer_id",
    "col_customer_type",
    "col_product_id",
    "col_brand",
    "col_segment",
    "col_probability_short",
    "col_will_buy",
)
VERSION_COLUMNS = (
    "col_version",
    "col_champion",
    "col_trained_at",
    "col_val_f1",
    "col_val_precision",
    "col_val_recall",
    "col_threshold",
    "col_weeks_served",
    "col_realized_f1",
)
PROBABILITY_BINS = 10
DRIFT_CHART_FEATURES = 15


def _parse_id(value: Any) -> int | None:
    """A dropdown value (an id, or text typed by the user starting with the id) as an int, else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    head = str(value).strip().split(" ", 1)[0]
    return int(head) if head.isdigit() else None


class AskedFor(ApiRequestError):
    """An API refusal with what the handler asked for, so the message can name it in the page's language."""

    def __init__(self, error: ApiRequestError, **asked: Any):
        super().__init__(error.status_code, error.detail)
        self.asked = asked


def _friendly(blanks: tuple[Any, ...], message: bool = True) -> Callable:
    """Every handler's first output is the header status, which follows the call: red when the API did not
    answer, green with what is served when it did. A failure becomes a message in the handler's next output
    (with `message`; else the status says it); the other outputs get `blanks`."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self: OvniPage, *args: Any, **kwargs: Any) -> tuple:
            try:
                outputs = method(self, *args, **kwargs)
            except ApiUnavailable as error:
                shown = (self.error_banner(error),) if message else ()
                return (self.status_down(error), *shown, *blanks)
            except ApiError as error:
                if not message:
                    return (self.error_banner(error), *blanks)
                outputs = (self.error_banner(error), *blanks)
            return (self.status(), *outputs)

        return wrapper

    return decorate


class OvniPage:
    """The event handlers of one page (one language), sharing one API client."""

    def __init__(
        self, api: OvniApiClient, tr: Texts, download_dir: Path, catalogue: CatalogueCache | None = None
    ):
        self.api = api
        self.tr = tr
        self.download_dir = download_dir
        self.catalogue = catalogue or CatalogueCache(api)

    # --- shared ------------------------------------------------------------------------------------------
    def error_text(self, error: ApiError) -> str:
        """The failure in the page's language, chosen by status and by what was asked (never the API's
        English words, which are for developers)."""
        tr = self.tr
        if isinstance(error, ApiUnavailable):
            return tr("api_loading") if error.status_code == 503 else tr("api_down")
        asked: Mapping[str, Any] = getattr(error, "asked", {})
        status = getattr(error, "status_code", None)
        if status == 404:
            known = self.catalogue.current
            customer_id, product_id = asked.get("customer_id"), asked.get("product_id")
            if customer_id is not None and (known is None or customer_id not in known.customers):
                return tr("error_unknown_customer", customer_id=customer_id)
            if product_id is not None and (known is None or product_id not in known.products):
                return tr("error_unknown_product", product_id=product_id)
            return tr("error_not_found")
        if status == 413:
            return tr("error_too_large")
        if "week" in asked:
            return tr("error_unknown_week", week=asked["week"])
        return tr("error_invalid")

    def error_banner(self, error: ApiError) -> str:
        return views.banner("error", self.error_text(error))

    def status(self) -> str:
        """The header line after a call the API answered: what it serves now (or why it does not)."""
        try:
            ready = self.api.ready()
        except ApiUnavailable as error:
            return self.status_down(error)
        return views.banner(
            "ok", self.tr("status_ok", version=ready["model_version"], week=ready["week_start"])
        )

    def status_down(self, error: ApiError) -> str:
        return views.banner("error", self.error_text(error))

    def _threshold(self) -> float | None:
        threshold = self.api.model().get("threshold")
        return None if threshold is None else float(threshold)

    # --- page load ---------------------------------------------------------------------------------------
    @_friendly(blanks=(gr.skip(),) * 7, message=False)
    def load(self, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008 (Gradio's progress tracker)
        """Service status, and the choices of every picker (customers, products, weeks, filters)."""
        tr = self.tr
        catalogue = self.catalogue.get(progress, tr("loading_predictions"))
        customers, products = catalogue.customers, catalogue.products
        # Weeks with a batch: the week being served and every past week already scored against actuals.
        weeks = sorted(
            {catalogue.week_start}
            | {str(q["week_start"])[:10] for q in self.api.quality() if q.get("week_start")},
            reverse=True,
        )
        customer_choices = [
            (
                tr(
                    "customer_choice",
                    customer_id=cid,
                    customer_type=c.get("customer_type") or "—",
                    deliveries=tr.number(c.get("num_deliver_per_week"), 0),
                ),
                cid,
            )
            for cid, c in sorted(customers.items())
        ]
        product_choices = [
            (tr("product_choice", product_id=pid, line=tr.product_line(p)), pid)
            for pid, p in sorted(products.items())
        ]
        all_choice = [(tr("all"), "")]

        def distinct(rows: dict[int, dict], key: str) -> list:
            return all_choice + sorted({str(r[key]) for r in rows.values() if r.get(key)})

        return (
            gr.update(choices=customer_choices),
            gr.update(choices=customer_choices),
            gr.update(choices=product_choices),
            gr.update(choices=weeks, value=weeks[0] if weeks else None),
            gr.update(choices=distinct(customers, "customer_type"), value=""),
            gr.update(choices=distinct(products, "segment"), value=""),
            gr.update(choices=distinct(products, "brand"), value=""),
        )

    # --- Recomendaciones ---------------------------------------------------------------------------------
    @_friendly(blanks=("", ""))
    def recommend(self, customer: Any, k: float) -> tuple[str, str, str]:
        """Top-k products of next week for one customer: (message, customer card, table).

        The message says when the customer has fewer candidates than asked and how many pass the
        threshold (none, some)."""
        tr = self.tr
        customer_id = _parse_id(customer)
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
        threshold = self._threshold()
        table = views.recommendations_table(tr, payload, products, threshold)
        notes = []
        if items and len(items) < asked:
            notes.append(tr("fewer_than_asked", count=len(items), asked=asked))
        if items:
            passing = sum(bool(item["will_buy"]) for item in items)
            limit = tr.percent(threshold)
            notes.append(
                tr("none_above_threshold", threshold=limit)
                if passing == 0
                else tr("some_above_threshold", count=passing, shown=len(items), threshold=limit)
            )
        message = "".join(views.banner("info", note) for note in notes)
        return message, views.customer_card(tr, details), table

    # --- Consultar ---------------------------------------------------------------------------------------
    @_friendly(blanks=("", None, "", "", *(None,) * len(BEHAVIOURS)))
    def consult(self, customer: Any, product: Any) -> tuple:
        """Probability, decision and reasons of one pair; fills the what-if inputs with its behaviours,
        rounded to readable values.

        Outputs: message, result card, what-if state, what-if message, what-if result, one value per input."""
        tr = self.tr
        customer_id, product_id = _parse_id(customer), _parse_id(product)
        no_whatif = (None, "", "", *(None,) * len(BEHAVIOURS))
        if customer_id is None or product_id is None:
            return (views.banner("info", tr("pick_pair")), "", *no_whatif)
        try:
            scored = self.api.predict([(customer_id, product_id)])
        except ApiRequestError as error:
            raise AskedFor(error, customer_id=customer_id, product_id=product_id) from error
        prediction = scored["predictions"][0]
        product = self.api.product(product_id)["attributes"]
        # Reasons come with the customer's ranked candidates; a pair outside them has none (cold start).
        ranked = self.api.recommendations(customer_id, MAX_RANKED, tr.lang)["recommendations"]
        reasons = next((r["reasons"] for r in ranked if int(r["product_id"]) == product_id), [])
        result = views.pair_result(
            tr, prediction, str(scored["week_start"]), self._threshold(), reasons, product
        )
        try:
            features = self.api.pair_features(customer_id, product_id)["features"]
        except ApiError as error:  # the answer above stands; only the simulation is unavailable
            # The pair was just scored, so a 404 here means this API version has no feature-row endpoint.
            missing = isinstance(error, ApiRequestError) and error.status_code == 404
            whatif_message = (
                views.banner("info", tr("whatif_unavailable")) if missing else self.error_banner(error)
            )
            return ("", result, None, whatif_message, "", *(None,) * len(BEHAVIOURS))
        state = {"features": features, "probability": prediction["probability"]}
        start = readable_behaviours(features)
        return ("", result, state, "", "", *(start[name] for name in BEHAVIOURS))

    def forget_pair(self) -> tuple:
        """A new customer or product: the shown result and simulation belong to the old pair."""
        return (views.banner("info", self.tr("pick_pair")), "", None, "", "", *(None,) * len(BEHAVIOURS))

    @_friendly(blanks=("", *(gr.skip(),) * len(BEHAVIOURS)))
    def simulate(self, state: dict | None, *values: float) -> tuple:
        """Score the pair's row with the edited behaviours and every feature that follows from them
        (`POST /predict/features`). Outputs: message, result, the values used (after the limits)."""
        tr = self.tr
        if not state:
            return (views.banner("info", tr("whatif_pick_first")), "", *(gr.skip(),) * len(BEHAVIOURS))
        simulation = simulated_row(state["features"], dict(zip(BEHAVIOURS, values, strict=True)))
        scored = self.api.predict_features([simulation.row])["predictions"][0]
        decision = tr("will_buy") if scored["will_buy"] else tr("will_not_buy")
        text = tr(
            "whatif_result",
            probability=tr.percent(scored["probability"]),
            decision=decision,
            before=tr.percent(state["probability"]),
        )
        bar = views.probability_bar(tr, scored["probability"], self._threshold(), bool(scored["will_buy"]))
        message = views.banner("info", tr("whatif_adjusted")) if simulation.adjusted else ""
        return (
            message,
            f'<div class="ovni-card" id="ovni-whatif-result"><p>{escape(text)}</p>{bar}</div>',
            *(simulation.behaviours[name] for name in BEHAVIOURS),
        )

    # --- Explorar ----------------------------------------------------------------------------------------
    @_friendly(blanks=("", None, None, None, gr.update(visible=False)))
    def explore(
        self,
        week: str | None,
        customer_type: str | None,
        segment: str | None,
        brand: str | None,
        only_buy: bool,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's progress tracker)
    ) -> tuple:
        """The batch of a week, filtered: (message, summary, histogram, expected buyers, table, CSV)."""
        tr = self.tr
        progress(0, desc=tr("loading_predictions"))
        week = week or self.catalogue.get().week_start
        try:
            batch = self.catalogue.batch(week, progress, tr("loading_predictions"))
        except ApiRequestError as error:
            raise AskedFor(error, week=week) from error
        for column, wanted in (("customer_type", customer_type), ("segment", segment), ("brand", brand)):
            if wanted:
                batch = batch[batch[column] == wanted]
        if only_buy:
            batch = batch[batch["will_buy"]]
        if batch.empty:
            return views.banner("info", tr("explore_empty")), "", None, None, None, gr.update(visible=False)
        batch = batch.sort_values(["probability", "customer_id"], ascending=[False, True])
        summary = views.kpis(
            [
                (tr("pairs_count"), tr.number(len(batch), 0)),
                (tr("col_will_buy"), tr.number(int(batch["will_buy"].sum()), 0)),
                (tr("expected_buyers"), tr.number(float(batch["probability"].sum()), 1)),
            ]
        )
        message = (
            views.banner("info", tr("explore_truncated", shown=EXPLORE_TABLE_ROWS, total=len(batch)))
            if len(batch) > EXPLORE_TABLE_ROWS
            else ""
        )
        csv_path = self.download_dir / f"ovni_{week}.csv"
        self._write_csv(batch, csv_path)
        return (
            message,
            summary,
            self._histogram(batch),
            self._expected_buyers(batch, self.catalogue.get().products),
            self._explore_table(batch),
            gr.update(value=str(csv_path), visible=True),
        )

    def _explore_table(self, batch: pd.DataFrame, limit: int = EXPLORE_TABLE_ROWS) -> pd.DataFrame:
        """The rows as the page shows them: probabilities as percentages in the page's number format."""
        rows = batch.head(limit)
        table = self._columns(rows)
        table[self.tr("col_probability_short")] = rows["probability"].map(self.tr.percent).to_numpy()
        return table

    def _columns(self, rows: pd.DataFrame) -> pd.DataFrame:
        tr = self.tr
        return pd.DataFrame(
            {
                tr("col_week"): rows["week_start"].astype(str).str[:10].to_numpy(),
                tr("col_customer_id"): rows["customer_id"].astype(int).to_numpy(),
                tr("col_customer_type"): rows["customer_type"].to_numpy(),
                tr("col_product_id"): rows["product_id"].astype(int).to_numpy(),
                tr("col_brand"): rows["brand"].to_numpy(),
                tr("col_segment"): rows["segment"].to_numpy(),
                tr("col_probability_short"): rows["probability"].round(4).to_numpy(),
                tr("col_will_buy"): rows["will_buy"].map({True: tr("yes"), False: tr("no")}).to_numpy(),
            }
        )

    def _write_csv(self, batch: pd.DataFrame, path: Path) -> None:
        """Every row, as the spreadsheet of the page's language opens it in columns: Spanish Excel expects
        semicolons and decimal commas; both files are UTF-8 with a BOM so accents survive."""
        spanish = self.tr.lang == "es"
        self._columns(batch).to_csv(
            path,
            index=False,
            sep=";" if spanish else ",",
            decimal="," if spanish else ".",
            encoding="utf-8-sig",
        )

    def _histogram(self, batch: pd.DataFrame) -> pd.DataFrame:
        tr = self.tr
        edges = [i / PROBABILITY_BINS for i in range(PROBABILITY_BINS + 1)]
        labels = [f"{tr.number(lo, 1)}–{tr.number(hi, 1)}" for lo, hi in itertools.pairwise(edges)]
        bins = pd.cut(batch["probability"], bins=edges, labels=labels, include_lowest=True)
        counts = bins.value_counts().reindex(labels, fill_value=0)
        return pd.DataFrame({tr("probability_bin"): labels, tr("pairs_count"): counts.to_numpy()})

    def _expected_buyers(self, batch: pd.DataFrame, products: dict[int, dict]) -> pd.DataFrame:
        tr = self.tr
        top = batch.groupby("product_id")["probability"].sum().nlargest(TOP_PRODUCTS_CHART)
        names = [
            f"{int(pid)} · {products.get(int(pid), {}).get('brand') or ''}".strip(" ·") for pid in top.index
        ]
        return pd.DataFrame({tr("col_product"): names, tr("expected_buyers"): top.round(2).to_numpy()})

    # --- Modelo y monitoreo ------------------------------------------------------------------------------
    @_friendly(blanks=("", None, "", gr.update(visible=False), "", gr.update(visible=False)))
    def monitoring(self) -> tuple:
        """Champion card, version history, realized F1 per week against validation, drift per feature.

        Outputs: message, champion card, versions, quality note, quality chart, drift note, drift chart. A
        chart without enough data is hidden and its note, right above it, says why."""
        tr = self.tr
        model = self.api.model()
        registered = self.api.model_versions()
        quality_rows = [q for q in self.api.quality() if q.get("f1") is not None]
        champion_row = next((v for v in registered if str(v["model_version"]) == str(model["version"])), {})
        metrics = model.get("metrics") or {}
        # One training time per version: the registry's, as in the versions table.
        trained_at = _minutes(champion_row.get("trained_at") or model.get("trained_at"))
        card = views.kpis(
            [
                (tr("version"), f"v{model['version']}"),
                (tr("trained_at"), trained_at),
                (tr("validation_f1"), tr.number(metrics.get("val_f1"), 3)),
                (tr("validation_precision"), tr.number(metrics.get("val_precision"), 3)),
                (tr("validation_recall"), tr.number(metrics.get("val_recall"), 3)),
                (tr("threshold"), tr.percent(model.get("threshold"))),
            ]
        )
        until = model.get("train_last_week")
        until_line = (
            f'<p class="product-detail">{escape(tr("train_data_until", week=str(until)[:10]))}</p>'
            if until
            else ""
        )
        card = (
            f'<div class="ovni-card" id="ovni-champion"><h3>{escape(tr("champion_title"))}</h3>{card}'
            f"{until_line}</div>"
        )
        versions = self._versions(registered, quality_rows)
        quality_note, quality_chart = self._quality(registered, quality_rows)
        drift_note, drift_chart = self._drift(self.api.drift())
        return "", card, versions, quality_note, quality_chart, drift_note, drift_chart

    def _quality(self, registered: list[dict], quality_rows: list[dict]) -> tuple[str, Any]:
        """Realized F1 per week beside the validation F1 of the version that made each week's batch."""
        tr = self.tr
        validation = {str(v["model_version"]): v.get("val_f1") for v in registered}
        rows = sorted(quality_rows, key=lambda q: str(q["week_start"]))
        if not rows:
            return views.banner("info", tr("quality_empty")), gr.update(value=None, visible=False)
        latest = rows[-1]
        val_f1 = validation.get(str(latest.get("model_version")))
        week = str(latest["week_start"])[:10]
        if len(rows) == 1:
            note = tr(
                "quality_one_week", week=week, f1=tr.number(latest["f1"], 3), val_f1=tr.number(val_f1, 3)
            )
            return views.banner("info", note), gr.update(value=None, visible=False)
        weeks = [str(q["week_start"])[:10] for q in rows]
        frame = pd.DataFrame(
            {
                tr("col_week"): weeks * 2,
                # whole percents: the chart's axis and tooltips cannot write decimals with a comma
                tr("f1_axis"): [percent(q["f1"]) for q in rows]
                + [percent(validation.get(str(q.get("model_version")))) for q in rows],
                tr("quality_series"): [tr("realized_f1")] * len(rows)
                + [tr("validation_f1_series")] * len(rows),
            }
        ).dropna()
        frame[tr("f1_axis")] = frame[tr("f1_axis")].astype(int)
        note = tr("quality_latest", week=week, f1=tr.number(latest["f1"], 3))
        return views.banner("info", note), gr.update(value=frame, visible=True)

    def _drift(self, drift: dict) -> tuple[str, Any]:
        """PSI per feature, coloured by the drift rule: flagged, or which of its conditions is missing."""
        tr = self.tr
        features = drift.get("features") or []
        if not features:
            return views.banner("info", tr("drift_empty")), gr.update(value=None, visible=False)
        # The flagged features and the largest moves: a readable chart even with dozens of features.
        ranked = sorted(features, key=lambda f: (not f.get("drifted"), -(f.get("psi") or 0.0)))
        flagged = sum(bool(f.get("drifted")) for f in features)
        shown = ranked[: max(DRIFT_CHART_FEATURES, flagged)]
        frame = pd.DataFrame(
            {
                tr("feature"): [f["feature"] for f in shown],
                tr("psi"): [f.get("psi") or 0.0 for f in shown],
                tr("drift_flag"): [tr(drift_status(f)) for f in shown],
            }
        )
        note = tr(
            "drift_week",
            week=str(drift.get("week_start"))[:10],
            flagged=flagged,
            total=len(features),
            shown=len(shown),
        )
        rule = tr("drift_rule", psi=tr.number(DRIFT_PSI_THRESHOLD, 1))
        return views.banner("info", f"{note} {rule}"), gr.update(value=frame, visible=True)

    def _versions(self, registered: list[dict], quality_rows: list[dict]) -> pd.DataFrame:
        """Every registered version (newest first) with the realized F1 of its weeks, numbers formatted."""
        tr = self.tr
        realized: dict[str, list[float]] = {}
        for row in quality_rows:
            realized.setdefault(str(row.get("model_version")), []).append(float(row["f1"]))

        rows = []
        for version in registered:
            f1s = realized.get(str(version["model_version"]), [])
            rows.append(
                {
                    tr("col_version"): f"v{version['model_version']}",
                    tr("col_champion"): "★" if version.get("is_champion") else "",
                    tr("col_trained_at"): _minutes(version.get("trained_at")),
                    tr("col_val_f1"): tr.number(version.get("val_f1"), 3),
                    tr("col_val_precision"): tr.number(version.get("val_precision"), 3),
                    tr("col_val_recall"): tr.number(version.get("val_recall"), 3),
                    tr("col_threshold"): tr.percent(version.get("threshold")),
                    tr("col_weeks_served"): len(f1s),
                    tr("col_realized_f1"): tr.number(sum(f1s) / len(f1s), 3) if f1s else "—",
                }
            )
        return pd.DataFrame(rows, columns=[tr(key) for key in VERSION_COLUMNS])


def _minutes(timestamp: Any) -> str:
    """A timestamp to the minute, in UTC as the registry records it."""
    if not timestamp:
        return "—"
    moment = pd.Timestamp(str(timestamp))
    if moment.tzinfo is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def percent(value: float | None) -> int | None:
    """A score in [0, 1] as a whole percent (None stays None)."""
    return None if value is None else round(100 * value)


def drift_status(feature: Mapping[str, Any]) -> str:
    """The i18n key of a feature's drift state: flagged, or the first condition of the rule it misses."""
    if feature.get("drifted"):
        return "drifted"
    psi = feature.get("psi") or 0.0
    if psi < DRIFT_PSI_THRESHOLD:
        return "stable_small"
    p_adjusted = feature.get("p_adjusted")
    if p_adjusted is not None and p_adjusted >= DRIFT_ALPHA:
        return "stable_unconfirmed"
    baseline = feature.get("baseline_psi")
    if baseline is not None and psi < DRIFT_BASELINE_FACTOR * baseline:
        return "stable_ordinary"
    return "stable_unconfirmed"


def build_app(
    api_url: str, lang: str, switch_url: str | None = None, catalogue: CatalogueCache | None = None
) -> gr.Blocks:
    """The whole page in one language (es or en), reading from the API at `api_url`.

    `switch_url` is where the language button leads (the page in the other language); pages of both
    languages on one server share one `catalogue`."""
    tr = Texts(lang)
    api = catalogue.api if catalogue else OvniApiClient(api_url)
    page = OvniPage(api, tr, Path(tempfile.mkdtemp(prefix="ovni-ui-")), catalogue)

    with gr.Blocks(title=tr("page_title"), analytics_enabled=False) as demo:
        with gr.Row(equal_height=False):
            with gr.Column(scale=6):
                gr.HTML(views.header(tr))
            with gr.Column(scale=1, min_width=120):
                gr.Button(
                    LANG_NAMES[tr.other_lang],
                    link=switch_url or f"../{tr.other_lang}/",
                    size="sm",
                    elem_id="ovni-language",
                )
        status = gr.HTML(elem_id="ovni-status")

        with gr.Tabs():
            with gr.Tab(tr("tab_recommend"), id="recommend"), gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=280):
                    customer = gr.Dropdown(
                        label=tr("customer"),
                        info=tr("customer_info"),
                        choices=[],
                        value=None,
                        allow_custom_value=True,
                        filterable=True,
                        elem_id="ovni-customer",
                    )
                    top_k = gr.Slider(1, 20, value=5, step=1, label=tr("top_k"))
                    recommend_button = gr.Button(tr("show_recommendations"), variant="primary")
                    customer_card = gr.HTML()
                with gr.Column(scale=3):
                    recommend_message = gr.HTML(views.banner("info", tr("pick_customer")))
                    recommendations = gr.HTML(elem_id="ovni-recommendations-box")

            with gr.Tab(tr("tab_consult"), id="consult"):
                with gr.Row():
                    consult_customer = gr.Dropdown(
                        label=tr("customer"),
                        info=tr("customer_info"),
                        choices=[],
                        value=None,
                        allow_custom_value=True,
                        filterable=True,
                        elem_id="ovni-consult-customer",
                    )
                    consult_product = gr.Dropdown(
                        label=tr("product"),
                        info=tr("product_info"),
                        choices=[],
                        value=None,
                        allow_custom_value=True,
                        filterable=True,
                        elem_id="ovni-consult-product",
                    )
                consult_button = gr.Button(tr("consult_button"), variant="primary", elem_id="ovni-consult")
                consult_message = gr.HTML(views.banner("info", tr("pick_pair")))
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        consult_result = gr.HTML()
                    with gr.Column(scale=2), gr.Accordion(tr("whatif_title"), open=True):
                        gr.Markdown(tr("whatif_intro"))
                        whatif_inputs = []
                        for first in range(0, len(BEHAVIOURS), 2):
                            with gr.Row():
                                whatif_inputs.extend(
                                    gr.Number(
                                        label=tr(f"feat_{name}"),
                                        minimum=0,
                                        precision=WHATIF_DECIMALS.get(name, 0),
                                        min_width=140,
                                        elem_id=f"ovni-whatif-{name}",
                                    )
                                    for name in BEHAVIOURS[first : first + 2]
                                )
                        simulate_button = gr.Button(tr("whatif_button"), elem_id="ovni-simulate")
                        whatif_message = gr.HTML()
                        whatif_result = gr.HTML(elem_id="ovni-whatif-box")
                consult_state = gr.State(None)

            with gr.Tab(tr("tab_explore"), id="explore") as explore_tab:
                with gr.Row():
                    # Choices arrive on page load; custom values let API clients pass any week or filter.
                    week = gr.Dropdown(label=tr("week"), choices=[], value=None, allow_custom_value=True)
                    customer_type = gr.Dropdown(
                        label=tr("customer_type_filter"),
                        choices=[(tr("all"), "")],
                        value="",
                        allow_custom_value=True,
                    )
                    segment = gr.Dropdown(
                        label=tr("segment_filter"),
                        choices=[(tr("all"), "")],
                        value="",
                        allow_custom_value=True,
                    )
                    brand = gr.Dropdown(
                        label=tr("brand_filter"), choices=[(tr("all"), "")], value="", allow_custom_value=True
                    )
                    only_buy = gr.Checkbox(label=tr("only_buy"), value=False)
                with gr.Row():
                    explore_button = gr.Button(tr("explore_button"), variant="primary", scale=3)
                    download = gr.DownloadButton(tr("download_csv"), visible=False, scale=1)
                explore_message = gr.HTML()
                explore_summary = gr.HTML()
                with gr.Row():
                    histogram = gr.BarPlot(
                        x=tr("probability_bin"),
                        y=tr("pairs_count"),
                        title=tr("histogram_title"),
                        sort=None,
                        y_axis_format="d",  # whole counts, no thousands separator of another language
                        height=300,
                    )
                    expected = gr.BarPlot(
                        x=tr("col_product"),
                        y=tr("expected_buyers"),
                        title=tr("expected_buyers_title"),
                        sort="-y",
                        y_axis_format="d",
                        x_label_angle=-40,
                        y_lim=[0, None],
                        height=300,
                    )
                explore_table = gr.Dataframe(
                    headers=[tr(key) for key in EXPLORE_COLUMNS], interactive=False, max_height=420, wrap=True
                )

            with gr.Tab(tr("tab_model"), id="model") as model_tab:
                with gr.Row():
                    model_message = gr.HTML(elem_id="ovni-model-message")
                    refresh_button = gr.Button(tr("refresh"), size="sm", scale=0, min_width=140)
                champion = gr.HTML()
                with gr.Row(equal_height=False):
                    with gr.Column():
                        quality_note = gr.HTML(elem_id="ovni-quality-note")
                        quality_plot = gr.LinePlot(
                            x=tr("col_week"),
                            y=tr("f1_axis"),
                            color=tr("quality_series"),
                            title=tr("quality_title"),
                            height=300,
                            y_lim=[0, 100],
                            y_axis_format="d",
                            visible=False,
                            elem_id="ovni-quality-plot",
                        )
                    versions = gr.Dataframe(
                        headers=[tr(key) for key in VERSION_COLUMNS],
                        label=tr("versions_title"),
                        interactive=False,
                        max_height=300,
                    )
                drift_note = gr.HTML(elem_id="ovni-drift-note")
                drift_plot = gr.BarPlot(
                    x=tr("feature"),
                    y=tr("psi"),
                    color=tr("drift_flag"),
                    color_map={tr(key): colour for key, colour in DRIFT_COLORS.items()},
                    visible=False,
                    elem_id="ovni-drift-plot",
                    title=tr("drift_title"),
                    sort="-y",
                    x_label_angle=-35,
                    height=340,
                )

            with gr.Tab(tr("tab_help"), id="help"):
                gr.Markdown(tr("help_markdown"))

        demo.load(
            page.load,
            outputs=[
                status,
                customer,
                consult_customer,
                consult_product,
                week,
                customer_type,
                segment,
                brand,
            ],
            api_name="load_page",
        )
        recommend_outputs = [status, recommend_message, customer_card, recommendations]
        recommend_button.click(page.recommend, [customer, top_k], recommend_outputs, api_name="recommend")
        customer.change(page.recommend, [customer, top_k], recommend_outputs, api_visibility="private")
        top_k.release(page.recommend, [customer, top_k], recommend_outputs, api_visibility="private")
        consult_outputs = [
            consult_message,
            consult_result,
            consult_state,
            whatif_message,
            whatif_result,
            *whatif_inputs,
        ]
        consult_button.click(
            page.consult,
            [consult_customer, consult_product],
            [status, *consult_outputs],
            api_name="consult",
        )
        for picker in (consult_customer, consult_product):
            picker.change(page.forget_pair, None, consult_outputs, api_visibility="private")
        simulate_button.click(
            page.simulate,
            [consult_state, *whatif_inputs],
            [status, whatif_message, whatif_result, *whatif_inputs],
            api_name="simulate",
        )
        explore_outputs = [
            status,
            explore_message,
            explore_summary,
            histogram,
            expected,
            explore_table,
            download,
        ]
        explore_inputs = [week, customer_type, segment, brand, only_buy]
        explore_button.click(page.explore, explore_inputs, explore_outputs, api_name="explore")
        explore_tab.select(page.explore, explore_inputs, explore_outputs, api_visibility="private")
        monitoring_outputs = [
            status,
            model_message,
            champion,
            versions,
            quality_note,
            quality_plot,
            drift_note,
            drift_plot,
        ]
        refresh_button.click(page.monitoring, None, monitoring_outputs, api_name="monitoring")
        model_tab.select(page.monitoring, None, monitoring_outputs, api_visibility="private")
    return demo


def theme() -> gr.themes.Base:
    """The default theme with local fonts only (nothing is fetched from the internet)."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate")


def create_server(api_url: str, default_lang: str):
    """A FastAPI app with the page in `default_lang` at / and in the other language at /<lang>/."""
    from fastapi import FastAPI

    other_lang = Texts(default_lang).other_lang
    server = FastAPI(title="OVNI UI", docs_url=None, redoc_url=None, openapi_url=None)
    pages = {other_lang: (f"/{other_lang}", "../"), default_lang: ("/", f"./{other_lang}/")}
    catalogue = CatalogueCache(OvniApiClient(api_url))
    for lang, (path, switch_url) in pages.items():  # the other language first: / would catch everything
        gr.mount_gradio_app(
            server,
            build_app(api_url, lang, switch_url=switch_url, catalogue=catalogue),
            path=path,
            theme=theme(),
            css=views.CSS,
            footer_links=[],
        )
    return server


def launch(host: str = "127.0.0.1", port: int = 7860) -> int:
    """Serve the UI with uvicorn until interrupted (`ovni ui`)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        config = load_config()
    except ValueError as error:
        print(f"ovni ui: {error}", file=sys.stderr)
        return 2
    import uvicorn

    print(f"OVNI UI on http://{host}:{port}/ (API: {config.api_url})", flush=True)
    uvicorn.run(create_server(config.api_url, config.lang), host=host, port=port, log_level="warning")
    return 0
