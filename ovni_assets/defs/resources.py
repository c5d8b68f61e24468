"""Dagster resources: the DuckDB warehouse (one writer per run) and MLflow tracking."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from dagster_mlflow import mlflow_tracking
from pydantic import PrivateAttr

from ovni_assets.cycle import liveness
from ovni_assets.settings import OvniSettings, get_settings
from ovni_assets.warehouse import connect, run_lock


class WarehouseResource(DuckDBResource):
    """DuckDBResource on `warehouse.duckdb` that holds the run lock for the whole run.

    Jobs use the in-process executor, so the resource is set up once per run: two runs (CLI, sensor,
    UI) never write at the same time; the second waits for the first and then proceeds. Before waiting,
    the run takes its liveness lock, which tells run monitoring and `ovni run` that its process is alive.
    """

    lock_path: str
    lock_timeout_seconds: float = 3600.0
    liveness_dir: str | None = None
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
        con = connect(Path(self.database))
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
    )


@dg.resource(
    config_schema=mlflow_tracking.config_schema.as_field().config_type.fields,
    description="dagster-mlflow's `mlflow_tracking` (one MLflow run per Dagster run) after making sure the "
    "experiment exists with its artifacts under $OVNI_HOME/mlartifacts (else MLflow would use ./mlruns).",
)
def ovni_mlflow_tracking(context: dg.InitResourceContext):
    from ovni_assets.model.registry import ensure_experiment

    ensure_experiment(get_settings())
    return mlflow_tracking.resource_fn(context)


def mlflow_resource(settings: OvniSettings) -> dg.ResourceDefinition:
    from ovni_assets.model.registry import EXPERIMENT_NAME

    return ovni_mlflow_tracking.configured(
        {"experiment_name": EXPERIMENT_NAME, "mlflow_tracking_uri": settings.tracking_uri}
    )
