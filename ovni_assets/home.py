"""The folders under OVNI_HOME and the Dagster instance OVNI keeps there (`dagster.yaml`, DAGSTER_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

from ovni_assets.settings import OvniSettings

DAGSTER_YAML = """\
# Written by OVNI (ovni_assets.home). CLI runs, sensor runs and UI runs share this instance.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # DuckDB has one writer: runs launched by the daemon go one at a time.
    max_concurrent_runs: 1
# Run monitoring (in the daemon) asks OvniRunLauncher whether a run's process is alive: a run whose
# process died is marked failed and frees the queue.
run_launcher:
  module: ovni_assets.defs.run_launcher
  class: OvniRunLauncher
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 20
  max_resume_run_attempts: 0
run_retries:
  enabled: true
  max_retries: 0
telemetry:
  enabled: false
# No "Join the Dagster community" sign-up dialog over the first page of the Dagster UI.
nux:
  enabled: false
"""


def prepare_home(settings: OvniSettings) -> OvniSettings:
    """Create the folders under OVNI_HOME, write `dagster.yaml` and point DAGSTER_HOME at it.

    A deployment that sets DAGSTER_HOME elsewhere (docker-compose, Kubernetes) keeps its own instance.
    """
    for folder in (
        settings.landing_dir,
        settings.quarantine_dir,
        settings.mlartifacts_dir,
        settings.dagster_home,
    ):
        folder.mkdir(parents=True, exist_ok=True)
    external = os.environ.get("DAGSTER_HOME")
    if external and Path(external).resolve() != settings.dagster_home:
        return settings
    dagster_yaml = settings.dagster_home / "dagster.yaml"
    if not dagster_yaml.exists() or dagster_yaml.read_text() != DAGSTER_YAML:
        dagster_yaml.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return settings
