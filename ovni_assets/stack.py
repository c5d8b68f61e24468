"""`ovni up`: every OVNI service on one machine, as child processes, with demo data on a first start.

Each service runs in its own process group (its own session), so stopping it reaches every process it
spawned (Dagster's code servers and run workers included). The parent handles Ctrl-C and SIGTERM itself:
SIGTERM to every group, a grace period, then SIGKILL to whatever is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ovni_assets.data.ingestion import landing_paths
from ovni_assets.settings import OvniSettings

STOP_GRACE_SECONDS = 15.0
PROBE_TIMEOUT_SECONDS = 3.0
LOG_TAIL_LINES = 25
LOCATION_NAME = "ovni"
PR_SET_PDEATHSIG = 1

WORKSPACE_YAML = f"""\
# Written by `ovni up`: the code location the local Dagster webserver and daemon load.
load_from:
  - python_module:
      module_name: ovni_assets.definitions
      location_name: {LOCATION_NAME}
"""

DAEMON_HEALTH_QUERY = "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"


class StackError(Exception):
    """`ovni up` cannot go on; the message says why (and where the logs are)."""


class StopRequested(BaseException):
    """SIGTERM arrived: stop every child like Ctrl-C does."""


@dataclass(frozen=True)
class Service:
    """One long-running child: how to start it and how to tell that it answers."""

    name: str
    title: str
    argv: tuple[str, ...]
    url: str | None
    port: int | None
    port_setting: str | None
    is_ready: Callable[[httpx.Client], bool]
    startup_timeout_seconds: float


@dataclass
class Child:
    service: Service
    process: subprocess.Popen
    log_path: Path


def _bin(name: str) -> str:
    """A console script of the environment OVNI runs in (the venv's bin folder)."""
    return str(Path(sys.executable).parent / name)


def _ovni(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "ovni_assets.cli", *args)


def _http_ok(url: str) -> Callable[[httpx.Client], bool]:
    def probe(client: httpx.Client) -> bool:
        return client.get(url).status_code == 200

    return probe


def _daemon_healthy(graphql_url: str) -> Callable[[httpx.Client], bool]:
    """Every daemon the instance requires (sensors, schedules, run queue) has a fresh heartbeat."""

    def probe(client: httpx.Client) -> bool:
        response = client.post(graphql_url, json={"query": DAEMON_HEALTH_QUERY})
        if response.status_code != 200:
            return False
        statuses = response.json()["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
        return bool(statuses) and all(s["healthy"] for s in statuses if s["required"])

    return probe


def services(settings: OvniSettings) -> list[Service]:
    """The local stack, in start order; ports and host from settings."""
    host = settings.host
    dagster_url = f"http://{host}:{settings.dagster_port}"
    mlflow_url = f"http://{host}:{settings.mlflow_port}"
    api_url = f"http://{host}:{settings.api_port}"
    ui_url = f"http://{host}:{settings.ui_port}"
    workspace = str(settings.dagster_home / "workspace.yaml")
    return [
        Service(
            "dagster",
            "Dagster UI",
            (_bin("dagster-webserver"), "-h", host, "-p", str(settings.dagster_port), "-w", workspace),
            dagster_url,
            settings.dagster_port,
            "OVNI_DAGSTER_PORT",
            _http_ok(f"{dagster_url}/server_info"),
            180.0,
        ),
        Service(
            "daemon",
            "Dagster daemon",
            (_bin("dagster-daemon"), "run", "-w", workspace),
            None,
            None,
            None,
            _daemon_healthy(f"{dagster_url}/graphql"),
            240.0,
        ),
        Service(
            "mlflow",
            "MLflow UI",
            (
                _bin("mlflow"),
                "server",
                "--backend-store-uri",
                settings.tracking_uri,
                "--artifacts-destination",
                str(settings.mlartifacts_dir),
                "--host",
                host,
                "--port",
                str(settings.mlflow_port),
                "--workers",
                "1",
            ),
            mlflow_url,
            settings.mlflow_port,
            "OVNI_MLFLOW_PORT",
            _http_ok(f"{mlflow_url}/health"),
            120.0,
        ),
        Service(
            "api",
            "Prediction API",
            _ovni("serve", "--host", host, "--port", str(settings.api_port)),
            f"{api_url}/docs",
            settings.api_port,
            "OVNI_API_PORT",
            # With a published snapshot, wait until the API serves it (the page then has predictions).
            _http_ok(f"{api_url}/ready" if settings.serving_path.exists() else f"{api_url}/health"),
            180.0,
        ),
        Service(
            "ui",
            "Gradio UI",
            _ovni("ui", "--host", host, "--port", str(settings.ui_port)),
            ui_url,
            settings.ui_port,
            "OVNI_UI_PORT",
            _http_ok(f"{ui_url}/"),
            180.0,
        ),
    ]


def child_environment(settings: OvniSettings) -> dict[str, str]:
    """The environment every child gets: this one, with OVNI_HOME and DAGSTER_HOME absolute."""
    env = dict(os.environ)
    env["OVNI_HOME"] = str(settings.home)
    env["DAGSTER_HOME"] = os.environ.get("DAGSTER_HOME", str(settings.dagster_home))
    env["OVNI_API_URL"] = f"http://{settings.host}:{settings.api_port}"
    env["PYTHONUNBUFFERED"] = "1"
    # MLflow's GenAI job runner (a pool of huey workers) has nothing to do for OVNI.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


def check_ports(settings: OvniSettings) -> None:
    """Raise StackError naming the first port that is taken (or used twice) and the setting to change."""
    seen: dict[int, str] = {}
    for service in services(settings):
        if service.port is None:
            continue
        if service.port in seen:
            raise StackError(
                f"{service.title} and {seen[service.port]} are both set to port {service.port}; "
                f"give one of them another port ({service.port_setting}=...)"
            )
        seen[service.port] = service.title
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # Same option the servers use, so a port only in TIME_WAIT does not count as taken.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.host, service.port))
            except OSError as error:
                raise StackError(
                    f"port {service.port} on {settings.host} is already in use ({error.strerror}), so the "
                    f"{service.title} cannot start; stop what is using it or choose another port, "
                    f"e.g. {service.port_setting}={service.port + 1} ovni up"
                ) from None


@dataclass(frozen=True)
class FirstStartStep:
    description: str
    argv: tuple[str, ...]
    must_succeed: bool


def first_start_steps(settings: OvniSettings) -> list[FirstStartStep]:
    """What a new home needs before it serves predictions: demo data (before the services), then one
    pipeline run (beside them, `FirstRun`)."""
    steps: list[FirstStartStep] = []
    if not landing_paths(settings.landing_dir) and not settings.warehouse_path.exists():
        generate = ["generate", "--out", str(settings.landing_dir), "--weeks", str(settings.demo_weeks)]
        if settings.demo_customers is not None:
            generate += ["--customers", str(settings.demo_customers)]
        description = f"Generating demo data ({settings.demo_weeks} weeks) into {settings.landing_dir}"
        steps.append(FirstStartStep(description, _ovni(*generate), must_succeed=True))
    if not settings.serving_path.exists():
        description = "Running the pipeline: ingest → features → train → predict"
        steps.append(FirstStartStep(description, _ovni("run"), must_succeed=False))
    return steps


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log written)"
    with path.open(errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines)).rstrip() or "(log is empty)"


