"""`ovni promote VERSION`: move the champion alias by hand (rollback or forward)."""

from __future__ import annotations

import sys

from ovni_assets.home import prepare_home
from ovni_assets.keys import PREVIOUS_CHAMPION_TAG, PROMOTION_REASON_TAG
from ovni_assets.model.registry import (
    champion_version,
    client_for,
    missing_tags,
    move_champion,
    registered_versions,
    write_model_versions,
)
from ovni_assets.monitoring.alerts import manual_promotion_alert, send_alert
from ovni_assets.monitoring.triggers import MANUAL_PROMOTION_REASON
from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME, get_settings
from ovni_assets.warehouse import connect, run_lock


def promote_cli(version: str) -> int:
    """`ovni promote VERSION`: move the champion alias by hand (rollback or forward). Exit code."""
    settings = prepare_home(get_settings())
    client = client_for(settings)
    every = {str(v.version): v for v in registered_versions(client, complete_only=False)}
    known = {number: v for number, v in every.items() if not missing_tags(v)}
    if str(version) in every and str(version) not in known:
        print(
            f"ovni promote: version {version} of {MODEL_NAME} is half-made (its training stopped before "
            f"tagging it: no {', '.join(missing_tags(every[str(version)]))}); it cannot be champion",
            file=sys.stderr,
        )
        return 1
    if str(version) not in known:
        listing = ", ".join(sorted(known, key=int)) or "none registered yet"
        print(
            f"ovni promote: unknown version {version!r} of {MODEL_NAME} (versions: {listing})",
            file=sys.stderr,
        )
        return 1
    current = champion_version(client)
    if current is not None and str(current.version) == str(version):
        print(f"ovni promote: version {version} is already the champion")
        return 0
    previous = move_champion(client, version)
    client.set_model_version_tag(MODEL_NAME, str(version), PROMOTION_REASON_TAG, MANUAL_PROMOTION_REASON)
    with run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds):
        con = connect(settings.warehouse_path, settings)
        try:
            write_model_versions(con, client)
        finally:
            con.close()
    moved = f"{MODEL_NAME}@{CHAMPION_ALIAS} -> version {version}" + (
        f" (was {previous}, tagged {PREVIOUS_CHAMPION_TAG})" if previous else ""
    )
    send_alert(settings, manual_promotion_alert(str(version), previous))
    try:
        _record_in_dagster(str(version), str(current.version) if current else None)
    except Exception as error:  # the alias moved, which is what the cycle reads; only the record is lost
        print(f"ovni promote: {moved}; recording it in Dagster's event log failed: {error}", file=sys.stderr)
        return 0
    print(
        f"ovni promote: {moved}; the target week is scored with it by the daemon's cycle_sensor under "
        "`ovni up`, otherwise by the next `ovni run`"
    )
    return 0


def _record_in_dagster(version: str, previous: str | None) -> None:
    """An observation of `purchase_model` in the OVNI Dagster instance, so the promotion shows in the asset's
    history (imported here: `ovni promote` of a version that does not exist needs no dagster)."""
    import dagster as dg

    from ovni_assets.monitoring.triggers import report_manual_promotion

    with dg.DagsterInstance.get() as instance:
        report_manual_promotion(instance, version, previous)
