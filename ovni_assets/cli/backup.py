"""`ovni backup DIR` and `ovni restore DIR`: a whole home copied out while it runs, and put back."""

from __future__ import annotations

import sys
from pathlib import Path

from ovni_assets.backup import BackupError, find_backup, restore_backup, write_backup
from ovni_assets.settings import get_settings


def backup_cli(directory: str, keep: int | None) -> int:
    """`ovni backup DIR`: exit 0 with the new backup's path, or 1 with one line on stderr."""
    settings = get_settings()
    try:
        info = write_backup(
            settings,
            Path(directory),
            keep if keep is not None else settings.backup_keep,
            on_wait=lambda: print("ovni backup: waiting for the running OVNI run to finish", flush=True),
        )
    except BackupError as error:
        print(f"ovni backup: {error}", file=sys.stderr)
        return 1
    served = info.served
    serving = (
        f"serving week {served['target_week']} (batch {served['batch_id']}, model version "
        f"{served['model_version']})"
        if served
        else "nothing published yet"
    )
    removed = (
        f"; removed {len(info.removed)} older (keeping {keep or settings.backup_keep})"
        if info.removed
        else ""
    )
    print(
        f"ovni backup: {info.path} complete and verified: {info.files} files, "
        f"{info.bytes / 1e6:,.1f} MB, {serving}{removed}"
    )
    return 0


def restore_cli(source: str, name: str | None) -> int:
    """`ovni restore DIR [--backup NAME]`: exit 0 once the home is restored, or 1 with one line on stderr."""
    from ovni_assets.home import prepare_home

    settings = get_settings()
    try:
        backup = find_backup(Path(source), name)
        manifest = restore_backup(settings, backup)
    except BackupError as error:
        print(f"ovni restore: {error}; nothing was restored", file=sys.stderr)
        return 1
    prepare_home(settings)
    if manifest["mlflow_store"] == "home" and settings.mlflow_tracking_uri is None:
        from ovni_assets.model.registry import ensure_experiment

        ensure_experiment(settings)  # artifact locations recorded under the old home now point here
    served = manifest["served"]
    serving = (
        f"it serves week {served['target_week']} (batch {served['batch_id']}, model version "
        f"{served['model_version']}) as at backup time"
        if served
        else "it had nothing published yet"
    )
    print(
        f"ovni restore: {backup.name} (taken {manifest['created_at']}) restored into "
        f"{settings.home}; {serving}"
    )
    return 0
