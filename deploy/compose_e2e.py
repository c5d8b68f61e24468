"""`make test-compose`: the docker compose stack built and run for real, as docs/deploy.md tells an operator.

Phases: a Docker engine (a private `dockerd` when none answers), Compose v2 and buildx (from Debian packages
when missing), the air-gapped base images (deploy/offline/), `docker compose build`, `up --wait`, the SodAI
export copied into landing with `docker compose cp`, the daemon's sensors taking it to published predictions,
the checks (/ready, /predict, the UI page, the MLflow champion, the Dagster code location, the MLflow host
guard, ports bound to 127.0.0.1), a recreated service finding its state in the volumes, every volume backed
up, removed and restored (deploy/compose-volumes.sh) serving the same batch, and `down -v`.
Only 127.0.0.1 is contacted from the host. Standard library only, so any Python 3 runs it.

Environment (all optional):
- OVNI_COMPOSE_CACHE: data roots of the private daemon, rootfs tarball, plugins; kept between runs.
- OVNI_COMPOSE_PORT_BASE: host ports BASE..BASE+3 (default 13700).
- OVNI_COMPOSE_DATA: the export to land (default ../shared/data/sodai).
- OVNI_COMPOSE_STORAGE_DRIVERS: of a private daemon, the first that starts (default overlay2,vfs).
- PYTHON_IMAGE and POSTGRES_IMAGE: base images to use instead of building the offline ones.
- OVNI_BUILD_CA_BUNDLE: CA bundle for pip/uv in the build (default: the one pip here trusts).
- OVNI_COMPOSE_WAIT_SECONDS: deadline for the sensors to publish predictions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OFFLINE = REPO / "deploy" / "offline"
CACHE = Path(os.environ.get("OVNI_COMPOSE_CACHE", "/var/cache/ovni-compose"))
RUN_DIR = Path(os.environ.get("OVNI_COMPOSE_RUN_DIR", "/run/ovni-compose"))
DATA = Path(os.environ.get("OVNI_COMPOSE_DATA", REPO.parent / "shared" / "data" / "sodai"))
PORT_BASE = int(os.environ.get("OVNI_COMPOSE_PORT_BASE", "13700"))
PIPELINE_SECONDS = float(os.environ.get("OVNI_COMPOSE_WAIT_SECONDS", "1500"))
PROJECT = "ovni-compose-test"
OFFLINE_TAG = "ovni-offline"
TEST_IMAGE = f"{PROJECT}:latest"
# A name a team would reach MLflow by; sent as a Host header to 127.0.0.1, never resolved.
TEAM_MLFLOW_HOST = "mlflow.ovni.test"
PORTS = {
    "OVNI_PUBLISH_DAGSTER_PORT": PORT_BASE,
    "OVNI_PUBLISH_MLFLOW_PORT": PORT_BASE + 1,
    "OVNI_PUBLISH_API_PORT": PORT_BASE + 2,
    "OVNI_PUBLISH_UI_PORT": PORT_BASE + 3,
}
DAGSTER = f"http://127.0.0.1:{PORTS['OVNI_PUBLISH_DAGSTER_PORT']}"
MLFLOW = f"http://127.0.0.1:{PORTS['OVNI_PUBLISH_MLFLOW_PORT']}"
API = f"http://127.0.0.1:{PORTS['OVNI_PUBLISH_API_PORT']}"
UI = f"http://127.0.0.1:{PORTS['OVNI_PUBLISH_UI_PORT']}"

STARTED = time.monotonic()


class Failed(Exception):
    """A check or a phase that did not hold; the message says which and why."""


def say(message: str) -> None:
    print(f"[test-compose {time.monotonic() - STARTED:7.1f}s] {message}", flush=True)


class Phase:
    """One progress line when a phase starts and one with its duration when it ends."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> Phase:
        self.start = time.monotonic()
        say(f"{self.name} ...")
        return self

    def __exit__(self, kind, value, traceback) -> None:
        outcome = "done" if kind is None else "FAILED"
        say(f"{self.name}: {outcome} in {time.monotonic() - self.start:.1f}s")


def run(argv: list[str], timeout: float, env: dict | None = None, quiet: bool = False, **kwargs):
    """A command with a deadline; its output goes to ours unless quiet (then it is returned)."""
    try:
        result = subprocess.run(
            argv,
            env=env or ENV,
            timeout=timeout,
            text=True,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            stdin=subprocess.DEVNULL,
            **kwargs,
        )
    except subprocess.TimeoutExpired as expired:
        raise Failed(f"`{' '.join(argv)}` did not finish within {timeout:.0f}s") from expired
    if result.returncode != 0:
        output = f":\n{result.stdout[-3000:]}" if quiet and result.stdout else ""
        raise Failed(f"`{' '.join(argv)}` exited {result.returncode}{output}")
    return result.stdout or ""


