"""The model's input frame, defined once for training, batch scoring and the API.

The columns get the dtypes of the model's MLflow signature: numbers float64, booleans bool, text as object
with None for a missing value. Imports only pandas, so the serving package uses it without the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

NUMBER, BOOLEAN, TEXT = "number", "boolean", "text"


def input_frame(frame: pd.DataFrame, columns: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """`frame`'s `columns` ((name, NUMBER | BOOLEAN | TEXT) pairs), in that order, as the model reads them;
    a value that is not a number in a NUMBER column becomes NaN."""
    converted = {}
    for name, kind in columns:
        values = frame[name]
        if kind == NUMBER:
            converted[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif kind == BOOLEAN:
            converted[name] = values.astype(bool)
        else:
            converted[name] = values.astype(object).where(values.notna(), None)
    return pd.DataFrame(converted, index=frame.index)
