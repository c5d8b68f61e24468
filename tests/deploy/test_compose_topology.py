"""docker-compose.yml without a Docker engine: every service's own command, environment and healthcheck,
run as local processes against a real PostgreSQL.

The test maps the container world onto this machine and nothing else: service host names and `localhost`
→ 127.0.0.1, each container port → a free local port, each volume → a temp folder, the files the Dockerfile
copies into the image → the same files in a temp folder. Commands, environments, healthchecks, the
dependency order and the Postgres init script are read from docker-compose.yml (and the Dockerfile).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import httpx
import psutil
import psycopg2
import pytest
import yaml

from tests.cli import run_ovni

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
# The postgres service runs its image's own command, which listens on the image's default port.
POSTGRES_SERVICE = "postgres"
POSTGRES_IMAGE_PORT = 5432
POSTGRES_INIT_DIR = "/docker-entrypoint-initdb.d"
# Only for speed: a short hyperparameter search and importance in the code server, where runs execute, and
# sensor ticks (its definitions) a few seconds apart.
TEST_SPEEDUPS = {
    "code-server": {
        "OVNI_HPO_SECONDS": "3",
        "OVNI_HPO_MAX_TRIALS": "1",
        "OVNI_IMPORTANCE_SAMPLE_ROWS": "1000",
        "OVNI_CYCLE_INTERVAL_SECONDS": "3",
    }
}
HEALTHY_TIMEOUT_SECONDS = 300.0
RUN_TIMEOUT_SECONDS = 600.0

INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")
# What an operator puts in .env (the one variable without a default).
OPERATOR_ENV = {"POSTGRES_PASSWORD": "topology-test-password"}


def interpolate(text: str, host_env: dict[str, str]) -> str:
    """Compose's own `${VAR:-default}` / `${VAR:?error}` / `$$` substitution, done when the file is read."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        value = host_env.get(name)
        if operator == ":?" and not value:
            raise ValueError(f"required variable {name} is missing a value: {argument}")
        return value or (argument or "")

    return INTERPOLATION.sub(substitute, text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found (.ci/run installs Debian's postgresql)")
    return found[-1].parent


def image_copies() -> list[tuple[list[Path], str]]:
    """`COPY deploy/... DEST` lines of the Dockerfile: the repo files the image carries at DEST."""
    copies = []
    for line in DOCKERFILE.read_text().splitlines():
        tokens = line.split()
        if len(tokens) >= 3 and tokens[0] == "COPY" and tokens[1].startswith("deploy/"):
            copies.append(([REPO_ROOT / source for source in tokens[1:-1]], tokens[-1].rstrip("/")))
    return copies


class LocalTopology:
    """Where each container thing lives on this machine."""

    def __init__(self, compose: dict, root: Path):
        self.services: dict[str, dict] = compose["services"]
        self.root = root
        self.host_env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_",))}
        self.host_env.update(OPERATOR_ENV)
        self.container_port = {name: self._container_port(name) for name in self.services}
        self.local_port = {port: free_port() for port in self.container_port.values() if port is not None}
        self.volume_dirs = {name: root / "volumes" / name for name in compose.get("volumes", {})}
        for folder in self.volume_dirs.values():
            folder.mkdir(parents=True)
        self.image_dirs: dict[str, Path] = {}
        for sources, destination in image_copies():
            local = root / "image" / destination.strip("/").replace("/", "_")
            local.mkdir(parents=True, exist_ok=True)
            for source in sources:
                shutil.copy(source, local / source.name)
            self.image_dirs[destination] = local
        names = "|".join(re.escape(n) for n in [*self.services, "localhost", "0.0.0.0"])
        self._host_port = re.compile(rf"(?<![\w.-])(?:{names}):(\d+)")

    def _container_port(self, name: str) -> int | None:
        """The port a service listens on in its container (None: it serves nothing, like the daemon)."""
        if name == POSTGRES_SERVICE:
            return POSTGRES_IMAGE_PORT
        command = self.services[name]["command"]
        for flag in ("-p", "--port"):
            if flag in command:
                return int(command[command.index(flag) + 1])
        return None

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.local_port[self.container_port[name]]}{path}"

    def path_map(self, name: str) -> list[tuple[str, Path]]:
        mapping = dict(self.image_dirs)
        for mount in self.services[name].get("volumes", []):
            source, target = mount.split(":")[:2]
            if source in self.volume_dirs:
                mapping[target] = self.volume_dirs[source]
        return sorted(mapping.items(), key=lambda item: -len(item[0]))

    def rewrite(self, name: str, text: str) -> str:
        text = interpolate(text, self.host_env)
        text = self._host_port.sub(
            lambda m: f"127.0.0.1:{self.local_port.get(int(m.group(1)), m.group(1))}", text
        )
        own = self.container_port[name]
        if own is not None:
            text = re.sub(rf"(?<![\w.:/-]){own}(?![\w.])", str(self.local_port[own]), text)
        if text == "0.0.0.0":
            return "127.0.0.1"
        for container_path, local_path in self.path_map(name):
            text = re.sub(rf"(?<![\w.-]){re.escape(container_path)}(?=/|$)", str(local_path), text)
        return text

    def environment(self, name: str) -> dict[str, str]:
        env = {
            "PATH": f"{VENV_BIN}:{postgres_bin()}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }
        for key, value in (self.services[name].get("environment") or {}).items():
            value = "127.0.0.1" if value in self.services else self.rewrite(name, str(value))
            if key.endswith("_PORT") and value.isdigit() and int(value) in self.local_port:
                value = str(self.local_port[int(value)])
            env[key] = value
        env.update(TEST_SPEEDUPS.get(name, {}))
        return env

    def command(self, name: str) -> list[str]:
        return [self.rewrite(name, str(arg)) for arg in self.services[name]["command"]]

    def healthcheck(self, name: str) -> list[str]:
        test = self.services[name]["healthcheck"]["test"]
        kind, args = test[0], [self.rewrite(name, str(arg)) for arg in test[1:]]
        if kind == "CMD-SHELL":
            return ["sh", "-c", args[0]]
        assert kind == "CMD", f"unsupported healthcheck form {kind} in {name}"
        return args

    def start_order(self) -> list[list[str]]:
        """Waves of services whose `depends_on` are all in earlier waves (conditions checked below)."""
        waves, placed = [], set()
        while len(placed) < len(self.services):
            wave = [
                n
                for n, s in self.services.items()
                if n not in placed and set(s.get("depends_on", {})) <= placed
            ]
            assert wave, "depends_on has a cycle"
            waves.append(wave)
            placed.update(wave)
        return waves


class Postgres:
    """A throwaway cluster started the way the postgres image would: POSTGRES_USER/PASSWORD, init scripts."""

    def __init__(self, topology: LocalTopology):
        self.topology = topology
        self.env = topology.environment(POSTGRES_SERVICE)
        self.user = self.env["POSTGRES_USER"]
        self.password = self.env["POSTGRES_PASSWORD"]
        self.port = topology.local_port[POSTGRES_IMAGE_PORT]
        self.dir = Path(tempfile.mkdtemp(prefix="ovni-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_postgres, *argv], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
            shutil.chown(pwfile, "postgres")
        bin_dir = postgres_bin()
        self._run(
            str(bin_dir / "initdb"), "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256",
        )  # fmt: skip
        self._run(
            str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "start",
            "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}",
        )  # fmt: skip
        for mount in self.topology.services[POSTGRES_SERVICE].get("volumes", []):
            source, target = mount.split(":")[:2]
            if target.startswith(POSTGRES_INIT_DIR):
                subprocess.run(
                    [str(bin_dir / "psql"), "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-h", "127.0.0.1",
                     "-p", str(self.port), "-U", self.user, "-d", "postgres", "-f", str(REPO_ROOT / source)],
                    env={**self.env, "PGPASSWORD": self.password},
                    check=True, capture_output=True, timeout=60,
                )  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        with (
            psycopg2.connect(
                host="127.0.0.1", port=self.port, user=self.user, password=self.password, dbname=database
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
            return cursor.fetchall()


def tail(path: Path, lines: int = 40) -> str:
    with path.open(errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines))


class Stack:
    """The compose services as local processes, each in its own process group, logs in files."""

    def __init__(self, topology: LocalTopology, logs: Path):
        self.topology = topology
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}
        self.descendants: set[psutil.Process] = set()

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            self.topology.command(name),
            env=self.topology.environment(name),
            cwd=REPO_ROOT,  # the image's WORKDIR /opt/ovni holds the code
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def healthy(self, name: str) -> bool:
        process = self.processes.get(name)
        if process is not None and process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{tail(self.logs / f'{name}.log')}")
        try:
            check = subprocess.run(
                self.topology.healthcheck(name),
                env=self.topology.environment(name),
                capture_output=True,
                timeout=30,
            )
        except subprocess.TimeoutExpired:
            return False
        return check.returncode == 0

    def wait_healthy(self, names: list[str]) -> None:
        deadline = time.monotonic() + HEALTHY_TIMEOUT_SECONDS
        pending = list(names)
        while pending:
            pending = [name for name in pending if not self.healthy(name)]
            if pending and time.monotonic() > deadline:
                logs = {n: tail(self.logs / f"{n}.log") for n in pending if n in self.processes}
                pytest.fail(f"not healthy in time: {pending}\n{logs}")
            time.sleep(2)

    def remember_descendants(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(process.pid)
                self.descendants.update([parent, *parent.children(recursive=True)])

    def stop(self) -> None:
        self.remember_descendants()
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(list(self.descendants), timeout=20)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        for process in self.processes.values():
            process.wait(timeout=30)


def graphql(topology: LocalTopology, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(
        topology.url("webserver", "/graphql"), json={"query": query, "variables": variables or {}}, timeout=60
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


LOCATIONS_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name
    locationOrLoadError { __typename
      ... on RepositoryLocation { repositories { name jobs { name } assetNodes { assetKey { path } } } }
      ... on PythonError { message } } } } } }
"""

LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId status } }
  ... on PythonError { message } ... on InvalidStepError { invalidStepKey }
  ... on RunConfigValidationInvalid { errors { message } } } }
"""

RUN_STATUS_QUERY = "query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def launch_through_queue(topology: LocalTopology, location: str, job: str) -> str:
    """Submit a job through the webserver; the QueuedRunCoordinator queues it and the daemon launches it."""
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": "__repository__", "jobName": job}
    }
    result = graphql(topology, LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    assert result["run"]["status"] == "QUEUED", "runs must wait in the daemon's queue (one at a time)"
    return result["run"]["runId"]


def wait_for_run(topology: LocalTopology, run_id: str, logs: Path) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = graphql(topology, RUN_STATUS_QUERY, {"id": run_id})["runOrError"]["status"]
        if status == "SUCCESS":
            return
        if status in ("FAILURE", "CANCELED"):
            pytest.fail(f"run {run_id} ended {status}; code server log:\n{tail(logs / 'code-server.log')}")
        time.sleep(2)
    pytest.fail(f"run {run_id} did not finish within {RUN_TIMEOUT_SECONDS:.0f} s")


RUNS_QUERY = """
query Runs($job: String!) { runsOrError(filter: {pipelineName: $job}) { ... on Runs { results {
  runId status tags { key value } } } } }
"""


def wait_for_job_success(topology: LocalTopology, job: str, logs: Path) -> dict:
    """The first successful run of `job` that the daemon started (sensor or queue); fail on a failed one."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        runs = graphql(topology, RUNS_QUERY, {"job": job})["runsOrError"]["results"]
        failed = [run for run in runs if run["status"] in ("FAILURE", "CANCELED")]
        if failed:
            pytest.fail(f"{job} run {failed[0]['runId']} failed:\n{tail(logs / 'code-server.log')}")
        succeeded = [run for run in runs if run["status"] == "SUCCESS"]
        if succeeded:
            return succeeded[-1]
        time.sleep(3)
    pytest.fail(f"no successful {job} run within {RUN_TIMEOUT_SECONDS:.0f} s:\n{tail(logs / 'daemon.log')}")


def dagster_events(postgres: Postgres, run_id: str, event_type: str) -> int:
    return postgres.query(
        "dagster",
        "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        (run_id, event_type),
    )[0][0]


@pytest.fixture
def compose_stack(tmp_path: Path):
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    topology = LocalTopology(compose, tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "home").mkdir()
    postgres = Postgres(topology)
    stack = Stack(topology, logs)
    try:
        postgres.start()
        for wave in topology.start_order():
            for name in wave:
                if name != POSTGRES_SERVICE:
                    stack.start(name)
            stack.wait_healthy(wave)
        yield topology, postgres, stack
    finally:
        stack.stop()
        postgres.stop()
    survivors = [p for p in stack.descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"processes left behind: {survivors}"


def test_compose_file_declares_a_complete_deployment():
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "code-server", "webserver", "daemon", "mlflow", "api", "ui"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
    pipeline_env = services["code-server"]["environment"]
    assert pipeline_env["OVNI_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    for writer_or_reader in ("code-server", "api", "daemon"):  # the daemon reads the runs' liveness locks
        assert any(v.startswith("ovni_home:") for v in services[writer_or_reader]["volumes"])
    instance = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.yaml").read_text())
    assert instance["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    assert instance["run_launcher"]["class"] == "OvniRunLauncher" and instance["run_monitoring"]["enabled"]
    dockerfile = DOCKERFILE.read_text()
    assert "requirements.lock" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE), "the image must not run as root"
    assert not re.match(r"\s*#\s*syntax\s*=", dockerfile), (
        "a syntax directive makes BuildKit fetch its front end from a registry"
    )


def test_compose_file_builds_one_image_and_publishes_on_localhost_only():
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    services = compose["services"]
    assert [name for name, service in services.items() if "build" in service] == ["code-server"]
    ovni_images = {service["image"] for name, service in services.items() if name != POSTGRES_SERVICE}
    assert ovni_images == {"${OVNI_IMAGE:-ovni:latest}"}, "every OVNI service runs the one built image"
    for name, service in services.items():
        for published in service.get("ports", []):
            assert interpolate(published, OPERATOR_ENV).startswith("127.0.0.1:"), (name, published)
    env = {**OPERATOR_ENV, "OVNI_PUBLISH_ADDRESS": "0.0.0.0", "OVNI_PUBLISH_API_PORT": "13999"}
    assert interpolate(services["api"]["ports"][0], env) == "0.0.0.0:13999:8000"


def test_compose_file_requires_a_postgres_password():
    text = COMPOSE_FILE.read_text()
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        interpolate(text, {})
    assert "topology-test-password" in interpolate(text, OPERATOR_ENV)


def test_mlflow_allowed_hosts_come_from_the_environment():
    command = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["mlflow"]["command"]
    allowed = command[command.index("--allowed-hosts") + 1]
    assert "mlflow:5000" in interpolate(allowed, OPERATOR_ENV).split(",")
    team = {**OPERATOR_ENV, "OVNI_MLFLOW_ALLOWED_HOSTS": "mlflow,mlflow:5000,ovni.example.org:*"}
    assert interpolate(allowed, team) == "mlflow,mlflow:5000,ovni.example.org:*"


def test_compose_services_work_together(compose_stack, tmp_path: Path):
    topology, postgres, _ = compose_stack
    logs = tmp_path / "logs"

    # The webserver loads the code location through the gRPC code server.
    entries = graphql(topology, LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    (entry,) = entries
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    (repository,) = location["repositories"]
    assets = {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
    assert {"transactions", "customers", "products"} <= assets
    assert {"ingest_job", "train_job", "predict_job"} <= {job["name"] for job in repository["jobs"]}

    # New files dropped into the landing volume, as docs/deploy.md tells a user to. From there the daemon
    # does everything: cycle_sensor starts ingest_job, then the first train_job, then the predict_job;
    # each waits in the run queue and runs in the code server.
    home = topology.volume_dirs["ovni_home"]
    run_ovni(
        home, "generate", "--out", str(home / "landing"), "--customers", "60", "--weeks", "16", timeout=300
    )
    for job, step in (("ingest_job", "ingest"), ("train_job", "train"), ("predict_job", "predict")):
        run = wait_for_job_success(topology, job, logs)
        assert {"key": "ovni/trigger", "value": "sensor"} in run["tags"], run
        assert {"key": "ovni/step", "value": step} in run["tags"], run
        # Recorded in Postgres: it went through the queue and materialized assets.
        assert dagster_events(postgres, run["runId"], "PIPELINE_ENQUEUED") == 1, job
        assert dagster_events(postgres, run["runId"], "ASSET_MATERIALIZATION") > 0, job

    # A run submitted to the webserver (the UI's Materialize button) waits in the queue, then succeeds.
    run_id = launch_through_queue(topology, entry["name"], "predict_job")
    wait_for_run(topology, run_id, logs)
    assert dagster_events(postgres, run_id, "ASSET_MATERIALIZATION") > 0

    # The MLflow server (on Postgres) recorded the training run and the champion.
    mlflow = topology.url("mlflow")
    model = httpx.get(f"{mlflow}/api/2.0/mlflow/registered-models/get", params={"name": "ovni-purchase"})
    model.raise_for_status()
    assert "champion" in {alias["alias"] for alias in model.json()["registered_model"].get("aliases", [])}
    experiments = httpx.post(f"{mlflow}/api/2.0/mlflow/experiments/search", json={"max_results": 100})
    experiment_ids = [e["experiment_id"] for e in experiments.json()["experiments"]]
    runs = httpx.post(f"{mlflow}/api/2.0/mlflow/runs/search", json={"experiment_ids": experiment_ids})
    finished = [run["info"] for run in runs.json().get("runs", []) if run["info"]["status"] == "FINISHED"]
    assert finished, runs.json()
    assert postgres.query("mlflow", "SELECT count(*) FROM runs WHERE status = 'FINISHED'")[0][0] >= 1
    # Containers share no filesystem: a model logged to a plain path must sit on a volume that both the
    # MLflow server (to show it) and the API (to load it) mount; proxied artifacts go through the server.
    for info in finished:
        uri = info["artifact_uri"]
        if uri.startswith("file://"):
            for reader in ("mlflow", "api"):
                mounted = [str(local) for _, local in topology.path_map(reader)]
                assert any(uri.removeprefix("file://").startswith(m) for m in mounted), (reader, uri)
        else:
            assert uri.startswith("mlflow-artifacts:"), uri

    # The API serves the published predictions; the UI answers.
    deadline = time.monotonic() + 120
    while (ready := httpx.get(topology.url("api", "/ready"), timeout=10)).status_code != 200:
        assert time.monotonic() < deadline, ready.text
        time.sleep(2)
    assert ready.json()["model_version"]
    assert httpx.get(topology.url("ui", "/"), timeout=30).status_code == 200