def _stop_with_parent() -> None:
    """In the child, before exec: get SIGTERM if `ovni up` itself dies (even by SIGKILL). Linux only."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: tuple[str, ...], env: dict[str, str], log_path: Path, cwd: Path) -> subprocess.Popen:
    """Start a child in its own session (so its whole process tree can be signalled), logging to a file."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"\n===== {datetime.now().isoformat(timespec='seconds')} {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
        )


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(
    processes: list[subprocess.Popen],
    grace_seconds: float = STOP_GRACE_SECONDS,
    first_signal: signal.Signals = signal.SIGTERM,
) -> list[subprocess.Popen]:
    """Signal every child's process group, wait up to the grace period, then SIGKILL what is left.

    Returns the children whose process group had to be killed.
    """
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, first_signal)
    deadline = time.monotonic() + grace_seconds
    pending = list(processes)
    while pending and time.monotonic() < deadline:
        for process in pending:
            process.poll()
        pending = [p for p in pending if p.returncode is None or _group_alive(p.pid)]
        if pending:
            time.sleep(0.1)
    for process in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    for process in processes:
        process.wait()
    return pending


def generate_demo_data(settings: OvniSettings, console: Console) -> None:
    """Generate demo data when the home has none (a failure stops `ovni up`), with a progress display."""
    steps = [step for step in first_start_steps(settings) if step.must_succeed]
    if not steps:
        return
    env = child_environment(settings)
    log_path = settings.home / "logs" / "first-start.log"
    console.print(f"[bold]First start in {settings.home}[/]: preparing demo data (log: {log_path})")
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        for step in steps:
            task = progress.add_task(step.description, total=1)
            process = spawn(step.argv, env, log_path, settings.home)
            try:
                returncode = process.wait()
            except BaseException:
                with _signals_ignored():
                    stop([process])
                raise
            if returncode != 0:
                raise StackError(f"{step.description} failed (exit code {returncode}):\n{tail(log_path)}")
            progress.update(task, completed=1)


def create_stores(settings: OvniSettings) -> None:
    """Create the Dagster instance and the MLflow store here, before the first run and the services start
    together: processes creating a SQLite store at once race on its schema."""
    import logging

    from ovni_assets.cycle.in_process import open_stores

    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)  # its table creation notes
    with open_stores(settings):
        pass


