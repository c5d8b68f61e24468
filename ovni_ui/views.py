"""HTML pieces of the page (cards, the recommendation table with probability bars, banners).

Plain functions from API payloads to escaped HTML, so the page never shows raw JSON.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from ovni_ui.formatting import day, minutes
from ovni_ui.i18n import Texts

CSS = """
.ovni-header {display:flex; align-items:flex-start; justify-content:space-between; gap:1.5rem;}
.ovni-header h1 {margin:0 0 .25rem 0; font-size:1.6rem;}
.ovni-header p {margin:0; color:var(--body-text-color-subdued); max-width:60rem;}
.ovni-banner {padding:.6rem .9rem; border-radius:8px; margin:.25rem 0; font-weight:500;}
.ovni-banner.ok {background:#e8f4ec; color:#1d5b34; border:1px solid #b7dcc3;}
.ovni-banner.error {background:#fdecec; color:#8a1c1c; border:1px solid #f3b8b8;}
.ovni-notice {padding:.6rem .9rem; border-radius:8px; margin:.25rem 0; font-weight:600;
  background:#fff4e0; color:#7a4100; border:1px solid #f0c27a;}
.ovni-banner.info {background:var(--block-background-fill); color:var(--body-text-color-subdued);
  border:1px dashed var(--border-color-primary);}
.ovni-card {border:1px solid var(--border-color-primary); border-radius:10px; padding:.9rem 1rem;
  background:var(--block-background-fill);}
.ovni-card h3 {margin:0 0 .5rem 0; font-size:1.1rem;}
.ovni-card dl {display:grid; grid-template-columns:max-content 1fr; gap:.25rem .9rem; margin:0;}
.ovni-card dt {color:var(--body-text-color-subdued);}
.ovni-card dd {margin:0; color:var(--body-text-color);}
.ovni-kpis {display:flex; flex-wrap:wrap; gap:.75rem; margin-top:.25rem;}
.ovni-kpi {flex:1 1 9rem; border:1px solid var(--border-color-primary); border-radius:10px;
  padding:.6rem .8rem; background:var(--block-background-fill);}
.ovni-kpi .label {font-size:.8rem; color:var(--body-text-color-subdued);}
.ovni-kpi .value {font-size:1.35rem; font-weight:700;}
.ovni-heading {display:flex; justify-content:space-between; align-items:baseline; gap:1rem;
  margin:.2rem 0 .6rem;}
.ovni-heading h3 {margin:0; font-size:1.15rem;}
.ovni-pill {display:inline-block; padding:.1rem .55rem; border-radius:999px; font-size:.8rem; font-weight:600;
  background:#e7eefc; color:#1e3f8a; white-space:nowrap;}
.ovni-table {width:100%; border-collapse:collapse; font-size:.95rem; border:none !important;}
.ovni-table tr, .ovni-table th, .ovni-table td {border:none !important;}
.ovni-table th {text-align:left; font-weight:600; color:var(--body-text-color-subdued); padding:.45rem .5rem;
  border-bottom:2px solid var(--border-color-primary) !important;}
.ovni-table td {padding:.55rem .5rem; border-bottom:1px solid var(--border-color-primary) !important;
  vertical-align:top;}
.ovni-table .rank {width:2rem; font-weight:700; color:var(--body-text-color-subdued);}
.ovni-table .prob {width:14rem;}
.ovni-table .product-name {font-weight:600;}
.ovni-table .product-detail {font-size:.85rem; color:var(--body-text-color-subdued);}
.ovni-table ul {margin:0; padding-left:1.1rem;}
.ovni-bar {position:relative; height:1.3rem; background:#eef1f5; border-radius:6px; overflow:hidden;}
.ovni-bar .fill {position:absolute; inset:0 auto 0 0; background:linear-gradient(90deg,#5b8def,#2f64d6);}
.ovni-bar .fill.low {background:linear-gradient(90deg,#b9c3d3,#97a3b6);}
.ovni-bar .threshold {position:absolute; top:-2px; bottom:-2px; width:2px; background:#1f2937; opacity:.55;}
.ovni-prob {display:flex; align-items:center; gap:.5rem;}
.ovni-prob .ovni-bar {flex:1 1 auto;}
.ovni-prob .text {flex:0 0 4rem; text-align:right; font-size:.85rem; font-weight:700;
  font-variant-numeric:tabular-nums;}
.ovni-decision {display:inline-block; padding:.15rem .6rem; border-radius:999px; font-weight:600;
  font-size:.85rem; white-space:nowrap;}
.ovni-decision.buy {background:#e3f5e9; color:#17663a;}
.ovni-decision.nobuy {background:#f1f2f4; color:#5b6472;}
.ovni-big {font-size:2.2rem; font-weight:800; line-height:1.1;}
"""


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>" for label, value in pairs)


def banner(kind: str, text: str) -> str:
    """A one-line message; kind is ok, error or info."""
    return f'<div class="ovni-banner {kind}" role="status">{escape(text)}</div>'


def stale_notice(tr: Texts, ready: dict, detail: str = "") -> str:
    """The warning that the served week is past its time (empty unless `/ready` says it is stale). Its
    own class, beside the status banner: a notice, not the state of the service."""
    if ready.get("fresh") is not False or not ready.get("week_start"):
        return ""
    days = int(ready.get("stale_days") or 0)
    text = tr("stale_notice", week=tr.long_date(ready["week_start"]), days=tr.days(days))
    text = f"{text} {detail}".strip()
    return f'<div class="ovni-notice" role="alert" data-stale-days="{days}">{escape(text)}</div>'


def freshness(tr: Texts, ready: dict) -> str:
    """How current the served week is: the stale notice with the day the next batch was due, or the day
    the served week stays current until."""
    if ready.get("fresh") is False:
        detail = ""
        if ready.get("week_start") and ready.get("fresh_until"):
            next_week = date.fromisoformat(str(ready["week_start"])[:10]) + timedelta(days=7)
            detail = tr(
                "stale_detail", next_week=tr.long_date(next_week), until=tr.long_date(ready["fresh_until"])
            )
        return stale_notice(tr, ready, detail)
    if ready.get("fresh") and ready.get("week_start") and ready.get("fresh_until"):
        week, until = tr.long_date(ready["week_start"]), tr.long_date(ready["fresh_until"])
        return banner("info", tr("fresh_note", week=week, until=until))
    return ""


def header(tr: Texts) -> str:
    """Title and short intro (the intro may hold bold markup from i18n, nothing from the API)."""
    title = escape(tr("app_title"))
    return f'<div class="ovni-header"><div><h1>{title}</h1><p>{tr("app_intro")}</p></div></div>'


def probability_bar(tr: Texts, probability: float, threshold: float | None, will_buy: bool) -> str:
    """A horizontal bar for a probability, with the model's threshold marked when known."""
    width = max(0.0, min(1.0, float(probability))) * 100
    marker = (
        f'<div class="threshold" style="left:{float(threshold) * 100:.1f}%"></div>'
        if threshold is not None
        else ""
    )
    fill_class = "fill" if will_buy else "fill low"
    text = escape(tr.percent(probability))
    return (
        f'<div class="ovni-prob" title="{text}"><div class="ovni-bar">'
        f'<div class="{fill_class}" style="width:{width:.1f}%"></div>{marker}</div>'
        f'<span class="text">{text}</span></div>'
    )


def decision_badge(tr: Texts, will_buy: bool) -> str:
    if will_buy:
        return f'<span class="ovni-decision buy">✓ {escape(tr("will_buy"))}</span>'
    return f'<span class="ovni-decision nobuy">{escape(tr("will_not_buy"))}</span>'


def product_cell(tr: Texts, product_id: int, product: dict | None) -> str:
    if not product:
        return f'<div class="product-name">{escape(tr("product"))} {product_id}</div>'
    line = tr.product_line(product)
    return (
        f'<div class="product-name">{escape(tr("product"))} {product_id}</div>'
        f'<div class="product-detail">{escape(line)}</div>'
    )


def recommendations_table(
    tr: Texts, payload: dict, products: dict[int, dict], threshold: float | None
) -> str:
    """The heading (customer, week, model version) and one row per recommended product."""
    title = tr("recommend_heading", customer_id=payload["customer_id"], week=payload["week_start"])
    heading = (
        f'<div class="ovni-heading"><h3>{escape(title)}</h3>'
        f'<span class="ovni-pill" data-model-version="{escape(str(payload["model_version"]))}">'
        f"{escape(tr('model_version_note', version=payload['model_version']))}</span></div>"
    )
    items = payload.get("recommendations") or []
    if not items:
        return heading + banner("info", tr("no_recommendations"))
    body = []
    for item in items:
        product_id = int(item["product_id"])
        reasons = "".join(f"<li>{escape(str(reason))}</li>" for reason in item.get("reasons") or [])
        will_buy = bool(item["will_buy"])
        body.append(
            f'<tr data-product-id="{product_id}">'
            f'<td class="rank">{int(item["rank"])}</td>'
            f"<td>{product_cell(tr, product_id, products.get(product_id))}</td>"
            f'<td class="prob">{probability_bar(tr, item["probability"], threshold, will_buy)}</td>'
            f"<td>{decision_badge(tr, will_buy)}</td>"
            f"<td><ul>{reasons}</ul></td></tr>"
        )
    head = "".join(
        f"<th>{escape(tr(key))}</th>"
        for key in ("col_rank", "col_product", "col_probability", "col_decision", "col_reasons")
    )
    return (
        f'{heading}<table class="ovni-table" id="ovni-recommendations"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def customer_card(tr: Texts, customer: dict) -> str:
    latitude, longitude = customer.get("latitude"), customer.get("longitude")
    location = (
        f"{tr.number(latitude, 3)}, {tr.number(longitude, 3)}"
        if latitude is not None and longitude is not None
        else "—"
    )
    rows = [
        (tr("customer_type"), customer.get("customer_type") or "—"),
        (tr("deliveries_per_week"), tr.number(customer.get("num_deliver_per_week"), 0)),
        (tr("visits_per_week"), tr.number(customer.get("num_visit_per_week"), 0)),
        (tr("location"), location),
    ]
    title = tr("customer_card_title", customer_id=customer["customer_id"])
    return f'<div class="ovni-card"><h3>{escape(title)}</h3><dl>{_rows(rows)}</dl></div>'


def pair_result(
    tr: Texts, prediction: dict, week: str, threshold: float | None, reasons: list[str], product: dict | None
) -> str:
    """The answer of the Look-up tab: big probability, decision, threshold and reasons."""
    probability = float(prediction["probability"])
    will_buy = bool(prediction["will_buy"])
    decision = tr("decision_buy") if will_buy else tr("decision_no_buy")
    heading = tr(
        "consult_heading",
        customer_id=prediction["customer_id"],
        product_id=prediction["product_id"],
        week=week,
    )
    reason_items = (
        "".join(f"<li>{escape(str(r))}</li>" for r in reasons) or f"<li>{escape(tr('no_reasons'))}</li>"
    )
    threshold_line = (
        f'<p class="product-detail">{escape(tr("threshold_note", threshold=tr.percent(threshold)))}</p>'
        if threshold is not None
        else ""
    )
    product_line = f"<p>{escape(tr.product_line(product))}</p>" if product else ""
    return (
        f'<div class="ovni-card" id="ovni-pair-result"><h3>{escape(heading)}</h3>{product_line}'
        f'<div class="ovni-big">{escape(tr.percent(probability))}</div>'
        f"{probability_bar(tr, probability, threshold, will_buy)}"
        f'<p><span class="ovni-decision {"buy" if will_buy else "nobuy"}">{escape(decision)}</span></p>'
        f"{threshold_line}<h3>{escape(tr('reasons_title'))}</h3><ul>{reason_items}</ul></div>"
    )


def whatif_result(tr: Texts, scored: dict, before: float, threshold: float | None) -> str:
    """The simulated pair's probability and decision beside the probability before the edits."""
    will_buy = bool(scored["will_buy"])
    text = tr(
        "whatif_result",
        probability=tr.percent(scored["probability"]),
        decision=tr("will_buy") if will_buy else tr("will_not_buy"),
        before=tr.percent(before),
    )
    bar = probability_bar(tr, scored["probability"], threshold, will_buy)
    return f'<div class="ovni-card" id="ovni-whatif-result"><p>{escape(text)}</p>{bar}</div>'


def kpis(items: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<div class="ovni-kpi"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div></div>'
        for label, value in items
    )
    return f'<div class="ovni-kpis">{cells}</div>'


def champion_card(tr: Texts, model: dict, trained_at: str) -> str:
    """The model in production: version, training time, validation metrics, threshold, data it learnt from."""
    metrics = model.get("metrics") or {}
    figures = kpis(
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
        f'<p class="product-detail">{escape(tr("train_data_until", week=day(until)))}</p>' if until else ""
    )
    return (
        f'<div class="ovni-card" id="ovni-champion"><h3>{escape(tr("champion_title"))}</h3>{figures}'
        f"{until_line}</div>"
    )


ALERT_EVENTS = (
    "file_held",
    "run_failed",
    "retrain_triggered",
    "quality_dropped",
    "champion_changed",
    "data_stale",
)


def alert_delivery(tr: Texts, alerts: dict) -> str:
    """Whether the alerts reach someone: the newest one that a channel refused (with its error), else the
    newest alert and its outcome; a home that never alerted says so."""
    items = alerts.get("items") or []
    if not items:
        return banner("info", tr("alerts_none"))
    failed = [a for a in items if any(outcome != "ok" for outcome in (a.get("deliveries") or {}).values())]
    if failed:
        newest = failed[0]
        channel, error = next((c, o) for c, o in newest["deliveries"].items() if o != "ok")
        return banner(
            "error",
            tr(
                "alerts_failed",
                count=alerts.get("failed_deliveries", len(failed)),
                event=_alert_event(tr, newest.get("event")),
                when=minutes(newest.get("at")),
                channel=channel,
                error=error,
            ),
        )
    newest = items[0]
    key = "alerts_no_channel" if newest.get("status") == "no channel" else "alerts_latest"
    return banner(
        "info",
        tr(
            key,
            event=_alert_event(tr, newest.get("event")),
            when=minutes(newest.get("at")),
            status=newest.get("status"),
        ),
    )


def _alert_event(tr: Texts, event: str | None) -> str:
    return tr(f"alert_{event}") if event in ALERT_EVENTS else str(event)