def compose(*args: str, timeout: float = 600, quiet: bool = False) -> str:
    return run(["docker", "compose", "-p", PROJECT, *args], timeout=timeout, quiet=quiet, cwd=REPO)


def http(url: str, body: dict | None = None, host: str | None = None, timeout: float = 30):
    """(status, parsed JSON or text) of a request to 127.0.0.1; errors become a status, not an exception."""
    if not url.startswith("http://127.0.0.1:"):
        raise Failed(f"refusing to contact {url}: only 127.0.0.1")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        request.add_header("Content-Type", "application/json")
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
        return 0, str(error)
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw


def graphql(query: str, variables: dict | None = None) -> dict:
    status, body = http(f"{DAGSTER}/graphql", {"query": query, "variables": variables or {}}, timeout=60)
    if status != 200 or not isinstance(body, dict) or body.get("errors"):
        raise Failed(f"Dagster GraphQL answered {status}: {str(body)[:500]}")
    return body["data"]


# ---- phases -------------------------------------------------------------------------------------------


def docker_reachable() -> bool:
    try:
        return subprocess.run(["docker", "info"], env=ENV, capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise Failed(f"{', '.join(packages)} missing and not root: install them (docs/deploy.md)")
    say(f"installing {' '.join(packages)} from Debian")
    apt_env = {**ENV, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], timeout=600, env=apt_env)
    run(
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "-o",
            "DPkg::Lock::Timeout=300",
            *packages,
        ],
        timeout=900,
        env=apt_env,
    )


