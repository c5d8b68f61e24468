"""`backup_job`: `ovni backup` as a Dagster run, from the Launchpad or the daily `backup_schedule`."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from ovni_assets.backup import write_backup
from ovni_assets.settings import OvniSettings


class BackupConfig(dg.Config):
    """Where to write and how many to keep; the defaults are the settings'."""

    directory: str = Field(
        default="", description="Backup directory outside OVNI_HOME; empty: OVNI_BACKUP_DIR."
    )
    keep: int = Field(default=0, ge=0, description="Complete backups to keep; 0: OVNI_BACKUP_KEEP.")


@dg.op(description="A complete, verified backup of OVNI_HOME (waits for a running pipeline run).")
def home_backup(
    context: dg.OpExecutionContext, config: BackupConfig, settings: dg.ResourceParam[OvniSettings]
) -> dg.Output[str]:
    directory = config.directory or (str(settings.backup_dir) if settings.backup_dir else "")
    if not directory:
        raise dg.Failure("no backup directory: give `directory` in the run config or set OVNI_BACKUP_DIR")
    info = write_backup(
        settings,
        Path(directory),
        config.keep or settings.backup_keep,
        on_wait=lambda: context.log.info("waiting for the running pipeline run to release the warehouse"),
    )
    return dg.Output(
        str(info.path),
        metadata={
            "backup": dg.MetadataValue.path(str(info.path)),
            "files": info.files,
            "megabytes": round(info.bytes / 1e6, 1),
            "served_week": info.served.get("target_week", ""),
            "served_batch": info.served.get("batch_id", ""),
            "removed_by_retention": len(info.removed),
        },
    )


@dg.job(description="Back up the whole OVNI_HOME: warehouse, snapshot, MLflow, Dagster, landing, quarantine.")
def backup_job():
    home_backup()


def backup_schedules(settings: OvniSettings) -> list[dg.ScheduleDefinition]:
    """`backup_schedule` (running) once OVNI_BACKUP_DIR is set; none otherwise."""
    if settings.backup_dir is None:
        return []
    return [
        dg.ScheduleDefinition(
            name="backup_schedule",
            job=backup_job,
            cron_schedule=settings.backup_cron,
            execution_timezone=settings.timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=f"`ovni backup` into {settings.backup_dir} (OVNI_BACKUP_DIR), keeping the newest "
            f"{settings.backup_keep}.",
        )
    ]
