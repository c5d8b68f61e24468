"""Failed pipeline runs, recorded once whoever finds them (the daemon's run-failure sensor, or `ovni run`
failing the dead runs of its instance): the reason as a run tag, a line in `$OVNI_HOME/run_failures.jsonl`
readable without the Dagster UI, the MLflow run a dead training left RUNNING ended (KILLED), and an alert.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ovni_assets.keys import FAILURE_REASON_TAG
from ovni_assets.monitoring.alerts import run_failed_alert, send_alert
from ovni_assets.settings import OvniSettings

if TYPE_CHECKING:
    import dagster as dg


def record_failed_run(
    instance: dg.DagsterInstance, settings: OvniSettings, run: dg.DagsterRun, reason: str
) -> bool:
    """Record `run`'s failure, unless it was recorded already (False then)."""
    from ovni_assets.model.registry import end_interrupted_runs  # mlflow: only when a run failed

    current = instance.get_run_by_id(run.run_id) or run
    if FAILURE_REASON_TAG in current.tags:
        return False
    settings.home.mkdir(parents=True, exist_ok=True)
    line = {"at": datetime.now(UTC).isoformat(), "run_id": run.run_id, "job": run.job_name, "reason": reason}
    with (settings.home / "run_failures.jsonl").open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    end_interrupted_runs(settings, run.run_id)
    instance.add_run_tags(run.run_id, {FAILURE_REASON_TAG: reason[:1000]})
    send_alert(settings, run_failed_alert(settings, run.run_id, run.job_name, reason))
    return True


def recent_run_failures(settings: OvniSettings, limit: int = 20) -> list[dict]:
    path = settings.home / "run_failures.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()[-limit:] if line.strip()]
