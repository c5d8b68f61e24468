"""Why a feature is, or is not, flagged, by the rules the drift report itself applied (`/drift`'s `rules`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The colour of each state in the drift chart, by its i18n key.
DRIFT_COLORS = {
    "drifted": "#d64545",
    "stable_ordinary": "#e0a03a",
    "stable_unconfirmed": "#8fa8d9",
    "stable_small": "#5b8def",
    "stable": "#5b8def",
}


def drift_status(feature: Mapping[str, Any], rules: Mapping[str, float] | None) -> str:
    """The i18n key of a feature's drift state: flagged, or the first condition of the rules it misses
    (just "stable" for a report that did not record its rules)."""
    if feature.get("drifted"):
        return "drifted"
    if not rules:
        return "stable"
    psi = feature.get("psi") or 0.0
    if psi < rules["psi_threshold"]:
        return "stable_small"
    p_adjusted = feature.get("p_adjusted")
    if p_adjusted is not None and p_adjusted >= rules["alpha"]:
        return "stable_unconfirmed"
    baseline = feature.get("baseline_psi")
    if baseline is not None and psi < rules["baseline_factor"] * baseline:
        return "stable_ordinary"
    return "stable_unconfirmed"
