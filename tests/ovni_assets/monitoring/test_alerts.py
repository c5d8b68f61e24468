"""Alerts delivered to a real local webhook receiver and a real local SMTP server, including the receiver
being down, slow or answering 500: delivery is retried, recorded, and never raises."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from ovni_assets.monitoring.alerts import (
    AlertEvent,
    held_file_alert,
    recent_alerts,
    run_failed_alert,
    send_alert,
    training_alerts,
)
from ovni_assets.settings import OvniSettings
from tests.webhook import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_for(tmp_path: Path, **values) -> OvniSettings:
    return OvniSettings(
        home=tmp_path / "home",
        dagster_ui_url="http://dagster.example:3000",
        alert_retry_delay_seconds=0.05,
        alert_timeout_seconds=1.0,
        **values,
    )


def held(settings: OvniSettings, name: str = "transacciones_w41.csv"):
    reason = "units_per_line: far above the recent weeks"
    return held_file_alert(settings, "run-1", name, reason, "ab" * 32, "units_per_line")


def test_a_held_file_reaches_the_webhook_with_text_and_fields(tmp_path, receiver):
    settings = settings_for(tmp_path, alert_webhook_url=receiver.url)
    record = send_alert(settings, held(settings))
    assert record["status"] == "sent" and record["deliveries"] == {"webhook": "ok"}
    (body,) = receiver.bodies
    assert body["text"].startswith("[OVNI] Landed file transacciones_w41.csv was held in quarantine")
    assert body["event"] == "file_held" and body["file"] == "transacciones_w41.csv"
    assert body["check"] == "units_per_line"
    assert (
        body["home"] == str(settings.home) and body["dagster_run"] == "http://dagster.example:3000/runs/run-1"
    )
    assert recent_alerts(settings.home)[0]["status"] == "sent"


def test_one_alert_per_event_within_the_cooldown(tmp_path, receiver):
    settings = settings_for(tmp_path, alert_webhook_url=receiver.url, alert_cooldown_seconds=3600)
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert send_alert(settings, held(settings), now=now)["status"] == "sent"
    assert send_alert(settings, held(settings), now=now + timedelta(minutes=5))["status"] == "suppressed"
    assert send_alert(settings, held(settings, "other.csv"), now=now)["status"] == "sent"  # another subject
    assert send_alert(settings, held(settings), now=now + timedelta(hours=2))["status"] == "sent"
    assert len(receiver.bodies) == 3


def test_a_run_that_held_a_file_does_not_alert_twice(tmp_path, receiver):
    settings = settings_for(tmp_path, alert_webhook_url=receiver.url)
    send_alert(settings, held(settings))
    failed = run_failed_alert(settings, "run-1", "ingest_job", "rejected transacciones_w41.csv: …")
    assert send_alert(settings, failed)["status"] == "covered by file_held"
    other = run_failed_alert(settings, "run-2", "train_job", "out of memory")
    assert send_alert(settings, other)["status"] == "sent"
    assert [body["event"] for body in receiver.bodies] == ["file_held", "run_failed"]


@pytest.mark.parametrize("failure", ["down", "slow", "500"])
def test_a_receiver_that_fails_is_retried_recorded_and_never_raises(tmp_path, failure):
    receiver = Receiver(status=500 if failure == "500" else 200, delay=3.0 if failure == "slow" else 0.0)
    url = receiver.url
    if failure == "down":
        receiver.close()
    try:
        settings = settings_for(tmp_path, alert_webhook_url=url, alert_retries=2)
        started = time.monotonic()
        record = send_alert(settings, held(settings))
        elapsed = time.monotonic() - started
    finally:
        if failure != "down":
            receiver.close()
    assert record["status"] == "failed"
    expected = {"down": "URLError", "slow": "timed out", "500": "HTTP Error 500"}[failure]
    assert expected in record["deliveries"]["webhook"], record
    if failure != "down":
        assert len(receiver.bodies) == 3  # the first try and two retries
    assert elapsed < 3 * settings.alert_timeout_seconds + 2  # bounded: timeouts, not the receiver's pace
    assert recent_alerts(settings.home)[0]["status"] == "failed"
    # a failed delivery does not count for the cooldown: the next one tries again
    assert send_alert(settings, held(settings))["status"] == "failed"


def test_email_through_a_real_smtp_server(tmp_path, smtp):
    controller, mailbox = smtp
    settings = settings_for(
        tmp_path,
        alert_smtp_host="127.0.0.1",
        alert_smtp_port=controller.port,
        alert_smtp_from="ovni@distribuidora.example",
        alert_smtp_to="ventas@distribuidora.example, ops@distribuidora.example",
    )
    record = send_alert(settings, held(settings))
    assert record["deliveries"] == {"email": "ok"}
    ((recipients, content),) = mailbox.messages
    assert recipients == ["ventas@distribuidora.example", "ops@distribuidora.example"]
    assert "Subject: [OVNI] file held: transacciones_w41.csv" in content
    assert "units_per_line: far above the recent weeks" in content and "check: units_per_line" in content
    assert "dagster_run: http://dagster" in content


def test_email_to_a_server_that_is_down_fails_alone(tmp_path, receiver):
    settings = settings_for(
        tmp_path,
        alert_webhook_url=receiver.url,
        alert_smtp_host="127.0.0.1",
        alert_smtp_port=free_port(),
        alert_smtp_to="ops@distribuidora.example",
        alert_retries=1,
    )
    record = send_alert(settings, held(settings))
    assert record["status"] == "partly sent" and record["deliveries"]["webhook"] == "ok"
    assert "ConnectionRefusedError" in record["deliveries"]["email"]


def test_without_a_channel_the_alert_is_still_recorded(tmp_path):
    settings = settings_for(tmp_path)
    assert send_alert(settings, held(settings))["status"] == "no channel"
    assert recent_alerts(settings.home)[0]["event"] == "file_held"


def test_what_a_training_tells(tmp_path):
    settings = settings_for(tmp_path)
    drift = training_alerts(settings, "r", "drift: 4 features drifted in week 2024-09-30", "7", True, "6")
    assert [a.event for a in drift] == [AlertEvent.RETRAIN_TRIGGERED, AlertEvent.CHAMPION_CHANGED]
    assert "was version 6" in drift[1].text
    degraded = training_alerts(settings, "r", "degradation: realized F1 0.41 < …", "8", False, "7")
    assert [a.event for a in degraded] == [AlertEvent.QUALITY_DROPPED]
    assert training_alerts(settings, "r", "weekly schedule (fallback retrain)", "9", False, "7") == []
