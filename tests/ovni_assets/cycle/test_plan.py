"""`plan_next_step`'s truth table: every case the weekly cycle handles, on either path."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ovni_assets.cycle.plan import CycleFacts, LatestBatch, Step, StepKind, plan_next_step
from ovni_assets.monitoring.triggers import RetrainFacts

WEEK = date(2024, 10, 7)
FRESH = timedelta(hours=1)  # inside the cooldown
RECENT = timedelta(days=2)  # past the cooldown, not due
HEALTHY = RetrainFacts(has_champion=True, time_since_training=RECENT)
COOLING = RetrainFacts(has_champion=True, time_since_training=FRESH)
NO_CHAMPION = RetrainFacts(has_champion=False)
FILES = (("transacciones_w41.parquet", "ab" * 32),)
CURRENT = LatestBatch("b7", WEEK, "2")


def facts(**changes) -> CycleFacts:
    """A served, current cycle (champion v2, the target week scored and published), changed as asked."""
    base = {
        "retrain": HEALTHY,
        "champion_version": "2",
        "raw_event": 10,
        "built_event": 14,
        "target_week": WEEK,
        "latest_batch": CURRENT,
        "published_batch_id": "b7",
    }
    return CycleFacts(**{**base, **changes})


CASES = [
    # (what holds, the facts, the step, words of its reason)
    ("a fresh home", CycleFacts(retrain=NO_CHAMPION), StepKind.NOTHING, "no data yet"),
    ("another run in flight", facts(runs_in_flight=("r1",), new_files=FILES), StepKind.WAIT, "in flight"),
    (
        "first files",
        CycleFacts(retrain=NO_CHAMPION, new_files=FILES),
        StepKind.INGEST,
        "new data (transacciones_w41.parquet)",
    ),
    ("new files, a retrain possible", facts(new_files=FILES), StepKind.INGEST, "new data"),
    (
        "new files within the cooldown",
        facts(new_files=FILES, retrain=COOLING),
        StepKind.INGEST_AND_PREDICT,
        "in the same run",
    ),
    (
        "new files, no champion (inside a cooldown)",
        facts(new_files=FILES, champion_version=None, retrain=RetrainFacts(False, time_since_training=FRESH)),
        StepKind.INGEST,
        "new data",
    ),
    (
        "new files, forced retrain",
        facts(new_files=FILES, retrain=RetrainFacts(True, True, time_since_training=FRESH)),
        StepKind.INGEST,
        "new data",
    ),
    (
        "an ingest stopped after the raw tables",
        facts(raw_event=20, built_event=14),
        StepKind.INGEST,
        "rebuild",
    ),
    ("raw tables but nothing built", facts(raw_event=3, built_event=None), StepKind.INGEST, "rebuild"),
    (
        "no champion",
        facts(champion_version=None, retrain=NO_CHAMPION, latest_batch=None, published_batch_id=None),
        StepKind.TRAIN,
        "no champion",
    ),
    (
        "forced",
        facts(retrain=RetrainFacts(True, forced=True, time_since_training=FRESH)),
        StepKind.TRAIN,
        "forced",
    ),
    (
        "drift on the champion",
        facts(retrain=RetrainFacts(True, drifted_features=2, time_since_training=RECENT)),
        StepKind.TRAIN,
        "drift",
    ),
    (
        "drift within the cooldown",
        facts(retrain=RetrainFacts(True, drifted_features=2, time_since_training=FRESH)),
        StepKind.NOTHING,
        "current",
    ),
    (
        "degradation",
        facts(retrain=RetrainFacts(True, realized_f1=0.3, champion_val_f1=0.6, time_since_training=RECENT)),
        StepKind.TRAIN,
        "degradation",
    ),
    (
        "schedule tick",
        facts(retrain=RetrainFacts(True, scheduled_tick=True, time_since_training=RECENT)),
        StepKind.TRAIN,
        "weekly schedule",
    ),
    (
        "model too old",
        facts(retrain=RetrainFacts(True, time_since_training=timedelta(days=8))),
        StepKind.TRAIN,
        "periodic",
    ),
    (
        "a new target week",
        facts(target_week=WEEK + timedelta(days=7)),
        StepKind.PREDICT,
        "new target week 2024-10-14",
    ),
    (
        "never predicted",
        facts(latest_batch=None, published_batch_id=None),
        StepKind.PREDICT,
        "new target week",
    ),
    (
        "a new champion (trained or promoted by hand)",
        facts(champion_version="3"),
        StepKind.PREDICT,
        "new champion v3 (batch was v2)",
    ),
    (
        "republish: the batch's publish failed",
        facts(published_batch_id="b6"),
        StepKind.REPUBLISH,
        "does not hold the newest batch b7",
    ),
    (
        "republish: the snapshot is missing or unreadable",
        facts(published_batch_id=None),
        StepKind.REPUBLISH,
        "does not hold the newest batch b7",
    ),
    (
        "republish: a challenger lost and the snapshot lacks it",
        facts(unpublished_versions=("3",)),
        StepKind.REPUBLISH,
        "does not list model version(s) v3",
    ),
    (
        "a new week wins over a republish",
        facts(target_week=WEEK + timedelta(days=7), published_batch_id="b6"),
        StepKind.PREDICT,
        "new target week",
    ),
    (
        "more days of the week in progress landed",
        facts(
            data_through=WEEK + timedelta(days=3),
            latest_batch=LatestBatch("b7", WEEK, "2", WEEK + timedelta(days=1)),
        ),
        StepKind.PREDICT,
        "new days of week 2024-10-07 landed (data through 2024-10-10)",
    ),
    (
        "the week in progress, scored with the days known",
        facts(
            data_through=WEEK + timedelta(days=1),
            latest_batch=LatestBatch("b7", WEEK, "2", WEEK + timedelta(days=1)),
        ),
        StepKind.NOTHING,
        "current",
    ),
    ("current", facts(), StepKind.NOTHING, "predictions for 2024-10-07 are current (champion v2)"),
]


@pytest.mark.parametrize(("case", "cycle_facts", "kind", "words"), CASES, ids=[case[0] for case in CASES])
def test_plan_truth_table(case, cycle_facts, kind, words):
    step = plan_next_step(cycle_facts)
    assert step.kind is kind, f"{case}: {step}"
    assert words in step.reason


def test_steps_name_their_job_and_tags():
    assert plan_next_step(facts(new_files=FILES)).job_name == "ingest_job"
    assert plan_next_step(facts(new_files=FILES, retrain=COOLING)).job_name == "weekly_job"
    train = plan_next_step(facts(retrain=RetrainFacts(True, forced=True)))
    assert train.job_name == "train_job" and train.run_tags("cli")["ovni/retrain_reason"].startswith("forced")
    republish = plan_next_step(facts(published_batch_id="b6"))
    assert republish.job_name == "predict_job" and republish.assets == ("serving_snapshot",)
    assert plan_next_step(facts(champion_version="3")).assets is None  # predictions and the snapshot
    assert plan_next_step(facts()).job_name is None and not plan_next_step(facts()).runs_something


def test_the_key_names_the_facts_a_step_answers():
    """The daemon retries one key a bounded number of times: the key changes when the facts do."""
    first = plan_next_step(facts(new_files=FILES))
    assert first.key == plan_next_step(facts(new_files=FILES, raw_event=11)).key
    assert first.key != plan_next_step(facts(new_files=(("transacciones_w42.parquet", "cd" * 32),))).key
    drift = RetrainFacts(True, drifted_features=2, time_since_training=RECENT)
    train = plan_next_step(facts(retrain=drift, evidence="14/15/16/9/2"))
    assert train.key != plan_next_step(facts(retrain=drift, evidence="14/17/16/9/2")).key
    many = Step(StepKind.INGEST, "new data", "ingest:" + "x" * 500)
    assert len(many.key_tag) == 64 and many.run_tags("sensor")["ovni/step_key"] == many.key_tag


def test_a_cycle_from_a_fresh_home_to_served_predictions_follows_the_rules():
    """The sequence `ovni run` executes on first files: ingest, train, predict, then nothing."""
    steps = [
        plan_next_step(CycleFacts(retrain=NO_CHAMPION, new_files=FILES)),
        plan_next_step(CycleFacts(retrain=NO_CHAMPION, raw_event=3, built_event=7, target_week=WEEK)),
        plan_next_step(facts(latest_batch=None, published_batch_id=None, retrain=COOLING)),
        plan_next_step(facts(retrain=COOLING)),
    ]
    assert [step.kind for step in steps] == [
        StepKind.INGEST,
        StepKind.TRAIN,
        StepKind.PREDICT,
        StepKind.NOTHING,
    ]
