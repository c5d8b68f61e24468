"""`release_job`: `ovni release` from the Dagster UI (the Launchpad, with the file and the reason)."""

import dagster as dg
from pydantic import Field

from ovni_assets.data.holding import ReleaseRefused, release_file
from ovni_assets.defs.resources import WarehouseResource
from ovni_assets.settings import OvniSettings


class ReleaseConfig(dg.Config):
    """Which held file, and why the data is right after all."""

    file: str = Field(description="Its name in quarantine/ (as `ovni held` lists it) or its landed name.")
    reason: str = Field(description="Why it may be taken; kept in `released_files` with the file's hash.")


@dg.op(description="Record the release of a held file and move it back to landing/ for the next ingest.")
def release_held_file(
    config: ReleaseConfig, warehouse: WarehouseResource, settings: dg.ResourceParam[OvniSettings]
) -> dg.Output[str]:
    with warehouse.get_connection() as con:
        try:
            released = release_file(
                con, settings.quarantine_dir, settings.landing_dir, config.file, config.reason
            )
        except ReleaseRefused as refused:
            raise dg.Failure(description=str(refused), allow_retries=False) from None
    return dg.Output(
        released.name,
        metadata={
            "file": released.name,
            "sha256": released.sha256,
            "released_at": released.released_at.isoformat(),
            "reason": " ".join(config.reason.split()),
        },
    )


@dg.job(
    description="Take a held file on purpose (what `ovni release` does): the next ingest run takes it "
    "without the checks against the data. `ovni held` lists the held files and their reasons."
)
def release_job():
    release_held_file()
