"""`decide_retrain`'s truth table, and the facts read back from a real Dagster event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from ovni_assets.monitoring.triggers import (
    RetrainFacts,
    RetrainPolicy,
    decide_retrain,
    retrain_facts_from_instance,
    retrain_ruled_out,
)

POLICY = RetrainPolicy(
    min_drifted_features=1, f1_drop_margin=0.05, cooldown=timedelta(hours=6), max_model_age=timedelta(days=7)
)
FRESH = timedelta(hours=1)  # inside the cooldown
RECENT = timedelta(days=2)  # past the cooldown, not due
OLD = timedelta(days=8)  # due for the periodic retrain


@pytest.mark.parametrize(
    ("facts", "should_retrain", "reason_starts"),
    [
        (RetrainFacts(has_champion=False), True, "no champion"),
        (RetrainFacts(has_champion=False, time_since_training=FRESH), True, "no champion"),
        (RetrainFacts(has_champion=True, forced=True, time_since_training=FRESH), True, "forced"),
        (RetrainFacts(has_champion=True, time_since_training=RECENT), False, "champion healthy"),
        (RetrainFacts(has_champion=True, drifted_features=0, time_since_training=RECENT), False, "champion"),
        (RetrainFacts(has_champion=True, drifted_features=3, time_since_training=RECENT), True, "drift"),
        (RetrainFacts(has_champion=True, drifted_features=3, time_since_training=FRESH), False, "cooldown"),
        (
            RetrainFacts(
                has_champion=True, realized_f1=0.50, champion_val_f1=0.60, time_since_training=RECENT
            ),
            True,
            "degradation",
        ),
        (
            RetrainFacts(
                has_champion=True, realized_f1=0.56, champion_val_f1=0.60, time_since_training=RECENT
            ),
            False,
            "champion healthy",
        ),
        (
            RetrainFacts(
                has_champion=True, realized_f1=0.50, champion_val_f1=0.60, time_since_training=FRESH
            ),
            False,
            "cooldown",
        ),
        (RetrainFacts(has_champion=True, realized_f1=0.50, time_since_training=RECENT), False, "champion"),
        (RetrainFacts(has_champion=True, scheduled_tick=True, time_since_training=RECENT), True, "weekly"),
        (RetrainFacts(has_champion=True, scheduled_tick=True, time_since_training=FRESH), False, "cooldown"),
        (RetrainFacts(has_champion=True, time_since_training=OLD), True, "periodic"),
        (RetrainFacts(has_champion=True), False, "champion healthy"),
    ],
)
def test_decide_retrain_truth_table(facts, should_retrain, reason_starts):
    decision = decide_retrain(facts, POLICY)
    assert decision.should_retrain is should_retrain
    assert decision.reason.startswith(reason_starts), decision.reason


def test_reasons_say_what_was_seen():
    drift = decide_retrain(
        RetrainFacts(
            has_champion=True, drifted_features=4, drift_week="2024-09-30", time_since_training=RECENT
        )
    )
    assert drift.reason == "drift: 4 features drifted in week 2024-09-30"
    waiting = decide_retrain(
        RetrainFacts(has_champion=True, drifted_features=4, time_since_training=FRESH), POLICY
    )
    assert "drift in 4 features waits" in waiting.reason
    degraded = decide_retrain(
        RetrainFacts(has_champion=True, realized_f1=0.4, champion_val_f1=0.6, time_since_training=RECENT)
    )
    assert "0.400" in degraded.reason and "0.600" in degraded.reason


def test_a_stricter_policy_changes_the_answer():
    facts = RetrainFacts(has_champion=True, drifted_features=1, time_since_training=RECENT)
    assert decide_retrain(facts, POLICY).should_retrain
    assert not decide_retrain(facts, RetrainPolicy(min_drifted_features=2)).should_retrain


def report(instance, asset, **metadata):
    instance.report_runless_asset_event(dg.AssetMaterialization(asset, metadata=metadata))


def test_retrain_is_ruled_out_only_when_no_report_could_ask_for_one():
    recent, old = timedelta(hours=1), timedelta(days=2)
    assert retrain_ruled_out(RetrainFacts(has_champion=True, time_since_training=recent))  # cooldown
    assert not retrain_ruled_out(RetrainFacts(has_champion=True, time_since_training=old))  # drift could
    assert not retrain_ruled_out(RetrainFacts(has_champion=False, time_since_training=recent))
    assert not retrain_ruled_out(RetrainFacts(has_champion=True, forced=True, time_since_training=recent))
    assert not retrain_ruled_out(RetrainFacts(has_champion=True))  # never trained: no cooldown
    assert not retrain_ruled_out(
        RetrainFacts(has_champion=True, time_since_training=recent), RetrainPolicy(cooldown=timedelta(0))
    )


def test_facts_from_an_empty_event_log():
    with dg.instance_for_test() as instance:
        facts = retrain_facts_from_instance(instance, champion=None)
    assert facts == RetrainFacts(has_champion=False)
    assert decide_retrain(facts).reason.startswith("no champion")


def test_facts_from_the_latest_materializations():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", champion_version="3", model_version="3")
        report(
            instance, "drift_report", drifted_features=1, reference_model_version="3", week_start="2024-09-23"
        )
        report(
            instance, "drift_report", drifted_features=2, reference_model_version="3", week_start="2024-09-30"
        )
        report(
            instance,
            "prediction_quality",
            latest_f1=0.41,
            latest_model_version="3",
            latest_model_val_f1=0.58,
        )
        later = datetime.now(UTC) + timedelta(days=1)
        facts = retrain_facts_from_instance(instance, champion="3", now=later)
    assert facts.has_champion and not facts.forced and not facts.scheduled_tick
    assert facts.drifted_features == 2 and facts.drift_week == "2024-09-30"
    assert facts.realized_f1 == pytest.approx(0.41) and facts.champion_val_f1 == pytest.approx(0.58)
    assert timedelta(days=1) <= facts.time_since_training < timedelta(days=1, minutes=5)
    assert decide_retrain(facts).reason.startswith("drift")


def test_evidence_about_a_replaced_champion_is_ignored():
    with dg.instance_for_test() as instance:
        report(
            instance, "drift_report", drifted_features=5, reference_model_version="1", week_start="2024-09-30"
        )
        report(
            instance, "prediction_quality", latest_f1=0.1, latest_model_version="1", latest_model_val_f1=0.6
        )
        report(instance, "purchase_model", champion_version="2", model_version="2")
        facts = retrain_facts_from_instance(
            instance, champion="2", forced=True, now=datetime.now(UTC) + timedelta(days=2)
        )
    assert facts.drifted_features is None and facts.realized_f1 is None and facts.champion_val_f1 is None
    assert facts.forced
    assert decide_retrain(facts).reason.startswith("forced")
    assert not decide_retrain(RetrainFacts(**{**facts.__dict__, "forced": False})).should_retrain


def test_no_champion_in_the_registry_means_no_champion():
    with dg.instance_for_test() as instance:
        report(instance, "purchase_model", champion_version="", model_version="1")
        report(instance, "prediction_quality", latest_f1=float("nan"), latest_model_version="")
        facts = retrain_facts_from_instance(instance, champion=None)
    assert not facts.has_champion and facts.time_since_training is not None
    assert facts.realized_f1 is None


def test_evidence_older_than_the_last_training_was_answered_by_it():
    with dg.instance_for_test() as instance:
        report(
            instance, "drift_report", drifted_features=4, reference_model_version="3", week_start="2024-09-30"
        )
        report(instance, "purchase_model", champion_version="3", model_version="4")  # the challenger lost
        later = datetime.now(UTC) + timedelta(days=2)
        facts = retrain_facts_from_instance(instance, champion="3", now=later)
        assert facts.drifted_features is None and not decide_retrain(facts).should_retrain
        report(
            instance, "drift_report", drifted_features=1, reference_model_version="3", week_start="2024-10-07"
        )
        facts = retrain_facts_from_instance(instance, champion="3", now=later)
    assert facts.drifted_features == 1 and decide_retrain(facts).reason.startswith("drift")
