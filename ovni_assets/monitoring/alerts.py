"""Alerts: someone is told when OVNI needs a person (a file held, a run failed, the champion changed...).

Two channels, each optional: a JSON POST to `OVNI_ALERT_WEBHOOK_URL` whose `text` field Slack- and
Teams-style incoming webhooks show as is, with the structured fields beside it; and an email through SMTP
(`OVNI_ALERT_SMTP_*`, the standard library). One alert per event: the same event about the same subject
within `OVNI_ALERT_COOLDOWN_SECONDS` is recorded as suppressed, not sent again. Delivery is retried with
backoff and never raises: a receiver that is down, slow or answering 500 costs the pipeline at most the
retries' time, and the failure is recorded in `$OVNI_HOME/alerts.jsonl`, where the API's `/alerts` (and so the
page) reads it. No dagster or mlflow import here.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import smtplib
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path

from ovni_assets.settings import OvniSettings

ALERTS_FILE = "alerts.jsonl"


class AlertEvent(StrEnum):
    FILE_HELD = "file_held"
    RUN_FAILED = "run_failed"
    RETRAIN_TRIGGERED = "retrain_triggered"
    CHAMPION_CHANGED = "champion_changed"
    DATA_STALE = "data_stale"
    QUALITY_DROPPED = "quality_dropped"


@dataclass(frozen=True)
class Alert:
    event: AlertEvent
    subject: str  # what the event is about (a file, a run, a version): the cooldown is per event and subject
    text: str  # one or two sentences a person can act on
    fields: dict = field(default_factory=dict)

    def payload(self, settings: OvniSettings, at: datetime) -> dict:
        return {
            "text": f"[OVNI] {self.text}",
            "event": str(self.event),
            "subject": self.subject,
            "at": at.isoformat(timespec="seconds"),
            "home": str(settings.home),
            **self.fields,
        }


def dagster_run_link(settings: OvniSettings, run_id: str) -> str:
    return f"{settings.dagster_ui_url}/runs/{run_id}"


def send_alert(settings: OvniSettings, alert: Alert, now: datetime | None = None) -> dict:
    """Deliver `alert` on every configured channel unless the same one was sent within the cooldown; the
    record written to `alerts.jsonl` (with each channel's outcome). Never raises."""
    at = now or datetime.now(UTC)
    try:
        with _alert_log(settings) as log:
            record = {
                "at": at.isoformat(timespec="seconds"),
                "event": str(alert.event),
                "subject": alert.subject,
            }
            record.update(text=alert.text, run_id=alert.fields.get("run_id", ""))
            if _sent_recently(log, alert, at, settings.alert_cooldown_seconds):
                record["status"] = "suppressed"
            elif alert.event is AlertEvent.RUN_FAILED and _held_file_in_run(log, record["run_id"]):
                record["status"] = "covered by file_held"
            elif not settings.alert_webhook_url and not settings.alert_smtp_host:
                record["status"] = "no channel"
            else:
                record["deliveries"] = _deliver(settings, alert.payload(settings, at))
                ok = [outcome == "ok" for outcome in record["deliveries"].values()]
                record["status"] = "sent" if all(ok) else "partly sent" if any(ok) else "failed"
            log.write(json.dumps(record) + "\n")
            return record
    except OSError as error:  # the home itself is not writable: the alert is all we could not keep
        return {"event": str(alert.event), "subject": alert.subject, "status": f"not recorded: {error}"}


def recent_alerts(home: Path, limit: int = 50) -> list[dict]:
    """The newest `limit` alert records, newest first."""
    path = home / ALERTS_FILE
    if not path.exists():
        return []
    lines = path.read_text().splitlines()[-limit:]
    records = []
    for line in reversed(lines):
        with contextlib.suppress(ValueError):
            records.append(json.loads(line))
    return records


def _deliver(settings: OvniSettings, payload: dict) -> dict[str, str]:
    outcomes = {}
    if settings.alert_webhook_url:
        outcomes["webhook"] = _with_retries(settings, lambda: _post_webhook(settings, payload))
    if settings.alert_smtp_host:
        outcomes["email"] = _with_retries(settings, lambda: _send_email(settings, payload))
    return outcomes


def _with_retries(settings: OvniSettings, attempt) -> str:
    """'ok', or the last error in one line after `alert_retries` more tries with doubling delays."""
    delay = settings.alert_retry_delay_seconds
    for tries_left in range(settings.alert_retries, -1, -1):
        try:
            attempt()
            return "ok"
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as error:
            last = _one_line(error)
        if tries_left:
            time.sleep(delay)
            delay *= 2
    return last


def _post_webhook(settings: OvniSettings, payload: dict) -> None:
    request = urllib.request.Request(
        settings.alert_webhook_url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "ovni-alerts"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=settings.alert_timeout_seconds) as response:
        response.read(1 << 16)


def _send_email(settings: OvniSettings, payload: dict) -> None:
    message = EmailMessage()
    message["Subject"] = f"[OVNI] {payload['event'].replace('_', ' ')}: {payload['subject']}"
    message["From"] = settings.alert_smtp_from or f"ovni@{socket.getfqdn()}"
    message["To"] = ", ".join(settings.alert_recipients)
    details = "\n".join(f"{key}: {value}" for key, value in payload.items() if key != "text")
    message.set_content(f"{payload['text']}\n\n{details}\n")
    with smtplib.SMTP(
        settings.alert_smtp_host, settings.alert_smtp_port, timeout=settings.alert_timeout_seconds
    ) as smtp:
        if settings.alert_smtp_starttls:
            smtp.starttls()
        if settings.alert_smtp_user:
            smtp.login(settings.alert_smtp_user, settings.alert_smtp_password or "")
        smtp.send_message(message)


def _sent_recently(log, alert: Alert, at: datetime, cooldown_seconds: float) -> bool:
    log.seek(0)
    for line in log:
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(line)
            if (
                record["event"] == str(alert.event)
                and record["subject"] == alert.subject
                and record.get("status") in ("sent", "partly sent")
                and (at - datetime.fromisoformat(record["at"])).total_seconds() < cooldown_seconds
            ):
                return True
    return False


def _held_file_in_run(log, run_id: str) -> bool:
    """Whether the failed run already alerted that it held a file: that alert told the story."""
    log.seek(0)
    for line in log:
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(line)
            if record["event"] == AlertEvent.FILE_HELD and record.get("run_id") == run_id:
                return True
    return False


@contextlib.contextmanager
def _alert_log(settings: OvniSettings) -> Iterator:
    """`alerts.jsonl` open for reading and appending, locked: two processes alerting at once (a sensor, a
    run) neither both send nor mix their lines."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with (settings.home / ALERTS_FILE).open("a+") as log:
        fcntl.flock(log, fcntl.LOCK_EX)
        try:
            yield log
        finally:
            log.flush()
            fcntl.flock(log, fcntl.LOCK_UN)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


def held_file_alert(
    settings: OvniSettings, run_id: str, file_name: str, reason: str, sha256: str, check: str | None = None
) -> Alert:
    """`check`: the check against the data that held the file (`ovni release` can take it), if one did."""
    return Alert(
        AlertEvent.FILE_HELD,
        f"{file_name} ({sha256[:12]})",
        f"Landed file {file_name} was held in quarantine: {reason}. Nothing served changed. `ovni held` "
        "lists it; if the data is right after all, `ovni release` takes it with your reason.",
        {
            "file": file_name,
            "reason": reason,
            "check": check or "",
            "sha256": sha256,
            "run_id": run_id,
            "dagster_run": dagster_run_link(settings, run_id),
        },
    )


def run_failed_alert(settings: OvniSettings, run_id: str, job: str, reason: str) -> Alert:
    return Alert(
        AlertEvent.RUN_FAILED,
        run_id,
        f"Run of {job} failed: {reason}",
        {"job": job, "reason": reason, "run_id": run_id, "dagster_run": dagster_run_link(settings, run_id)},
    )


def stale_data_alert(settings: OvniSettings, run_id: str, served_week: str, reason: str) -> Alert:
    return Alert(
        AlertEvent.DATA_STALE,
        f"week {served_week}",
        f"The served predictions are stale: {reason}.",
        {"served_week": served_week, "run_id": run_id, "dagster_run": dagster_run_link(settings, run_id)},
    )


def manual_promotion_alert(version: str, previous: str | None) -> Alert:
    was = f" (was version {previous})" if previous else ""
    return Alert(
        AlertEvent.CHAMPION_CHANGED,
        f"version {version}",
        f"Model version {version} was made champion by hand with `ovni promote`{was}.",
        {"version": version, "previous": previous or "", "by_hand": True},
    )


def training_alerts(
    settings: OvniSettings,
    run_id: str,
    retrain_reason: str,
    version: str,
    promoted: bool,
    previous: str | None,
) -> list[Alert]:
    """What a training tells a person: why it was triggered (drift, or the realized F1 dropped) and whether
    the champion changed."""
    link = {"run_id": run_id, "dagster_run": dagster_run_link(settings, run_id)}
    alerts = []
    if retrain_reason.startswith("drift"):
        alerts.append(
            Alert(AlertEvent.RETRAIN_TRIGGERED, run_id, f"Retraining triggered by {retrain_reason}.", link)
        )
    elif retrain_reason.startswith("degradation"):
        alerts.append(
            Alert(AlertEvent.QUALITY_DROPPED, run_id, f"Retraining triggered: {retrain_reason}.", link)
        )
    if promoted:
        was = f" (was version {previous})" if previous else " (the first champion)"
        alerts.append(
            Alert(
                AlertEvent.CHAMPION_CHANGED,
                f"version {version}",
                f"Model version {version} is the new champion{was}: it beat the champion on validation.",
                {**link, "version": version, "previous": previous or ""},
            )
        )
    return alerts
