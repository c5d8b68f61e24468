"""Real processes for the browser tests of the UI and the API docs: `ovni serve` / `ovni ui` on free ports,
usually over the session's served home (the `served_home` fixture of tests/conftest.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.cli import OVNI, ovni_env

REPO_ROOT = Path(__file__).resolve().parents[2]
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
    return ovni_env(
        home,
        {
            "DAGSTER_HOME": str(home / "dagster"),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        },
    )


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


def start_api(
    home: Path, log_dir: Path, port: int | None = None, env: dict[str, str] | None = None
) -> Server:
    """`ovni serve` on `port` (a free one by default; the same one to bring a stopped API back), with
    `env` on top of the usual environment."""
    port = port or free_port()
    return start_server(
        ["serve", "--port", str(port)],
        base_env(home) | (env or {}),
        log_dir / f"api-{port}-{time.monotonic_ns()}.log",
        "/ready",
        API_READY_SECONDS,
    )


def served_week(home: Path) -> date:
    """The target week of the home's published snapshot."""
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return con.execute("SELECT target_week FROM snapshot_info").fetchone()[0]


def stale_by(home: Path, days: int) -> dict[str, str]:
    """The environment that has the API judge the home's served week `days` days late (the default grace
    of 2 days after the week: the last fresh day is the target week + 8 days)."""
    today = served_week(home) + timedelta(days=8 + days)
    return {"OVNI_FRESHNESS_TODAY": today.isoformat(), "OVNI_FRESHNESS_GRACE_DAYS": "2"}


def start_ui(home: Path, api_url: str, log_dir: Path, lang: str = "es") -> Server:
    port = free_port()
    env = base_env(home) | {"OVNI_API_URL": api_url, "OVNI_UI_LANG": lang}
    return start_server(["ui", "--port", str(port)], env, log_dir / f"ui-{port}.log", "/", UI_READY_SECONDS)
