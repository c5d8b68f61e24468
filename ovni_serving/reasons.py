"""Plain-words reasons for a recommendation, built from the pair's feature row (Spanish first, English too).

They read the features `pair_features` computes for the feature week t (the week before the target week):
`bought_wN` (weeks with a purchase among the last N), `weeks_since_last` (0 = bought in week t, i.e. one
week before the target week), `mean_gap_weeks` and `gap_ratio` (usual rhythm and how due it is),
`is_discovery` with `type_share_w8` and `customer_type` (never bought; how many customers of the same type
buy it). A feature the model does not have is simply not mentioned.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, Literal

Lang = Literal["es", "en"]
FREQUENCY_WINDOWS = (4, 8, 12, 26)
FEATURES_READ = (
    *(f"bought_w{window}" for window in FREQUENCY_WINDOWS),
    "bought_total",
    "weeks_since_last",
    "mean_gap_weeks",
    "gap_ratio",
    "is_discovery",
    "type_share_w8",
    "customer_type",
)
DUE_RATIO = 0.8


def _number(value: Any) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _weeks(n: int, lang: Lang) -> str:
    if lang == "es":
        return "1 semana" if n == 1 else f"{n} semanas"
    return "1 week" if n == 1 else f"{n} weeks"


def _rounded(value: float, lang: Lang) -> str:
    """Whole weeks when within 0.05 of one, else one decimal with the language's separator (1,5 / 1.5)."""
    text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return text.replace(".", ",") if lang == "es" else text


def _never_bought(features: Mapping[str, Any], lang: Lang) -> str:
    share = _number(features.get("type_share_w8"))
    kind = features.get("customer_type")
    if share and share > 0 and isinstance(kind, str):
        if lang == "es":
            return f"nunca lo ha comprado; lo compra el {share:.0%} de los clientes {kind} activos"
        return f"never bought it; {share:.0%} of active {kind} customers buy it"
    return "nunca lo ha comprado" if lang == "es" else "never bought it"


def _history(features: Mapping[str, Any], lang: Lang) -> list[str]:
    found = []
    for window in FREQUENCY_WINDOWS:
        bought = _number(features.get(f"bought_w{window}"))
        if bought is not None and bought >= 1:
            n = round(bought)
            if n >= window:
                found.append(
                    f"compró todas las últimas {window} semanas"
                    if lang == "es"
                    else f"bought in each of the last {window} weeks"
                )
            else:
                found.append(
                    f"compró en {n} de las últimas {window} semanas"
                    if lang == "es"
                    else f"bought in {n} of the last {window} weeks"
                )
            break
    since = _number(features.get("weeks_since_last"))
    if since is not None and since >= 0:
        ago = round(since) + 1  # weeks before the target week
        if lang == "es":
            found.append(
                "última compra la semana pasada" if ago == 1 else f"última compra hace {_weeks(ago, lang)}"
            )
        else:
            found.append("last purchase last week" if ago == 1 else f"last purchase {_weeks(ago, lang)} ago")
    gap = _number(features.get("mean_gap_weeks"))
    ratio = _number(features.get("gap_ratio"))
    if gap is not None and gap > 0:
        due = ratio is not None and ratio >= DUE_RATIO
        every = _rounded(gap, lang)
        weekly = every == "1"
        if lang == "es":
            rhythm = "suele comprarlo cada semana" if weekly else f"suele comprarlo cada {every} semanas"
            found.append(rhythm + ("; ya le toca" if due and not weekly else ""))
        else:
            rhythm = "usually buys it every week" if weekly else f"usually buys it every {every} weeks"
            found.append(rhythm + ("; it is due" if due and not weekly else ""))
    return found


def percent(value: float, lang: Lang) -> str:
    """A probability as the UI shows it everywhere: one decimal, "28,9 %" in Spanish, "28.9%" in English."""
    if lang == "es":
        return f"{value * 100:.1f} %".replace(".", ",")
    return f"{value * 100:.1f}%"


def _probability(probability: float, threshold: float, lang: Lang) -> str:
    shown, limit = percent(probability, lang), percent(threshold, lang)
    if lang == "es":
        verdict = "sobre" if probability >= threshold else "bajo"
        return f"probabilidad {shown}, {verdict} el umbral del modelo ({limit})"
    verdict = "above" if probability >= threshold else "below"
    return f"probability {shown}, {verdict} the model's threshold ({limit})"


def reasons(
    features: Mapping[str, Any], probability: float, threshold: float, lang: Lang = "es"
) -> list[str]:
    """What the customer's history says about the product, then the probability against the threshold."""
    never_bought = features.get("is_discovery") == "yes" or _number(features.get("bought_total")) == 0
    found = [_never_bought(features, lang)] if never_bought else _history(features, lang)
    return [*found, _probability(probability, threshold, lang)]
