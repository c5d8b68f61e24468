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
