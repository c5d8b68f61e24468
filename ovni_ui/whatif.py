"""The "¿Y si…?" simulation: a few behaviours a person can reason about, turned into a consistent feature row.

The model reads dozens of features of a pair's history (`GET /model` lists them; the pipeline computes them
in `pair_features`), and many are views of the same facts: the week of the last purchase fixes
`weeks_since_last`, `days_since_last`, the week flags `bought_w1`, `bought_lag1..3` and the windowed counts
(`bought_w2/w4/w8/w12/w26`), which in turn bound `bought_total`, the purchase shares and the ratios
`gap_ratio` and `day_gap_ratio`. Changing one without the others asks the model about a customer that cannot
exist, and it answers with the other features. `simulated_row` rebuilds every related feature from the edited
behaviours, keeping the pair's own values where they stay possible, and `readable_behaviours` rounds the
pair's row into the values the inputs start from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The inputs of the panel, in order. `weeks_ago` counts weeks back from the predicted week: 1 = last week,
# the feature week itself (the row's `weeks_since_last` is 0 then).
BEHAVIOURS = ("weeks_ago", "bought_w4", "bought_w12", "units_w4", "mean_gap_weeks", "cust_active_w4")
NEVER_BOUGHT_WEEKS = 27  # past the 26-week history window: what the pipeline's rows never hold


@dataclass(frozen=True)
class Simulation:
    """The row to score, and the behaviours it encodes once the limits are applied (shown back)."""

    row: dict[str, Any]
    behaviours: dict[str, float | int | None]
    adjusted: bool  # some input was out of what its other inputs allow and was moved to the nearest value


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def readable_behaviours(row: Mapping[str, Any]) -> dict[str, float | int | None]:
    """The pair's row as the panel shows it: whole weeks and counts, units and gaps to one decimal."""
    weeks_since_last = _number(row.get("weeks_since_last"))
    units = _number(row.get("units_w4"))
    gap = _number(row.get("mean_gap_weeks"))
    return {
        "weeks_ago": NEVER_BOUGHT_WEEKS if weeks_since_last is None else int(weeks_since_last) + 1,
        "bought_w4": int(_number(row.get("bought_w4")) or 0),
        "bought_w12": int(_number(row.get("bought_w12")) or 0),
        "units_w4": round(units or 0.0, 1),
        "mean_gap_weeks": None if gap is None else round(gap, 1),
        "cust_active_w4": int(_number(row.get("cust_active_w4")) or 0),
    }


def _window_count(wanted: float, window: int, since: int, fallback: float) -> int:
    """Purchase weeks in the last `window` weeks when the last one was `since` weeks before the row's week:
    none when it is out of the window, else between 1 and the weeks left from it."""
    if since >= window:
        return 0
    value = wanted if wanted is not None else fallback
    return int(_clamp(round(value), 1, window - since))