def start_private_dockerd() -> subprocess.Popen:
    """A dockerd of our own: own socket, exec root and data root (kept: the layer and build caches), with
    the first storage driver of OVNI_COMPOSE_STORAGE_DRIVERS that this kernel and file system take."""
    if shutil.which("dockerd") is None:
        apt_install("docker.io")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    socket_path = RUN_DIR / "docker.sock"
    pidfile = RUN_DIR / "dockerd.pid"
    if pidfile.exists():
        stale = int(pidfile.read_text().strip() or 0)
        if stale and Path(f"/proc/{stale}").exists():
            raise Failed(f"a dockerd (pid {stale}) already owns {pidfile}; stop it or set DOCKER_HOST")
        pidfile.unlink()
    ENV["DOCKER_HOST"] = f"unix://{socket_path}"
    log_path = RUN_DIR / "dockerd.log"
    for driver in os.environ.get("OVNI_COMPOSE_STORAGE_DRIVERS", "overlay2,vfs").split(","):
        data_root = CACHE / f"docker-{driver}"
        data_root.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            daemon = subprocess.Popen(
                ["dockerd", "--storage-driver", driver, "--data-root", str(data_root),
                 "--exec-root", str(RUN_DIR / "exec"), "--pidfile", str(pidfile), "-H", f"unix://{socket_path}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 90
        while daemon.poll() is None and time.monotonic() < deadline and not docker_reachable():
            time.sleep(1)
        if daemon.poll() is None and docker_reachable():
            say(f"private dockerd: storage driver {driver}, data root {data_root}")
            return daemon
        say(f"dockerd with storage driver {driver} did not start: {log_path.read_text()[-1500:]}")
        stop_private_dockerd(daemon)
    raise Failed(f"no private dockerd could start ({log_path})")


def stop_private_dockerd(daemon: subprocess.Popen) -> None:
    """SIGTERM (dockerd stops its containers and its containerd), SIGKILL after 90 s."""
    if daemon.poll() is None:
        daemon.terminate()
        try:
            daemon.wait(timeout=90)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=30)


def ensure_compose_v2() -> None:
    """Compose v2 and buildx as CLI plugins; from Debian packages (private apt state) when missing."""
    found = subprocess.run(
        ["docker", "compose", "version", "--short"], env=ENV, capture_output=True, text=True
    )
    buildx = subprocess.run(["docker", "buildx", "version"], env=ENV, capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip().lstrip("v").startswith("2") and buildx.returncode == 0:
        say(f"Compose {found.stdout.strip()} and {buildx.stdout.split()[1]} found")
        return
    run([str(OFFLINE / "fetch-compose-plugins.sh"), str(CACHE)], timeout=600)
    ENV["DOCKER_CONFIG"] = str(CACHE / "docker-config")
    say(run(["docker", "compose", "version"], timeout=60, quiet=True).strip())


def build_offline_bases() -> None:
    """The Python and PostgreSQL bases from Debian packages (deploy/offline/), unless images are given."""
    if "PYTHON_IMAGE" in os.environ and "POSTGRES_IMAGE" in os.environ:
        say(f"bases given: {os.environ['PYTHON_IMAGE']}, {os.environ['POSTGRES_IMAGE']}")
        return
    if shutil.which("debootstrap") is None:
        apt_install("debootstrap")
    rootfs = CACHE / "rootfs" / "debian-bookworm.tar"
    run([str(OFFLINE / "debian-rootfs.sh"), str(rootfs), "bookworm"], timeout=1200)
    build = ["docker", "build", "--quiet"]
    debian = f"{OFFLINE_TAG}/debian:bookworm"
    run([*build, "-t", debian, "-f", str(OFFLINE / "debian.Dockerfile"), str(rootfs.parent)], timeout=900)
    python = f"{OFFLINE_TAG}/python:3.11-bookworm"
    postgres = f"{OFFLINE_TAG}/postgres:15-bookworm"
    for tag, dockerfile in ((python, "python.Dockerfile"), (postgres, "postgres.Dockerfile")):
        run(
            [
                *build,
                "--build-arg",
                f"DEBIAN_IMAGE={debian}",
                "-t",
                tag,
                "-f",
                str(OFFLINE / dockerfile),
                str(OFFLINE),
            ],
            timeout=1200,
        )
    ENV.setdefault("PYTHON_IMAGE", python)
    ENV.setdefault("POSTGRES_IMAGE", postgres)


def land_export() -> list[str]:
    """The export into the landing zone, with the command docs/deploy.md gives."""
    files = sorted(p for p in DATA.iterdir() if p.suffix in (".parquet", ".csv"))
    if not files:
        raise Failed(f"no .parquet/.csv files in {DATA}")
    for path in files:
        compose("cp", str(path), "code-server:/data/ovni/landing/", timeout=120)
    listed = compose("exec", "-T", "code-server", "ls", "/data/ovni/landing", timeout=60, quiet=True).split()
    missing = [p.name for p in files if p.name not in listed]
    if missing:
        raise Failed(f"not in the landing zone after `docker compose cp`: {missing}")
    return [p.name for p in files]


RUNS_QUERY = "{ runsOrError { ... on Runs { results { runId jobName status } } } }"


def wait_for_predictions() -> dict:
    """/ready turns ready once the sensors have ingested, trained, predicted and published; a failed run
    stops the wait at once."""
    deadline = time.monotonic() + PIPELINE_SECONDS
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        runs = graphql(RUNS_QUERY)["runsOrError"]["results"]
        for item in runs:
            if seen.get(item["runId"]) != item["status"]:
                seen[item["runId"]] = item["status"]
                say(f"  run {item['jobName']} {item['runId'][:8]}: {item['status']}")
        failed = [item for item in runs if item["status"] in ("FAILURE", "CANCELED")]
        if failed:
            raise Failed(f"{failed[0]['jobName']} run {failed[0]['runId']} ended {failed[0]['status']}")
        status, ready = http(f"{API}/ready")
        if status == 200 and isinstance(ready, dict) and ready.get("status") == "ready":
            return ready
        time.sleep(10)
    raise Failed(f"/ready not ready within {PIPELINE_SECONDS:.0f}s (last answer: {status} {ready})")


def check_serving(ready: dict) -> str:
    if not ready.get("model_version") or not ready.get("week_start"):
        raise Failed(f"/ready is ready without a model version or week: {ready}")
    status, page = http(f"{API}/predictions?limit=1")
    if status != 200 or not page.get("items"):
        raise Failed(f"GET /predictions answered {status}: {page}")
    row = page["items"][0]
    pair = {"customer_id": row["customer_id"], "product_id": row["product_id"]}
    status, answer = http(f"{API}/predict", {"pairs": [pair]})
    if status != 200:
        raise Failed(f"POST /predict answered {status}: {answer}")
    scored = answer["predictions"][0]
    if answer["model_version"] != ready["model_version"] or not 0 <= scored["probability"] <= 1:
        raise Failed(f"/predict disagrees with /ready ({ready['model_version']}): {answer}")
    status, unknown = http(
        f"{API}/predict", {"pairs": [{"customer_id": 10**12, "product_id": pair["product_id"]}]}
    )
    if status != 404:
        raise Failed(f"an unknown customer answered {status} instead of 404: {unknown}")
    say(f"  /ready model {ready['model_version']} week {ready['week_start']}; /predict {pair} -> {scored}")
    return ready["model_version"]


def wait_ready(seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    status, ready = http(f"{API}/ready")
    while not (status == 200 and ready.get("status") == "ready") and time.monotonic() < deadline:
        time.sleep(5)
        status, ready = http(f"{API}/ready")
    if status != 200 or ready.get("status") != "ready":
        raise Failed(f"/ready not ready within {seconds:.0f}s: {status} {ready}")
    return ready


def restore_volumes_from_backup(served: str) -> None:
    """deploy/compose-volumes.sh as docs/operations.md tells an operator: back up every volume, lose them
    all (`down -v`), restore, `up`: the same batch and champion are served."""
    script = ["bash", str(REPO / "deploy" / "compose-volumes.sh"), "-p", PROJECT]
    _, before = http(f"{API}/predictions?limit=500")
    folder = Path(tempfile.mkdtemp(prefix="ovni-compose-volumes-"))
    try:
        run([*script, "backup", str(folder)], timeout=900, cwd=REPO)
        (backup,) = folder.glob("ovni-volumes-*")
        compose("down", "-v", "--timeout", "30", timeout=300)
        run([*script, "restore", str(backup)], timeout=900, cwd=REPO)
        compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)
        ready = wait_ready(300)
        _, after = http(f"{API}/predictions?limit=500")
        if ready.get("model_version") != served or champion_version() != served or after != before:
            raise Failed(f"after the restore /ready says {ready}; expected model {served} and the same batch")
        say(f"  restored from {backup.name}: model {served}, {len(after['items'])} predictions as before")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_ui() -> None:
    status, page = http(f"{UI}/")
    if status != 200 or "gradio" not in str(page).lower():
        raise Failed(f"the UI page answered {status}: {str(page)[:300]}")


def champion_version() -> str:
    status, body = http(f"{MLFLOW}/api/2.0/mlflow/registered-models/alias?name=ovni-purchase&alias=champion")
    if status != 200:
        raise Failed(f"MLflow has no champion: {status} {body}")
    return body["model_version"]["version"]


def check_mlflow_host_guard() -> None:
    """The team's name (OVNI_MLFLOW_ALLOWED_HOSTS) is answered; any other Host header is refused.
    (MLflow's /health answers every host, so the guard is checked on the registry API.)"""
    port = PORTS["OVNI_PUBLISH_MLFLOW_PORT"]
    url = f"{MLFLOW}/api/2.0/mlflow/registered-models/get?name=ovni-purchase"
    status, body = http(url, host=f"{TEAM_MLFLOW_HOST}:{port}")
    if status != 200:
        raise Failed(
            f"MLflow refused its configured host name {TEAM_MLFLOW_HOST}: {status} {str(body)[:200]}"
        )
    status, body = http(url, host=f"not-allowed.ovni.test:{port}")
    if status != 403:
        raise Failed(f"MLflow answered {status} to a host name not allowed (expected 403): {str(body)[:200]}")


LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on RepositoryLocation { repositories { jobs { name } } } } } } } }"""


def check_code_location() -> None:
    entries = graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
    loaded = {e["name"]: e["locationOrLoadError"] for e in entries}
    location = loaded.get("ovni") or {}
    if location.get("__typename") != "RepositoryLocation":
        raise Failed(f"code location `ovni` not loaded: {entries}")
    jobs = {job["name"] for repo in location["repositories"] for job in repo["jobs"]}
    say(f"  code location ovni: {len(jobs)} jobs")


def check_ports_local() -> None:
    for service, port in (("webserver", 3000), ("mlflow", 5000), ("api", 8000), ("ui", 7860)):
        published = compose("port", service, str(port), timeout=60, quiet=True).split()
        if not published or any(not address.startswith("127.0.0.1:") for address in published):
            raise Failed(f"{service}:{port} is published on {published}, not only on 127.0.0.1")


def print_failure_context() -> None:
    for argv in (["ps", "-a"], ["logs", "--no-color", "--tail", "60"]):
        try:
            print(compose(*argv, timeout=120, quiet=True)[-20000:], flush=True)
        except Failed as error:
            print(error, flush=True)


def clean_up() -> None:
    """Containers, volumes, network and the image this test built; layer and build caches stay."""
    try:
        compose("down", "-v", "--remove-orphans", "--timeout", "30", timeout=300)
    except Failed as error:
        say(f"down -v: {error}")
    subprocess.run(["docker", "image", "rm", "-f", TEST_IMAGE], env=ENV, capture_output=True, timeout=300)
    subprocess.run(["docker", "image", "prune", "-f"], env=ENV, capture_output=True, timeout=600)
    # Bound the build cache (vfs keeps a full copy per layer): the newest layers stay for the next run.
    subprocess.run(
        [
            "docker",
            "builder",
            "prune",
            "-f",
            "--keep-storage",
            os.environ.get("OVNI_COMPOSE_KEEP_CACHE", "30GB"),
        ],
        env=ENV,
        capture_output=True,
        timeout=600,
    )


def main() -> int:
    private_daemon = None
    try:
        with Phase("engine"):
            if shutil.which("docker") is None:
                raise Failed("no docker CLI on PATH (docs/deploy.md: versions)")
            if docker_reachable():
                say(f"using the engine at {ENV.get('DOCKER_HOST', 'the default socket')}")
            else:
                private_daemon = start_private_dockerd()
                say(f"private dockerd pid {private_daemon.pid} at {ENV['DOCKER_HOST']}")
            say(
                "engine "
                + run(["docker", "version", "-f", "{{.Server.Version}}"], timeout=60, quiet=True).strip()
            )
            ensure_compose_v2()
        with Phase("offline base images"):
            build_offline_bases()
        with Phase("docker compose build"):
            compose("--progress", "plain", "build", timeout=2400)
        try:
            with Phase("docker compose up --wait"):
                compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)
                check_ports_local()
            with Phase("export into landing"):
                say(f"  landed {land_export()}")
            with Phase("sensors: ingest, first champion, predictions"):
                ready = wait_for_predictions()
            with Phase("checks"):
                served = check_serving(ready)
                check_ui()
                if champion_version() != served:
                    raise Failed(f"MLflow champion {champion_version()} is not the served {served}")
                check_mlflow_host_guard()
                check_code_location()
            with Phase("recreate mlflow and api: state from the volumes"):
                compose(
                    "up",
                    "-d",
                    "--wait",
                    "--wait-timeout",
                    "300",
                    "--force-recreate",
                    "--no-deps",
                    "mlflow",
                    "api",
                    timeout=600,
                )
                deadline = time.monotonic() + 300
                status, after = http(f"{API}/ready")
                while not (status == 200 and after.get("status") == "ready") and time.monotonic() < deadline:
                    time.sleep(5)
                    status, after = http(f"{API}/ready")
                if status != 200 or after.get("model_version") != served or champion_version() != served:
                    raise Failed(f"after the restart /ready says {status} {after}, expected model {served}")
            with Phase("volumes backed up, removed and restored"):
                restore_volumes_from_backup(served)
        except BaseException:
            print_failure_context()
            raise
        finally:
            with Phase("down -v and prune"):
                clean_up()
    except Failed as error:
        say(f"FAILED: {error}")
        return 1
    finally:
        if private_daemon is not None:
            stop_private_dockerd(private_daemon)
            say("private dockerd stopped")
    say("1 passed, 0 failed")
    return 0


ENV = {
    **os.environ,
    **{name: str(port) for name, port in PORTS.items()},
    "OVNI_IMAGE": TEST_IMAGE,
    "OVNI_PUBLISH_ADDRESS": "127.0.0.1",
    "OVNI_MLFLOW_ALLOWED_HOSTS": f"mlflow,mlflow:5000,localhost:*,127.0.0.1:*,{TEAM_MLFLOW_HOST}:*",
    "OVNI_HPO_SECONDS": os.environ.get("OVNI_HPO_SECONDS", "5"),
    "POSTGRES_PASSWORD": os.environ.get("POSTGRES_PASSWORD") or "compose-test-" + os.urandom(6).hex(),
}


def build_ca_bundle() -> str:
    """The CA bundle this machine's pip trusts, for pip/uv inside the build (a TLS-intercepting proxy)."""
    for name in ("OVNI_BUILD_CA_BUNDLE", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if os.environ.get(name) and Path(os.environ[name]).is_file():
            return os.environ[name]
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    return str(system) if system.is_file() else ""


ENV["OVNI_BUILD_CA_BUNDLE"] = build_ca_bundle()
if re.search(r"[^A-Za-z0-9._~-]", ENV["POSTGRES_PASSWORD"]):
    sys.exit("POSTGRES_PASSWORD must be URL-safe (letters, digits, - _ . ~): it is part of the MLflow URL")

if __name__ == "__main__":
    sys.exit(main())
