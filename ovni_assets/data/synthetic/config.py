"""What a generated dataset is: its size, period and seed, the drifts it shows, and its random streams.

Drifts (`--drift KIND@WEEK`, WEEK 0-based from `start`):
- `product_mix`: at WEEK, half of every customer's habitual products (`PRODUCT_MIX_REPLACED_SHARE`) are
  replaced by products drawn with segment weights `PRODUCT_MIX_SEGMENT_WEIGHT` (towards LOW and HIGH, away
  from PREMIUM); trials use the same weights. The PREMIUM share of lines drops, new pairs spike.
- `volume`: from WEEK, units per line × `VOLUME_UNITS_FACTOR` (rounded to thirds) and each habitual pair's
  weekly purchase probability × `VOLUME_FREQUENCY_FACTOR`.
- `new_customers`: `NEW_CUSTOMERS_SHARE` more customers, added to `clientes` with new ids, each buying like
  the others from WEEK on (none of them buys before WEEK).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PRODUCT_MIX_REPLACED_SHARE = 0.5
PRODUCT_MIX_SEGMENT_WEIGHT = {"PREMIUM": 0.25, "MEDIUM": 1.0, "HIGH": 3.0, "LOW": 3.0}
VOLUME_UNITS_FACTOR = 1.6
VOLUME_FREQUENCY_FACTOR = 0.5
NEW_CUSTOMERS_SHARE = 0.2
DRIFT_KINDS = ("product_mix", "volume", "new_customers")

# Independent random streams, so that one part of the data never shifts another's draws.
STREAM_CUSTOMERS, STREAM_WAVE, STREAM_PRODUCTS, STREAM_SEASON = 1, 2, 3, 4
STREAM_CHUNK, STREAM_WEEK, STREAM_DRIFT = 5, 6, 7


@dataclass(frozen=True)
class Drift:
    kind: str
    week: int


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 1500
    weeks: int = 40
    start: date = date(2024, 1, 1)
    seed: int = 7
    drifts: tuple[Drift, ...] = ()

    def drift_week(self, kind: str) -> int | None:
        """The week a drift of this kind starts, or None."""
        return next((d.week for d in self.drifts if d.kind == kind), None)

    def validate(self) -> None:
        if self.customers < 1 or self.weeks < 1:
            raise ValueError(f"customers and weeks must be at least 1 (got {self.customers}, {self.weeks})")
        kinds = [d.kind for d in self.drifts]
        for drift in self.drifts:
            if not 0 <= drift.week < self.weeks:
                raise ValueError(
                    f"drift {drift.kind}@{drift.week}: week must be between 0 and {self.weeks - 1} "
                    f"(0-based index of the {self.weeks} generated weeks)"
                )
            if kinds.count(drift.kind) > 1:
                raise ValueError(f"drift {drift.kind} is given more than once")


def parse_drift(spec: str) -> Drift:
    """Parse `KIND@WEEK` (e.g. `volume@30`); ValueError with a one-line message if malformed."""
    kind, separator, week_text = spec.strip().partition("@")
    if not separator or kind not in DRIFT_KINDS:
        raise ValueError(f"bad drift {spec!r}: expected KIND@WEEK with KIND one of {', '.join(DRIFT_KINDS)}")
    try:
        week = int(week_text)
    except ValueError:
        raise ValueError(f"bad drift {spec!r}: WEEK must be a whole number, got {week_text!r}") from None
    if week < 0:
        raise ValueError(f"bad drift {spec!r}: WEEK is a 0-based week index and cannot be negative")
    return Drift(kind, week)
