"""Units per line from the real units curve: a purchase line has (2j + 1)/3 units, a return -(2j - 1)/3."""

from __future__ import annotations

import numpy as np

from ovni_assets.data.synthetic import reference
from ovni_assets.data.synthetic.calibration import (
    RETURN_LARGER_SHARE,
    RETURN_OTHER_SHARE,
    UNITS_TILT_BY_TYPE,
    as_weights,
)

_J_VALUES = np.array(list(reference.UNITS_J_COUNTS), dtype=np.int64)
_J_COUNTS = np.array(list(reference.UNITS_J_COUNTS.values()), dtype=float)
_TYPE_J_CDF = np.array(
    [
        np.cumsum(as_weights(_J_COUNTS * np.maximum(_J_VALUES, 1) ** tilt))
        for tilt in UNITS_TILT_BY_TYPE.values()
    ]
)
_RETURN_J = _J_VALUES[_J_VALUES >= 1]
_RETURN_J_CDF = np.cumsum(as_weights(_J_COUNTS[_J_VALUES >= 1]))


def draw_j(rng: np.random.Generator, type_code: np.ndarray) -> np.ndarray:
    """Units index j (units = (2j + 1)/3) for lines of customers of the given types."""
    cdf = _TYPE_J_CDF[type_code]
    index = (cdf < rng.random(len(type_code))[:, None]).sum(axis=1)
    return _J_VALUES[np.minimum(index, len(_J_VALUES) - 1)]


def return_j(rng: np.random.Generator, purchase_j: np.ndarray) -> np.ndarray:
    """Return size index j (units -(2j - 1)/3) for returns of purchases with index `purchase_j`.

    As in the real data, a return nearly always takes back all but 2/3 of a unit of the purchase (same j);
    RETURN_OTHER_SHARE take back a smaller amount from the units curve, RETURN_LARGER_SHARE one third more
    than was bought.
    """
    count = len(purchase_j)
    curve = _RETURN_J[np.minimum(np.searchsorted(_RETURN_J_CDF, rng.random(count)), len(_RETURN_J) - 1)]
    kind = rng.random(count)
    returned_j = np.where(kind < RETURN_OTHER_SHARE, np.minimum(curve, purchase_j), purchase_j)
    return np.maximum(1, np.where(kind > 1 - RETURN_LARGER_SHARE, purchase_j + 1, returned_j))
