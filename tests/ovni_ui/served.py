"""Real processes for the browser tests of the UI and the API docs: an OVNI_HOME prepared with the real CLI on
the demo data's generator (small), and `ovni serve` / `ovni ui` on free ports.

The home is built once per pytest session (a marker file under the session's temp folder, shared by the
xdist workers), whichever test package asks for it first.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
OVNI = str(Path(sys.executable).with_name("ovni"))
API_READY_SECONDS = 240.0
UI_READY_SECONDS = 180.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OVNI_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster"),
        OVNI_HPO_SECONDS="2",
        OVNI_HPO_MAX_TRIALS="1",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Server:
    """A child process serving HTTP at `url`; its output goes to `log`."""

    process: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_server(args: list[str], env: dict[str, str], log: Path, probe_path: str, timeout: float) -> Server:
    """Start `ovni <args>` in its own process group and wait until `probe_path` answers 200."""
    port = int(args[args.index("--port") + 1])
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [OVNI, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    server = Server(process, url, log)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"ovni {args[0]} exited with {process.returncode}:\n{server.output()}")
            try:
                if client.get(url + probe_path).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    server.stop()
    pytest.fail(f"ovni {args[0]} not ready at {url}{probe_path} within {timeout:.0f}s:\n{server.output()}")


def run_cli(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([OVNI, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"ovni {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def start_api(home: Path, log_dir: Path, port: int | None = None) -> Server:
    """`ovni serve` on `port` (a free one by default; the same one to bring a stopped API back)."""
    port = port or free_port()
    return start_server(
        ["serve", "--port", str(port)],
        base_env(home),
        log_dir / f"api-{port}-{time.monotonic_ns()}.log",
        "/ready",
        API_READY_SECONDS,
    )


def start_ui(home: Path, api_url: str, log_dir: Path, lang: str = "es") -> Server:
    port = free_port()
    env = base_env(home) | {"OVNI_API_URL": api_url, "OVNI_UI_LANG": lang}
    return start_server(["ui", "--port", str(port)], env, log_dir / f"ui-{port}.log", "/", UI_READY_SECONDS)


def build_served_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OVNI_HOME made by the real CLI on small demo data (`ovni generate` defaults but 80 customers and 20
    weeks), in two weekly runs.

    The first `ovni run` sees all weeks but the last and publishes a batch for it; the second lands the last
    week, so the served snapshot also has a realized F1 and a drift report for the monitoring tab.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one home for every worker of the session
        root = root.parent
    home = root / "ovni_served_home"
    with (root / "ovni_served_home.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds it, the others wait and reuse it
        if not (home / ".built").exists():
            _build(home)
    return home


def _build(home: Path) -> None:
    built = home / ".built"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    env = base_env(home)
    generated, landing = home / "generated", home / "landing"
    run_cli(["generate", "--out", str(generated), "--customers", "80", "--weeks", "20"], env)
    landing.mkdir()
    for table in ("clientes", "productos"):
        shutil.copy(generated / f"{table}.parquet", landing / f"{table}.parquet")
    transactions = pd.read_parquet(generated / "transacciones.parquet")
    weeks = transactions["purchase_date"].dt.to_period("W-SUN").dt.start_time
    last_week = weeks.max()
    transactions[weeks < last_week].to_parquet(landing / "transacciones_history.parquet", index=False)
    run_cli(["run"], env)
    transactions[weeks == last_week].to_parquet(landing / "transacciones_last_week.parquet", index=False)
    run_cli(["run"], env)
    if not (home / "serving.duckdb").exists():
        pytest.fail("ovni run finished without publishing serving.duckdb")
    built.touch()
