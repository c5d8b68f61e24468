"""What the weekly cycle does next: one pure function over the facts, for `ovni run` and the daemon alike.

`plan_next_step(facts)` answers with one `Step`; `ovni run` executes steps until the answer is NOTHING, the
daemon's `cycle_sensor` executes one step per tick. Rules, first match wins:

1. another run is in flight → WAIT (one writer; the facts change when it ends);
2. new landed files → INGEST, or INGEST_AND_PREDICT (one run) when a champion exists and no report can make
   `decide_retrain` retrain (the champion is within its cooldown);
3. the raw tables are newer than the features and monitoring built from them (an ingest stopped midway)
   → INGEST, which rebuilds them;
4. no features yet → NOTHING (no data has landed);
5. `decide_retrain` says retrain (no champion, forced, drift, degradation, schedule, age) → TRAIN;
6. a champion and no batch for the target week, or a batch by another version → PREDICT;
7. the served snapshot lacks the newest batch (its publish failed) or a registered version (a challenger
   that lost) → REPUBLISH;
8. otherwise NOTHING: predictions are current.

Each step has a `key` naming the facts it answers: the daemon retries one key a bounded number of times, so
a step that keeps failing on the same data does not loop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ovni_assets.keys import (
    RETRAIN_REASON_TAG,
    SNAPSHOT_ASSET,
    STEP_KEY_TAG,
    STEP_REASON_TAG,
    STEP_TAG,
    TRIGGER_TAG,
)
from ovni_assets.monitoring.triggers import RetrainFacts, RetrainPolicy, decide_retrain, retrain_ruled_out


class StepKind(StrEnum):
    INGEST = "ingest"
    INGEST_AND_PREDICT = "ingest_and_predict"
    TRAIN = "train"
    PREDICT = "predict"
    REPUBLISH = "republish"
    WAIT = "wait"
    NOTHING = "nothing"


JOB_OF_STEP = {
    StepKind.INGEST: "ingest_job",
    StepKind.INGEST_AND_PREDICT: "weekly_job",
    StepKind.TRAIN: "train_job",
    StepKind.PREDICT: "predict_job",
    StepKind.REPUBLISH: "predict_job",
}
ASSETS_OF_STEP = {StepKind.REPUBLISH: (SNAPSHOT_ASSET,)}


@dataclass(frozen=True)
class LatestBatch:
    """The newest prediction batch: which week it scores and with which version."""

    batch_id: str
    target_week: date
    model_version: str
    data_through: date | None = None  # the newest day with data when it was scored


@dataclass(frozen=True)
class CycleFacts:
    """Everything the plan reads, gathered by `ovni_assets.cycle.facts.read_cycle_facts` the same way on
    both paths. Storage ids (`*_event`) are the event-log positions of the newest materializations."""

    retrain: RetrainFacts
    champion_version: str | None = None
    new_files: tuple[tuple[str, str], ...] = ()  # (file name, sha256) of settled files not ingested yet
    raw_event: int | None = None  # newest raw_* materialization
    built_event: int | None = None  # oldest of the newest pair_features / drift_report / prediction_quality
    target_week: date | None = None
    data_through: date | None = None  # the newest day with data (a week in progress is known up to it)
    latest_batch: LatestBatch | None = None
    published_batch_id: str | None = None  # the batch serving.duckdb holds (None: none or unreadable)
    unpublished_versions: tuple[str, ...] = ()  # complete registered versions the snapshot does not list
    runs_in_flight: tuple[str, ...] = ()  # ids of other runs queued or running
    evidence: str = ""  # storage ids of the reports behind `retrain` (names a TRAIN step's facts)

    @property
    def raw_newer_than_built(self) -> bool:
        return self.raw_event is not None and (self.built_event is None or self.built_event < self.raw_event)


@dataclass(frozen=True)
class Step:
    kind: StepKind
    reason: str
    key: str = ""

    @property
    def job_name(self) -> str | None:
        return JOB_OF_STEP.get(self.kind)

    @property
    def assets(self) -> tuple[str, ...] | None:
        """The assets of the job the step runs (None: all of them)."""
        return ASSETS_OF_STEP.get(self.kind)

    @property
    def runs_something(self) -> bool:
        return self.job_name is not None

    @property
    def key_tag(self) -> str:
        """The key as a run-tag value (long keys, e.g. many new files, are hashed)."""
        return self.key if len(self.key) <= 200 else hashlib.sha256(self.key.encode()).hexdigest()

    def run_tags(self, trigger: str) -> dict[str, str]:
        """The tags of the run that executes this step, the same on both paths."""
        tags = {
            TRIGGER_TAG: trigger,
            STEP_TAG: str(self.kind),
            STEP_KEY_TAG: self.key_tag,
            STEP_REASON_TAG: self.reason[:1000],
        }
        if self.kind is StepKind.TRAIN:
            tags[RETRAIN_REASON_TAG] = self.reason[:1000]
        return tags


def prediction_reason(facts: CycleFacts) -> str | None:
    """Why the target week must be scored now, or None when the newest batch is current."""
    if facts.champion_version is None or facts.target_week is None:
        return None
    batch = facts.latest_batch
    if batch is None or batch.target_week != facts.target_week:
        return f"new target week {facts.target_week}"
    if batch.model_version != facts.champion_version:
        return f"new champion v{facts.champion_version} (batch was v{batch.model_version})"
    if facts.data_through is not None and batch.data_through != facts.data_through:
        return f"new days of week {facts.target_week} landed (data through {facts.data_through})"
    return None


def republish_reason(facts: CycleFacts) -> str | None:
    """Why the serving snapshot must be written again from the warehouse, or None."""
    batch = facts.latest_batch
    if batch is not None and facts.published_batch_id != batch.batch_id:
        return f"the served snapshot does not hold the newest batch {batch.batch_id}"
    if facts.unpublished_versions:
        versions = ", ".join(f"v{v}" for v in facts.unpublished_versions)
        return f"the served snapshot does not list model version(s) {versions}"
    return None


def plan_next_step(facts: CycleFacts, policy: RetrainPolicy | None = None) -> Step:
    """The next step of the weekly cycle, and why (see the module docstring for the rules)."""
    if facts.runs_in_flight:
        runs = ", ".join(run[:8] for run in facts.runs_in_flight)
        return Step(StepKind.WAIT, f"run(s) {runs} in flight: the next step waits for them")
    if facts.new_files:
        names = ", ".join(name for name, _ in facts.new_files)
        key = "ingest:" + ",".join(sha[:16] for _, sha in sorted(facts.new_files))
        if facts.champion_version is not None and retrain_ruled_out(facts.retrain, policy):
            return Step(
                StepKind.INGEST_AND_PREDICT,
                f"new data ({names}); no retrain can be due (champion v{facts.champion_version} is within "
                "its cooldown), so the new week is scored in the same run",
                key,
            )
        return Step(StepKind.INGEST, f"new data ({names})", key)
    if facts.raw_newer_than_built:
        return Step(
            StepKind.INGEST,
            "the raw tables are newer than the features and monitoring built from them (a run stopped "
            "midway): rebuild",
            f"rebuild:{facts.raw_event}",
        )
    if facts.target_week is None:
        return Step(StepKind.NOTHING, "no data yet: land transacciones*, clientes* and productos* files")
    decision = decide_retrain(facts.retrain, policy)
    if decision.should_retrain:
        return Step(
            StepKind.TRAIN, decision.reason, f"train:{facts.evidence}:{decision.reason.split(':')[0]}"
        )
    reason = prediction_reason(facts)
    if reason is not None:
        return Step(
            StepKind.PREDICT,
            reason,
            f"predict:{facts.target_week}:{facts.data_through}:v{facts.champion_version}",
        )
    reason = republish_reason(facts)
    if reason is not None:
        batch = facts.latest_batch.batch_id if facts.latest_batch else ""
        return Step(StepKind.REPUBLISH, reason, f"republish:{batch}:{','.join(facts.unpublished_versions)}")
    return Step(
        StepKind.NOTHING,
        f"predictions for {facts.target_week} are current (champion v{facts.champion_version})",
    )