class FirstRun:
    """The first pipeline run of a home, beside the starting services: the page and the API say
    "preparing" until it publishes. A failed run is reported and the services stay up (the Dagster UI
    shows the run)."""

    def __init__(self, settings: OvniSettings, step: FirstStartStep):
        self.step = step
        self.log_path = settings.home / "logs" / "first-start.log"
        env = child_environment(settings)
        # The services start on the same cores: scikit-learn's OpenMP threads wait passively, not spinning.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.process = spawn(step.argv, env, self.log_path, settings.home)
        self.started = time.monotonic()
        self.reported = False

    @classmethod
    def start_if_needed(cls, settings: OvniSettings) -> FirstRun | None:
        steps = [step for step in first_start_steps(settings) if not step.must_succeed]
        if not steps:
            return None
        create_stores(settings)
        return cls(settings, steps[0])

    def announce(self, console: Console) -> None:
        console.print(
            f"[bold]Preparing the first predictions[/] ({self.step.description}); the page and the API "
            f"say so until they are published. Log: {self.log_path}",
            highlight=False,
        )

    def report_if_finished(self, console: Console) -> bool:
        """Print the run's outcome once it has ended; True once reported."""
        if self.reported or self.process.poll() is None:
            return self.reported
        self.reported = True
        seconds = time.monotonic() - self.started
        if self.process.returncode == 0:
            console.print(f"[green]✓[/] First predictions published ({seconds:.0f} s after the start).")
        else:
            console.print(
                f"[yellow]{self.step.description} failed (exit code {self.process.returncode}); the "
                f"services stay up, the Dagster UI shows the run.[/] Last lines of {self.log_path}:\n"
                f"{tail(self.log_path)}",
                highlight=False,
            )
        return True

    def stop(self) -> None:
        """SIGINT, like Ctrl-C on a foreground `ovni run`: Dagster marks the run as canceled."""
        if self.process.poll() is None:
            stop([self.process], first_signal=signal.SIGINT)


class RunningStack:
    """The started services; `wait()` blocks until one of them exits."""

    def __init__(self, settings: OvniSettings, children: list[Child], first_run: FirstRun | None = None):
        self.settings = settings
        self.children = children
        self.first_run = first_run

    def wait(self, console: Console) -> Child:
        """Block until a service exits; the first run's outcome is printed when it ends."""
        while True:
            if self.first_run is not None:
                self.first_run.report_if_finished(console)
            for child in self.children:
                if child.process.poll() is not None:
                    return child
            time.sleep(0.5)

    def url_table(self) -> Table:
        logs = self.settings.home / "logs"
        table = Table(
            title=f"OVNI is running (data in {self.settings.home})",
            title_justify="left",
            caption=f"Logs: {logs}/<service>.log",
            caption_justify="left",
        )
        table.add_column("Service")
        table.add_column("URL", no_wrap=True)
        table.add_column("Log")
        for child in self.children:
            table.add_row(child.service.title, child.service.url or "(background)", child.log_path.name)
        return table


def _wait_until_ready(children: list[Child], console: Console) -> None:
    started = time.monotonic()
    pending = list(children)
    with (
        httpx.Client(timeout=PROBE_TIMEOUT_SECONDS, trust_env=False) as client,
        console.status("Starting services…") as status,
    ):
        while pending:
            status.update("Waiting for " + ", ".join(c.service.title for c in pending) + " …")
            for child in list(pending):
                service = child.service
                returncode = child.process.poll()
                if returncode is not None:
                    raise StackError(
                        f"{service.title} exited with code {returncode} while starting. "
                        f"Last lines of {child.log_path}:\n{tail(child.log_path)}"
                    )
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
                    if service.is_ready(client):
                        pending.remove(child)
                        console.print(f"[green]✓[/] {service.title}")
                        continue
                if time.monotonic() - started > service.startup_timeout_seconds:
                    raise StackError(
                        f"{service.title} did not answer within {service.startup_timeout_seconds:.0f} s "
                        f"({service.url or 'daemon heartbeat'}). Last lines of {child.log_path}:\n"
                        f"{tail(child.log_path)}"
                    )
            if pending:
                time.sleep(0.5)


@contextlib.contextmanager
def running_stack(settings: OvniSettings, console: Console) -> Iterator[RunningStack]:
    """Start a new home's first pipeline run and every service, wait until each service answers, and stop
    them all when the block ends (however)."""
    (settings.dagster_home / "workspace.yaml").write_text(WORKSPACE_YAML)
    env = child_environment(settings)
    logs = settings.home / "logs"
    children: list[Child] = []
    first_run: FirstRun | None = None
    try:
        first_run = FirstRun.start_if_needed(settings)
        for service in services(settings):
            log_path = logs / f"{service.name}.log"
            children.append(Child(service, spawn(service.argv, env, log_path, settings.home), log_path))
        _wait_until_ready(children, console)
        yield RunningStack(settings, children, first_run)
    finally:
        with _signals_ignored(), console.status("Stopping services…"):
            if first_run is not None:
                first_run.stop()
            killed = stop([child.process for child in children])
        for child in children:
            if child.process in killed:
                console.print(
                    f"{child.service.title} did not stop within {STOP_GRACE_SECONDS:.0f} s: killed."
                )


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """A second Ctrl-C while stopping must not leave children behind: finish the stop first."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
