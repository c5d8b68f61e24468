"""Whether a run's process is alive, told by a lock that process holds rather than by the run's status.

Every run holds an exclusive `flock` on `<liveness dir>/<run id>.lock` from the start of its execution to
its end (the warehouse resource takes it). The kernel drops a flock when its process dies, however it dies
(`kill -9` included), so a lock file that someone else can lock belongs to a dead run. This works across
processes and containers that share the folder, where pids and host names do not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def lock_path(liveness_dir: Path, run_id: str) -> Path:
    return liveness_dir / f"{run_id}.lock"


@contextlib.contextmanager
def hold_liveness(liveness_dir: Path, run_id: str) -> Iterator[None]:
    """Hold the run's liveness lock for the block; the file is removed when the block ends normally."""
    liveness_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(liveness_dir, run_id)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def is_alive(liveness_dir: Path, run_id: str) -> bool | None:
    """True while the run's process holds its lock, False once it died holding it, None when there is no
    lock file (the run has not reached its execution yet, or ended normally)."""
    path = lock_path(liveness_dir, run_id)
    try:
        handle = path.open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def forget(liveness_dir: Path, run_id: str) -> None:
    """Remove the lock file a dead run left behind."""
    lock_path(liveness_dir, run_id).unlink(missing_ok=True)
