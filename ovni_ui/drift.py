"""The pipeline's drift rule, restated so the page can say why a feature is, or is not, flagged.

The numbers are those of `ovni_assets/monitoring/drift.py`, which the UI does not import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DRIFT_PSI_THRESHOLD = 0.2
DRIFT_ALPHA = 0.01
DRIFT_BASELINE_FACTOR = 2.0
# The colour of each state in the drift chart, by its i18n key.
DRIFT_COLORS = {
    "drifted": "#d64545",
    "stable_ordinary": "#e0a03a",
    "stable_unconfirmed": "#8fa8d9",
    "stable_small": "#5b8def",
}


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
