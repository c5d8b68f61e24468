"""`ovni held` and `ovni release NAME --reason TEXT`: what quarantine holds, and a person's decision."""

from __future__ import annotations

import json
import sys

from ovni_assets.data.holding import ReleaseRefused, held_files, release_file
from ovni_assets.home import prepare_home
from ovni_assets.settings import get_settings
from ovni_assets.warehouse import connect, run_lock


def held_cli(output_format: str) -> int:
    """Print every held file with when and why it was held, and whether a release can take it."""
    settings = get_settings()
    files = held_files(settings.quarantine_dir)
    if output_format == "json":
        rows = [
            {
                "name": f.name,
                "file": f.original_name,
                "held_at": f.held_at,
                "sha256": f.sha256,
                "releasable": f.releasable,
                "reason": f.reason,
            }
            for f in files
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not files:
        print(f"ovni held: nothing held in {settings.quarantine_dir}")
        return 0
    for f in files:
        then = "release it: ovni release " + f.name + ' --reason "..."' if f.releasable else "not releasable"
        print(f"{f.name}  held {f.held_at or '(time unknown)'}  ({then})\n  {f.reason}")
    print(f"ovni held: {len(files)} file(s) in {settings.quarantine_dir}")
    return 0


def release_cli(name: str, reason: str) -> int:
    """Release a held file under the run lock; exit 0 once it is back in landing/, 1 with one line."""
    settings = prepare_home(get_settings())
    with run_lock(settings.run_lock_path, settings.run_lock_timeout_seconds):
        con = connect(settings.warehouse_path, settings)
        try:
            released = release_file(con, settings.quarantine_dir, settings.landing_dir, name, reason)
        except ReleaseRefused as refused:
            print(f"ovni release: {refused}", file=sys.stderr)
            return 1
        finally:
            con.close()
    print(
        f"ovni release: {released.name} (sha256 {released.sha256[:12]}…) released at "
        f"{released.released_at:%Y-%m-%d %H:%M:%S} UTC and back in landing/; it is taken without the checks "
        "against the data at the next ingest (the daemon's sensor, or `ovni run`)"
    )
    return 0
