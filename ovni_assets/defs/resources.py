"""Dagster resources: the DuckDB warehouse (one writer per run) and MLflow tracking (typed, configurable)."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import mlflow
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from ovni_assets.cycle import liveness
from ovni_assets.keys import DAGSTER_RUN_ID_TAG
from ovni_assets.settings import OvniSettings, settings_from
from ovni_assets.warehouse import open_duckdb, run_lock


class WarehouseResource(DuckDBResource):
    """DuckDBResource on `warehouse.duckdb` that holds the run lock for the whole run.

    Jobs use the in-process executor, so the resource is set up once per run: two runs (CLI, sensor,
    UI) never write at the same time; the second waits for the first and then proceeds. Before waiting,
    the run takes its liveness lock, which tells run monitoring and `ovni run` that its process is alive.
    """

    lock_path: str
    lock_timeout_seconds: float = 3600.0
    liveness_dir: str | None = None
    memory_limit: str
    temp_directory: str
    _held: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        def on_wait() -> None:
            if context.log is not None:
                context.log.info(f"Waiting for another OVNI run to release {self.lock_path}")

        stack = contextlib.ExitStack()
        if self.liveness_dir and context.run_id:
            stack.enter_context(liveness.hold_liveness(Path(self.liveness_dir), context.run_id))
        stack.enter_context(run_lock(Path(self.lock_path), self.lock_timeout_seconds, on_wait))
        self._held = stack

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection that is closed even when the asset fails (DuckDBResource's is not)."""
        con = open_duckdb(Path(self.database), self.memory_limit, Path(self.temp_directory))
        try:
            yield con
        finally:
            con.close()


def warehouse_resource(settings: OvniSettings) -> WarehouseResource:
    return WarehouseResource(
        database=str(settings.warehouse_path),
        lock_path=str(settings.run_lock_path),
        lock_timeout_seconds=settings.run_lock_timeout_seconds,
        liveness_dir=str(settings.run_liveness_dir),
        memory_limit=settings.duckdb_memory_limit,
        temp_directory=str(settings.duckdb_temp_dir),
    )


class MlflowTracking(dg.ConfigurableResource):
    """OVNI's MLflow tracking store and experiment; `training_run` is the MLflow run of one training.

    Its config is the settings it needs (`mlflow_resource` fills it from `OvniSettings`); it reads no
    environment, so it serves any home it is configured for. The experiment is made sure of (artifacts
    under $OVNI_HOME/mlartifacts, else MLflow would use ./mlruns) when a training starts, not when the
    resource is built, so only training runs touch MLflow.
    """

    home: str = Field(description="OVNI_HOME: the home's MLflow store and artifacts.")
    mlflow_tracking_uri: str | None = Field(
        default=None, description="OVNI_MLFLOW_TRACKING_URI: another MLflow store; none = the home's SQLite."
    )

    @property
    def settings(self) -> OvniSettings:
        """The settings of the home and store this resource is configured for (the rest at defaults)."""
        return settings_from(home=Path(self.home), mlflow_tracking_uri=self.mlflow_tracking_uri)

    @contextlib.contextmanager
    def training_run(self, dagster_run_id: str) -> Iterator[mlflow.ActiveRun]:
        """An active MLflow run tagged with the Dagster run; FAILED if the block raises, else FINISHED.
        A training whose process dies has its run ended when its Dagster run's failure is recorded
        (`record_failed_run`)."""
        from ovni_assets.model.registry import ensure_experiment

        experiment_id = ensure_experiment(self.settings)
        with mlflow.start_run(experiment_id=experiment_id, tags={DAGSTER_RUN_ID_TAG: dagster_run_id}) as run:
            yield run


def mlflow_resource(settings: OvniSettings) -> MlflowTracking:
    return MlflowTracking(home=str(settings.home), mlflow_tracking_uri=settings.mlflow_tracking_uri)


def resources_for(settings: OvniSettings) -> dict:
    """The code location's resources: the warehouse, MLflow, and the settings every asset reads its paths
    and knobs from (read once, when the code location loads)."""
    return {
        "warehouse": warehouse_resource(settings),
        "mlflow": mlflow_resource(settings),
        "settings": settings,
    }
