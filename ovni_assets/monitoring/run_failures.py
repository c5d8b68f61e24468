"""A plain record of failed pipeline runs, readable without the Dagster UI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ovni_assets.settings import OvniSettings


def record_run_failure(settings: OvniSettings, run_id: str, job_name: str, reason: str) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    line = {"at": datetime.now(UTC).isoformat(), "run_id": run_id, "job": job_name, "reason": reason}
    with (settings.home / "run_failures.jsonl").open("a") as handle:
        handle.write(json.dumps(line) + "\n")


def recent_run_failures(settings: OvniSettings, limit: int = 20) -> list[dict]:
    path = settings.home / "run_failures.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()[-limit:] if line.strip()]
