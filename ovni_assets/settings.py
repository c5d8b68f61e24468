"""One settings object for every part of OVNI, read from `OVNI_*` environment variables.

Read once per process, where it starts (a CLI command, the code location, the API), and passed down from
there; the Gradio UI reads its own two variables (`ovni_ui.config`). This module imports neither dagster
nor mlflow, so the serving package may use it.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MODEL_NAME = "ovni-purchase"
CHAMPION_ALIAS = "champion"


class OvniSettings(BaseSettings):
    """Where OVNI keeps its state and how its services are reached."""

    model_config = SettingsConfigDict(env_prefix="OVNI_", extra="ignore")

    home: Path = Field(default=Path(".ovni"), description="Folder holding all state.")
    host: str = Field(default="127.0.0.1", description="Interface local services bind to.")
    dagster_port: int = 3000
    mlflow_port: int = 5000
    api_port: int = 8000
    ui_port: int = 7860
    dagster_ui_url: str = Field(
        default="",
        description="Where people open the Dagster UI; MLflow runs link to their Dagster run under it. "
        "Default http://HOST:DAGSTER_PORT.",
    )
    mlflow_ui_url: str = Field(
        default="",
        description="Where people open the MLflow UI; Dagster's `mlflow_run` links point under it, so set "
        "it to the address that stays (a proxy, a fixed port). Default http://HOST:MLFLOW_PORT.",
    )
    api_token: str | None = Field(default=None, description="Bearer token for POST /admin/reload.")
    mlflow_tracking_uri: str | None = Field(
        default=None, description="Override of the MLflow store; default is SQLite under OVNI_HOME."
    )
    hpo_seconds: float = Field(default=60.0, description="Time budget of the hyperparameter search.")
    hpo_max_trials: int | None = Field(
        default=None,
        description="Cap on the search's trials on top of the time budget; 1 trains the default parameters "
        "only, so the same data give the same model on any machine.",
    )
    importance_sample_rows: int = Field(
        default=10_000,
        ge=100,
        description="Validation rows (a fixed random sample) the permutation importance of every training "
        "is measured on: more rows steadier figures, each row costs a prediction per feature and repeat.",
    )
    search_first_model: bool = Field(
        default=False,
        description="Search the hyperparameters for the first model too. Off: a home without a champion "
        "trains the default parameters at once, so a new home serves predictions within a minute; the "
        "next retraining (weekly at the latest) searches.",
    )
    cycle_interval_seconds: int = Field(
        default=30, description="How often the daemon's cycle_sensor asks for the next step of the cycle."
    )
    reload_interval_seconds: float = Field(default=3.0, description="How often the API polls the registry.")
    header_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The API and the page close a connection whose request headers are not complete this "
        "many seconds after it opens (or after its previous response), so a slow or stalled client cannot "
        "hold connections open.",
    )
    run_lock_timeout_seconds: float = Field(
        default=3600.0, description="How long a pipeline run waits for another run to release the warehouse."
    )
    landing_settle_seconds: float = Field(
        default=10.0,
        description="A landing file is taken only once it has not been modified for this long (a file "
        "still being written is left for a later run).",
    )
    landing_settle_max_wait_seconds: float = Field(
        default=60.0,
        description="How long an ingest run waits for landing files still being written before it goes on "
        "without them.",
    )
    week_checks_min_history_weeks: int = Field(
        default=8,
        ge=1,
        description="A landed week is judged against the data's own weeks only once the warehouse holds this "
        "many complete weeks before it: fewer are no reliable normal.",
    )
    week_checks_reference_weeks: int = Field(
        default=12,
        ge=1,
        description="The newest complete weeks before a landed week its medians are taken over: a quarter "
        "follows growth and seasons and outvotes a holiday week or two.",
    )
    reexported_lines_max_share: float = Field(
        default=0.1,
        ge=0,
        description="Largest share of a transactions file's lines the warehouse may already hold (same "
        "customer, product, day and units) under other order ids; a correction keeps its order ids, a week "
        "exported again with renumbered orders brings them all. 0 turns the check off.",
    )
    week_volume_max_factor: float = Field(
        default=6.0,
        ge=0,
        description="A week's customers, (customer, product) pairs, lines and units may be this many times "
        "below or above the median of its reference weeks: quiet weeks fall well below the median, a "
        "collapsed export (one customer's lines repeated) far lower. 0 turns the check off.",
    )
    top_customer_share_max_factor: float = Field(
        default=8.0,
        ge=0,
        description="The largest customer's share of a week's lines and of its units may be this many times "
        "its usual share: a big order moves it, a week of one customer's lines is all of it. 0 turns the "
        "check off.",
    )
    units_per_line_max_factor: float = Field(
        default=3.0,
        ge=0,
        description="A week's median units per line may be this many times below or above the usual median: "
        "it moves by a third of a unit, a thousands mark read as a decimal point (`1.200` as 1.2) by 1000x. "
        "0 turns this part of units_per_line off.",
    )
    units_per_line_max_share_change: float = Field(
        default=0.3,
        ge=0,
        description="A week's share of negative (returns) and of non-whole units per line may differ by this "
        "much from the usual share: they move by a few points, a week of returns only or another unit of "
        "measure by tens of them. 0 turns this part of units_per_line off.",
    )
    weekday_spread_max_shift_ratio: float = Field(
        default=1.0,
        ge=0,
        description="A week's customers may fit their usual weekdays moved by one day at most this many "
        "times as well as the usual weekdays themselves: a holiday moves one day's customers, a time-zone "
        "shift every customer. 0 turns the check off.",
    )
    changed_ids_max_share: float = Field(
        default=0.5,
        ge=0,
        description="Largest share of the known customer or product ids a whole master-data export may drop "
        "or change every attribute of: an export drops or edits a few, a renumbering nearly all. 0 turns "
        "the check off.",
    )
    duckdb_memory_limit: str = Field(
        default="6GB",
        description="DuckDB memory limit of every warehouse connection; beyond it DuckDB spills to "
        "$OVNI_HOME/duckdb_tmp (keeps a 100x run under 12 GB RSS with Python on top).",
    )
    sql_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="`ovni sql` stops a statement (its run and its output) after this many seconds, so a "
        "runaway query (a cross join, a scan of every batch) cannot hold the machine.",
    )
    sql_memory_limit: str = Field(
        default="2GB",
        description="DuckDB memory limit of an `ovni sql` statement: a query that needs more stops with a "
        "clear message instead of taking the memory the pipeline and the API need.",
    )
    backup_dir: Path | None = Field(
        default=None,
        description="Where the daily backup schedule writes (`ovni backup`); set it (outside OVNI_HOME, "
        "ideally another disk) to turn the schedule on. Unset: no scheduled backups.",
    )
    backup_keep: int = Field(
        default=7, ge=1, description="Complete backups kept in the backup directory; older ones are removed."
    )
    backup_cron: str = Field(
        default="30 2 * * *",
        description="When the backup schedule runs (cron, in OVNI_TIMEZONE), once OVNI_BACKUP_DIR is set: "
        "daily at night, while no one uses the page.",
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="Incoming webhook (Slack, Teams, any JSON receiver) alerts are POSTed to: a `text` "
        "field shown as is, plus `event`, `subject`, `home` and the event's own fields.",
    )
    alert_smtp_host: str | None = Field(default=None, description="SMTP server alerts are emailed through.")
    alert_smtp_port: int = Field(default=25, description="Port of the SMTP server.")
    alert_smtp_user: str | None = Field(default=None, description="SMTP login, when the server needs one.")
    alert_smtp_password: str | None = Field(default=None, description="SMTP password of the login.")
    alert_smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    alert_smtp_from: str | None = Field(default=None, description="Sender address (default ovni@<host>).")
    alert_smtp_to: str = Field(default="", description="Comma-separated addresses alerts are emailed to.")
    alert_cooldown_seconds: float = Field(
        default=6 * 3600,
        ge=0,
        description="The same event about the same subject (a file, a run, a version) is not sent again "
        "within this long: a file that stays held, or a daemon retrying, does not flood the channel.",
    )
    alert_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long one delivery attempt may take before it counts as failed."
    )
    alert_retries: int = Field(
        default=2, ge=0, description="Further attempts after a failed delivery, with doubling delays."
    )
    alert_retry_delay_seconds: float = Field(
        default=1.0, ge=0, description="Delay before the first retry of a failed delivery."
    )
    timezone: str = Field(
        default="America/Santiago",
        description="IANA time zone whose calendar day judges whether the served batch is current (the "
        "sales team's: a day starts at its midnight, not UTC's) and in which the daily freshness check runs.",
    )
    freshness_grace_days: int = Field(
        default=2,
        ge=0,
        description="Days after the served week ends before its batch counts as stale: the week's "
        "transactions file usually lands by the Monday or Tuesday after it, and the next batch follows.",
    )
    freshness_today: date | None = Field(
        default=None,
        description="Judge freshness as of this day instead of today in OVNI_TIMEZONE: pins the clock for "
        "tests and rehearsals of what the page says on a given day. Leave unset in production.",
    )
    demo_weeks: int = Field(
        default=52, description="Weeks of demo data `ovni up` generates on a first start."
    )
    demo_customers: int | None = Field(
        default=None, description="Customers in the demo data (None: the generator's default)."
    )

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _absolute_backup_dir(cls, value: object) -> Path | None:
        return None if value is None or str(value).strip() == "" else Path(str(value)).expanduser().resolve()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as America/Santiago or UTC"
            ) from None
        return value

    @model_validator(mode="after")
    def _default_ui_urls(self) -> OvniSettings:
        # a wildcard bind address is no address to open in a browser
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        self.dagster_ui_url = (self.dagster_ui_url or f"http://{host}:{self.dagster_port}").rstrip("/")
        self.mlflow_ui_url = (self.mlflow_ui_url or f"http://{host}:{self.mlflow_port}").rstrip("/")
        return self

    @property
    def alert_recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_smtp_to.split(",") if address.strip()]

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.home / "serving.duckdb"

    @property
    def duckdb_temp_dir(self) -> Path:
        return self.home / "duckdb_tmp"

    @property
    def run_lock_path(self) -> Path:
        return self.home / "warehouse.lock"

    @property
    def run_liveness_dir(self) -> Path:
        """Where each running run holds its liveness lock (`ovni_assets.cycle.liveness`)."""
        return self.home / "run_liveness"

    @property
    def mlflow_db_path(self) -> Path:
        return self.home / "mlflow.db"

    @property
    def mlartifacts_dir(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @cached_property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.mlflow_db_path}"


def get_settings() -> OvniSettings:
    """Settings as the environment says now: for a process's entry point, which passes them down."""
    return OvniSettings()


class _GivenSettings(OvniSettings):
    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_other_sources):
        return (init_settings,)


def settings_from(**values) -> OvniSettings:
    """Settings of `values` and the defaults only, whatever the environment says: for a part that was
    handed its settings as values (the MLflow resource, from its Dagster config)."""
    return _GivenSettings(**values)
