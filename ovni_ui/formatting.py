"""Dates and scores as the page writes them; `Texts.number` and `Texts.percent` add the language's marks."""

from __future__ import annotations

from typing import Any

import pandas as pd


def day(value: Any) -> str:
    """A date or timestamp of the API as its day, `YYYY-MM-DD`."""
    return str(value)[:10]


def minutes(timestamp: Any) -> str:
    """A timestamp to the minute, in UTC as the registry records it."""
    if not timestamp:
        return "—"
    moment = pd.Timestamp(str(timestamp))
    if moment.tzinfo is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def whole_percent(score: float | None) -> int | None:
    """A score in [0, 1] as a whole percent (None stays None), as the quality chart draws it."""
    return None if score is None else round(100 * score)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`)
    prefixed with an apostrophe, so a downloaded CSV opens as the text it holds; numbers stay numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_bool_dtype(safe[column]):
            continue
        safe[column] = safe[column].map(
            lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
        )
    return safe.rename(columns=lambda c: f"'{c}" if str(c).startswith(FORMULA_STARTS) else c)
