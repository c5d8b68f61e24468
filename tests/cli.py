"""The `ovni` command as a child process, run the way a user runs it but on the test's own home.

Every test that starts `ovni` goes through here, so each child sees the same environment: the home it is
given, one trial of the hyperparameter search (the default parameters: the same model on any machine), the
permutation importance on a small sample of the validation rows, and DAGSTER_HOME left for the CLI to derive
from OVNI_HOME unless a test sets it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

OVNI = str(Path(sys.executable).with_name("ovni"))
SHOWN_CHARACTERS = 4000
# Every training measures the importance (tests check it is logged), on fewer rows than a real home does.
IMPORTANCE_SAMPLE_ROWS = "1000"


def ovni_env(home: Path, env: Mapping[str, str] | None = None, *, inherit: bool = True) -> dict[str, str]:
    """The environment of an `ovni` child for `home`: this process's (none of it unless `inherit`), the
    quick search and importance, then `env` on top."""
    base = dict(os.environ) if inherit else {}
    base.pop("DAGSTER_HOME", None)
    return {
        **base,
        "OVNI_HOME": str(home),
        "OVNI_HPO_SECONDS": "2",
        "OVNI_HPO_MAX_TRIALS": "1",
        "OVNI_IMPORTANCE_SAMPLE_ROWS": IMPORTANCE_SAMPLE_ROWS,
        **(env or {}),
    }


def _tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (text or "")[-SHOWN_CHARACTERS:]


def _printed(command: str, stdout: str | bytes | None, stderr: str | bytes | None) -> str:
    return f"{command}\n--- stdout ---\n{_tail(stdout)}\n--- stderr ---\n{_tail(stderr)}"


def run_ovni(
    home: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    inherit: bool = True,
    timeout: float = 900,
    expect: int | None = 0,
) -> subprocess.CompletedProcess[str]:
    """Run `ovni ARGS` for `home` to its end and return what it printed.

    The test fails, showing both output streams, when the command is still running after `timeout` seconds
    or exits with another code than `expect` (None accepts any: the test looks at the code itself).
    """
    command = f"ovni {' '.join(args)} (OVNI_HOME={home})"
    try:
        done = subprocess.run(
            [OVNI, *args],
            env=ovni_env(home, env, inherit=inherit),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(_printed(f"{command} still running after {timeout:g} s", expired.stdout, expired.stderr))
    if expect is not None and done.returncode != expect:
        pytest.fail(_printed(f"{command} exited {done.returncode}, not {expect}", done.stdout, done.stderr))
    return done