def simulated_row(row: Mapping[str, Any], edits: Mapping[str, Any]) -> Simulation:
    """The pair's feature row with the edited behaviours and every feature that depends on them."""
    original = readable_behaviours(row)
    wanted = {name: _number(edits.get(name)) for name in BEHAVIOURS}
    for name in BEHAVIOURS:
        if wanted[name] is None and name != "mean_gap_weeks":
            wanted[name] = _number(original[name])
    new = dict(row)

    def put(name: str, value: Any) -> None:
        if name in new:  # a model without this feature keeps its own signature
            new[name] = value

    def old(name: str, default: float = 0.0) -> float:
        value = _number(row.get(name))
        return default if value is None else value

    weeks_ago = int(_clamp(round(wanted["weeks_ago"]), 1, NEVER_BOUGHT_WEEKS))
    since = weeks_ago - 1  # weeks between the last purchase and the row's own week
    never = weeks_ago >= NEVER_BOUGHT_WEEKS

    # Week flags: nothing after the last purchase, a purchase in its week, the other purchases of the last
    # four weeks where the pair had them, then in the earliest weeks left.
    bought_w4 = _window_count(wanted["bought_w4"], 4, since, 1)
    flags = [0, 0, 0, 0]
    if since < 4:
        flags[since] = 1
        earlier = list(range(since + 1, 4))
        had = [lag for lag in earlier if old(("bought_w1", "bought_lag1", "bought_lag2", "bought_lag3")[lag])]
        for lag in (had + [lag for lag in earlier if lag not in had])[: bought_w4 - 1]:
            flags[lag] = 1
    bought_w8 = _window_count(old("bought_w8") - old("bought_w4") + bought_w4, 8, since, 1)
    bought_w8 = max(bought_w8, bought_w4) if since < 8 else 0
    bought_w12 = _window_count(wanted["bought_w12"], 12, since, 1)
    bought_w12 = int(_clamp(bought_w12, bought_w8, bought_w8 + 4)) if since < 12 else 0
    bought_w8 = min(bought_w8, bought_w12) if since < 12 else bought_w8
    bought_w26 = (
        0
        if since >= 26
        else int(_clamp(old("bought_w26") - old("bought_w12") + bought_w12, max(bought_w12, 1), 26 - since))
    )
    bought_total = max(old("bought_total") - old("bought_w26") + bought_w26, bought_w26)

    for name, value in zip(("bought_w1", "bought_lag1", "bought_lag2", "bought_lag3"), flags, strict=True):
        put(name, value)
    put("bought_w2", flags[0] + flags[1])
    put("bought_w4", sum(flags))
    put("bought_w8", bought_w8)
    put("bought_w12", bought_w12)
    put("bought_w26", bought_w26)
    put("bought_total", int(bought_total))

    # Recency in weeks and days (the day inside the week of the last purchase stays the pair's own).
    put("weeks_since_last", None if never else since)
    day_in_week = _clamp(old("days_since_last") - 7 * old("weeks_since_last"), 0, 6)
    days_since_last = None if never else int(7 * since + day_in_week)
    put("days_since_last", days_since_last)

    # Units and orders follow the purchases of the last four and twelve weeks.
    units_w4 = 0.0 if sum(flags) == 0 else max(round(wanted["units_w4"] or 0.0, 1), 1 / 3)
    put("units_w4", units_w4)
    put("units_w12", 0.0 if bought_w12 == 0 else max(old("units_w12") - old("units_w4") + units_w4, units_w4))
    per_week = old("orders_w4") / old("bought_w4") if old("bought_w4") else 1.0
    put("orders_w4", int(max(round(per_week * sum(flags)), sum(flags))))

    # Regularity: the mean gap in weeks, the gap in days scaled with it, and the ratios of recency to gap.
    gap = wanted["mean_gap_weeks"]
    gap = None if gap is None or bought_total < 2 else round(max(gap, 0.0), 1)
    old_gap_weeks, old_gap_days = _number(row.get("mean_gap_weeks")), _number(row.get("mean_gap_days"))
    if gap is None:
        gap_days = None
    elif old_gap_weeks and old_gap_days:
        gap_days = old_gap_days * gap / old_gap_weeks
    else:
        gap_days = 7 * gap
    put("mean_gap_weeks", gap)
    put("mean_gap_days", gap_days)
    put("gap_ratio", None if never or not gap else since / gap)
    put("day_gap_ratio", None if days_since_last is None or not gap_days else days_since_last / gap_days)

    # The customer: active in every week it bought the pair, so at least as active as the pair.
    cust_active_w4 = int(_clamp(round(wanted["cust_active_w4"]), sum(flags), 4))
    put("cust_active_w4", cust_active_w4)
    cust_active_w12 = int(
        _clamp(
            old("cust_active_w12") - old("cust_active_w4") + cust_active_w4,
            max(cust_active_w4, bought_w12),
            cust_active_w4 + 8,
        )
    )
    put("cust_active_w12", cust_active_w12)
    cust_weeks = old("cust_weeks_since_last", 0.0) if never else min(old("cust_weeks_since_last"), since)
    cust_weeks = min(cust_weeks, 3) if cust_active_w4 else max(cust_weeks, 4)
    put("cust_weeks_since_last", int(cust_weeks))
    put("cust_active_w1", int(cust_weeks == 0))
    cust_day = _clamp(old("cust_days_since_last") - 7 * old("cust_weeks_since_last"), 0, 6)
    cust_days = int(7 * cust_weeks + cust_day)
    put("cust_days_since_last", cust_days if days_since_last is None else min(cust_days, days_since_last))

    # Shares of the customer's active weeks in which it bought the pair.
    share_w8, share_total = old("pair_share_w8"), old("pair_share_total")
    active_w8 = old("bought_w8") / share_w8 if share_w8 else cust_active_w4 + 4 * cust_active_w12 / 12
    active_total = old("bought_total") / share_total if share_total else bought_total
    put("pair_share_w8", min(1.0, bought_w8 / max(active_w8, bought_w8, 1)))
    put("pair_share_total", min(1.0, bought_total / max(active_total, bought_total, 1)))

    used = {
        "weeks_ago": weeks_ago,
        "bought_w4": sum(flags),
        "bought_w12": bought_w12,
        "units_w4": units_w4,
        "mean_gap_weeks": gap,
        "cust_active_w4": cust_active_w4,
    }
    adjusted = any(
        wanted[name] is not None and used[name] is not None and not math.isclose(wanted[name], used[name])
        for name in BEHAVIOURS
    )
    return Simulation(row=new, behaviours=used, adjusted=adjusted)
