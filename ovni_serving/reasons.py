"""Plain-words reasons for a recommendation, built from the pair's feature row (Spanish first, English too).

Each rule reads one feature by name (the names `pair_features` uses) and renders a short sentence; a
recommendation shows the first few rules that apply, in the order below.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["es", "en"]
MAX_REASONS = 3


def _weeks(value: float, lang: Lang) -> str:
    n = round(value)
    if lang == "es":
        return "1 semana" if n == 1 else f"{n} semanas"
    return "1 week" if n == 1 else f"{n} weeks"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    applies: Callable[[float], bool]
    render: Callable[[float, re.Match[str], Lang], str]


def _window(match: re.Match[str]) -> int:
    return int(match.group("n"))


RULES: tuple[Rule, ...] = (
    Rule(
        re.compile(r"^(pair_)?(weeks_bought|bought_weeks|active_weeks)_(last_)?(?P<n>\d+)w?$"),
        lambda v: v >= 1,
        lambda v, m, lang: (
            f"compró en {round(v)} de las últimas {_window(m)} semanas"
            if lang == "es"
            else f"bought in {round(v)} of the last {_window(m)} weeks"
        ),
    ),
    Rule(
        re.compile(r"^(pair_)?weeks_since_last_(purchase|buy|order)$"),
        lambda v: v >= 0,
        lambda v, m, lang: (
            ("compró la semana pasada" if round(v) <= 1 else f"última compra hace {_weeks(v, lang)}")
            if lang == "es"
            else ("bought last week" if round(v) <= 1 else f"last purchase {_weeks(v, lang)} ago")
        ),
    ),
    Rule(
        re.compile(r"^(pair_)?(mean|avg|median)_(gap|interval)_weeks$"),
        lambda v: v > 0,
        lambda v, m, lang: (
            f"suele comprarlo cada {_number(v)} semanas"
            if lang == "es"
            else f"usually buys it every {_number(v)} weeks"
        ),
    ),
    Rule(
        re.compile(r"^(pair_)?units_(last_)?(?P<n>\d+)w?$"),
        lambda v: v > 0,
        lambda v, m, lang: (
            f"{_number(v)} unidades en las últimas {_window(m)} semanas"
            if lang == "es"
            else f"{_number(v)} units in the last {_window(m)} weeks"
        ),
    ),
    Rule(
        re.compile(r"^product_(buyers|customers)_(last_)?(?P<n>\d+)w?$"),
        lambda v: v >= 1,
        lambda v, m, lang: (
            f"lo compraron {_number(v)} clientes en las últimas {_window(m)} semanas"
            if lang == "es"
            else f"bought by {_number(v)} customers in the last {_window(m)} weeks"
        ),
    ),
)


def reasons(
    features: Mapping[str, Any], probability: float, threshold: float, lang: Lang = "es"
) -> list[str]:
    """Up to MAX_REASONS sentences for one pair; never empty (falls back to the probability itself)."""
    found: list[str] = []
    for rule in RULES:
        for name, raw in features.items():
            match = rule.pattern.match(name)
            if match is None or not _finite(raw) or not rule.applies(float(raw)):
                continue
            found.append(rule.render(float(raw), match, lang))
            break
        if len(found) == MAX_REASONS:
            break
    if not found:
        found.append(_never_bought(lang))
    found.append(_probability_sentence(probability, threshold, lang))
    return found


def _never_bought(lang: Lang) -> str:
    return (
        "nunca lo ha comprado: lo sugieren clientes parecidos"
        if lang == "es"
        else ("never bought it: similar customers do")
    )


def _probability_sentence(probability: float, threshold: float, lang: Lang) -> str:
    percent = f"{probability:.0%}"
    if lang == "es":
        verdict = "sobre" if probability >= threshold else "bajo"
        return f"probabilidad {percent}, {verdict} el umbral del modelo ({threshold:.0%})"
    verdict = "above" if probability >= threshold else "below"
    return f"probability {percent}, {verdict} the model's threshold ({threshold:.0%})"


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
