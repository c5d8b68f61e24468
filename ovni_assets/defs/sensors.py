"""Sensors that watch the outside world: new files in the landing zone, and failed runs."""

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from ovni_assets.data.ingestion import file_sha256, is_settled, known_hashes, landing_paths
from ovni_assets.defs.errors import one_line_reason
from ovni_assets.defs.jobs import ingest_job
from ovni_assets.monitoring.run_failures import record_run_failure
from ovni_assets.settings import get_settings


def landing_fingerprints(landing_dir: Path, settle_seconds: float) -> dict[str, list[int]]:
    """{file name: [size, mtime_ns]} of every settled landing file (cheap: no reads). A file modified
    within `settle_seconds` is left out, so a later tick sees it as new once it has settled."""
    found = {}
    for path in landing_paths(landing_dir):
        stat = path.stat()
        if is_settled(stat.st_mtime_ns, settle_seconds):
            found[path.name] = [stat.st_size, stat.st_mtime_ns]
    return found


def ingested_hashes(warehouse_path: Path) -> set[str] | None:
    """sha256 of every file in the warehouse's `ingested_files`; None when a run holds the warehouse (one
    read-only attempt: a sensor tick must not wait)."""
    if not warehouse_path.exists():
        return set()
    try:
        con = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.IOException:
        return None
    try:
        return known_hashes(con)
    finally:
        con.close()


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts an ingest run when a new or changed file in the landing zone has settled (not "
    "modified for OVNI_LANDING_SETTLE_SECONDS), unless its bytes are already in `ingested_files` (e.g. "
    "`ovni run` ingested it before the daemon started).",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    settings = get_settings()
    current = landing_fingerprints(settings.landing_dir, settings.landing_settle_seconds)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(name for name, fingerprint in current.items() if previous.get(name) != fingerprint)
    if not changed:
        return dg.SkipReason(f"No new files in {settings.landing_dir}")
    known = ingested_hashes(settings.warehouse_path)
    if known:
        changed = [name for name in changed if file_sha256(settings.landing_dir / name) not in known]
    cursor = json.dumps(current, sort_keys=True)
    if not changed:
        return dg.SensorResult(
            skip_reason="New or changed files hold bytes already ingested: nothing to do.", cursor=cursor
        )
    run_key = hashlib.sha256(
        json.dumps({n: current[n] for n in changed}, sort_keys=True).encode()
    ).hexdigest()
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key, tags={"ovni/trigger": "landing", "ovni/files": ",".join(changed)[:200]}
            )
        ],
        cursor=cursor,
    )


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run with its reason: a run tag shown in the runs list and a line in "
    "$OVNI_HOME/run_failures.jsonl.",
)
def run_failure_recorder(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    if step_failures:
        reason = one_line_reason(step_failures[0].event_specific_data.error)
    else:
        reason = context.failure_event.message or "unknown reason"
    record_run_failure(get_settings(), run.run_id, run.job_name, reason)
    context.instance.add_run_tags(run.run_id, {"ovni/failure_reason": reason[:1000]})
    context.log.info(f"Run {run.run_id} ({run.job_name}) failed: {reason}")


ALL_SENSORS = [landing_sensor, run_failure_recorder]
