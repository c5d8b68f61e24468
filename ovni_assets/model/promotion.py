"""Champion / challenger: a new version becomes champion only if it wins on the same validation weeks.

Both sides are scored out of sample, week by week, on the challenger's validation weeks:
- the challenger by its validation fit (trained on the weeks before them);
- the champion re-scored with its own threshold on each week it never trained on (target week after its
  `train_last_week`); a week it did train on lies in its own validation window (its last weeks), so its
  recorded out-of-sample F1 of that week (tag `val_weekly_f1`) is used instead. A week with neither
  (cannot happen with the same validation window length) is re-scored in sample and said so.
The challenger wins with a strictly higher mean weekly F1. No champion: the challenger wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from ovni_assets.model.metrics import validate
from ovni_assets.model.registry import Champion
from ovni_assets.model.rows import actual_purchases, load_rows
from ovni_assets.model.training import MAX_VALIDATION_ROWS


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    challenger_f1: float
    champion_f1: float | None
    champion_version: str | None
    weeks: list[date]
    reason: str


def champion_weekly_f1(
    con: duckdb.DuckDBPyConnection, champion: Champion, weeks: list[date]
) -> tuple[dict[date, float], list[str]]:
    """The champion's F1 on each feature week, out of sample where possible; notes on how each was got."""
    train_last_week = date.fromisoformat(champion.tags["train_last_week"])
    recorded = {date.fromisoformat(w): f1 for w, f1 in _json_tag(champion.tags, "val_weekly_f1").items()}
    scores, notes, rescore = {}, [], []
    for week in weeks:
        if week + timedelta(days=7) > train_last_week:
            rescore.append(week)
        elif week in recorded:
            scores[week] = recorded[week]
            notes.append(f"{week}: recorded validation F1")
        else:
            rescore.append(week)
            notes.append(f"{week}: re-scored in sample (trained on it)")
    if rescore:
        frame = load_rows(con, rescore, MAX_VALIDATION_ROWS).frame
        validation = validate(champion.model, frame, actual_purchases(con, rescore), champion.threshold)
        for row in validation.weekly.itertuples():
            scores[row.week_start] = float(row.f1)
    return scores, notes


def decide_promotion(
    con: duckdb.DuckDBPyConnection,
    champion: Champion | None,
    challenger_weekly_f1: dict[date, float],
) -> PromotionDecision:
    """Whether the challenger (its out-of-sample F1 per validation week) should become champion."""
    weeks = sorted(challenger_weekly_f1)
    challenger_f1 = sum(challenger_weekly_f1.values()) / len(weeks)
    if champion is None:
        return PromotionDecision(True, challenger_f1, None, None, weeks, "first model: no champion yet")
    scores, notes = champion_weekly_f1(con, champion, weeks)
    champion_f1 = sum(scores[w] for w in weeks) / len(weeks)
    promote = challenger_f1 > champion_f1
    verdict = "beats" if promote else "does not beat"
    reason = (
        f"challenger F1 {challenger_f1:.4f} {verdict} champion v{champion.version} F1 {champion_f1:.4f} "
        f"on validation weeks {weeks[0]}..{weeks[-1]}"
    )
    if notes:
        reason += " (" + "; ".join(notes) + ")"
    return PromotionDecision(promote, challenger_f1, champion_f1, champion.version, weeks, reason)


def _json_tag(tags: dict[str, str], name: str) -> dict:
    import json

    return json.loads(tags.get(name) or "{}")
