"""`ovni retract BATCH_ID`: take an ingested batch back out, rebuild and republish."""

from __future__ import annotations

import sys

from ovni_assets.cli.run import run_weekly_cycle
from ovni_assets.cycle.in_process import RunFailed, execute_job, open_stores
from ovni_assets.data.retraction import UnknownBatch, retract_batch
from ovni_assets.home import prepare_home
from ovni_assets.keys import TRIGGER_TAG
from ovni_assets.settings import get_settings
from ovni_assets.warehouse import connect, run_lock


def retract_cli(batch_id: str) -> int:
    """Retract the batch under the run lock, rebuild what depends on it (`ingest_job`), score the target
    week again when predictions were withdrawn (`predict_job`, which publishes), then run the weekly cycle.
    Exit code for the CLI."""
    settings = prepare_home(get_settings())
    if not settings.warehouse_path.exists():
        print(f"ovni retract: no warehouse at {settings.warehouse_path}", file=sys.stderr)
        return 1
    with run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds):
        con = connect(settings.warehouse_path, settings)
        try:
            retracted = retract_batch(con, batch_id, settings.landing_dir, settings.quarantine_dir)
        except UnknownBatch as error:
            print(f"ovni retract: {error}", file=sys.stderr)
            return 1
        finally:
            con.close()
    withdrawn = retracted.withdrawn_batches
    print(
        f"ovni retract: batch {retracted.batch_id} ({retracted.kind}, {retracted.rows:,} rows of "
        f"{retracted.file_name}) taken out; kept at {retracted.kept_at}"
        + (
            f"; {len(withdrawn)} prediction batch(es) made since it was ingested withdrawn (kept in "
            "withdrawn_predictions)"
            if withdrawn
            else ""
        )
    )
    try:
        with open_stores(settings) as instance:
            execute_job("ingest_job", instance, settings, tags={TRIGGER_TAG: "retract"}, quiet=True)
            print("ovni retract: clean tables, features and monitoring rebuilt")
            if withdrawn:
                execute_job("predict_job", instance, settings, tags={TRIGGER_TAG: "retract"}, quiet=True)
                print("ovni retract: the target week scored again without the batch, and published")
    except RunFailed as failed:
        print(f"ovni retract: rebuilding after the retraction failed: {failed}", file=sys.stderr)
        return 1
    return run_weekly_cycle(settings)
