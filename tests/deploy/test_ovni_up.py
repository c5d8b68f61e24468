"""`ovni up`: one command starts every service on free ports, and SIGTERM leaves nothing behind."""

from __future__ import annotations

import fcntl
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from rich.console import Console

from ovni_assets import stack
from ovni_assets.settings import get_settings
from tests.cli import OVNI, ovni_env, run_ovni

PORT_SETTINGS = ("OVNI_DAGSTER_PORT", "OVNI_MLFLOW_PORT", "OVNI_API_PORT", "OVNI_UI_PORT")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def free_ports(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    ports = {name: free_port() for name in PORT_SETTINGS}
    for name, port in ports.items():
        monkeypatch.setenv(name, str(port))
    return ports


def test_a_taken_port_is_named_with_the_setting_that_moves_it(ovni_home, free_ports):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_ports["OVNI_API_PORT"]))
        squatter.listen()
        result = run_ovni(ovni_home.home, "up", timeout=120, expect=1)
    message = result.stderr.strip()
    assert str(free_ports["OVNI_API_PORT"]) in message and "OVNI_API_PORT" in message
    assert len(message.splitlines()) == 1, message
    # Nothing started and nothing generated.
    assert not (ovni_home.home / "logs").exists()
    assert not list(ovni_home.landing_dir.iterdir())


def test_two_services_on_one_port_are_refused(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_DAGSTER_PORT", "5000")
    monkeypatch.setenv("OVNI_MLFLOW_PORT", "5000")
    with pytest.raises(stack.StackError, match="both set to port 5000"):
        stack.check_ports(get_settings())


def test_first_start_generates_demo_data_and_runs_the_pipeline_only_when_needed(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_DEMO_WEEKS", "12")
    monkeypatch.setenv("OVNI_DEMO_CUSTOMERS", "30")
    empty = stack.first_start_steps(get_settings())
    assert [step.argv[3] for step in empty] == ["generate", "run"]
    assert [step.must_succeed for step in empty] == [True, False]
    generate = empty[0].argv
    assert generate[generate.index("--weeks") + 1] == "12"
    assert generate[generate.index("--customers") + 1] == "30"

    (ovni_home.landing_dir / "transacciones_2024.parquet").write_bytes(b"user data")
    assert [step.argv[3] for step in stack.first_start_steps(get_settings())] == ["run"]

    ovni_home.serving_path.write_bytes(b"published snapshot")
    assert stack.first_start_steps(get_settings()) == []


def test_the_api_counts_as_up_only_once_it_serves_a_published_snapshot(ovni_home, monkeypatch):
    class AliveButLoading(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), AliveButLoading) as api:
        threading.Thread(target=api.serve_forever, daemon=True).start()
        monkeypatch.setenv("OVNI_API_PORT", str(api.server_address[1]))

        def api_is_ready() -> bool:
            (service,) = [s for s in stack.services(get_settings()) if s.name == "api"]
            with httpx.Client(trust_env=False) as client:
                return service.is_ready(client)

        assert api_is_ready(), "no snapshot yet: a live API is enough"
        ovni_home.serving_path.write_bytes(b"published snapshot")
        assert not api_is_ready(), "a snapshot exists: wait until the API serves it"
        api.shutdown()


def test_a_failed_demo_generation_stops_ovni_up(ovni_home, monkeypatch):
    monkeypatch.setenv("OVNI_DEMO_WEEKS", "0")
    with pytest.raises(stack.StackError, match=r"Generating demo data .* failed"):
        stack.generate_demo_data(get_settings(), Console(quiet=True))


def test_a_failed_first_pipeline_run_is_reported_once_and_the_services_stay_up(ovni_home):
    (ovni_home.landing_dir / "transacciones_broken.csv").write_text("not,the,source,schema\n1,2,3,4\n")
    console = Console(record=True, width=200)
    first_run = stack.FirstRun.start_if_needed(get_settings())
    assert first_run is not None
    first_run.process.wait(timeout=300)
    assert first_run.report_if_finished(console) and first_run.report_if_finished(console)
    text = console.export_text()
    assert text.count("failed (exit code 1); the services stay up") == 1, text
    assert "Running the pipeline: ingest → features → train → predict" in text
    assert not ovni_home.serving_path.exists()


def test_stop_kills_a_process_tree_that_ignores_sigterm(tmp_path: Path):
    script = "trap '' TERM; sleep 300 & sleep 300 & wait"
    process = stack.spawn(("sh", "-c", script), dict(os.environ), tmp_path / "stubborn.log", tmp_path)
    deadline = time.monotonic() + 10
    while len(psutil.Process(process.pid).children()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    stack.stop([process], grace_seconds=1.0)
    assert process.returncode == -signal.SIGKILL
    _, alive = psutil.wait_procs(tree, timeout=5)
    assert not alive


def test_children_stop_when_ovni_up_itself_is_killed(tmp_path: Path):
    supervisor = (
        "import os, sys, time; from pathlib import Path; from ovni_assets.stack import spawn; "
        "p = spawn((sys.executable, '-c', 'import time; time.sleep(300)'), dict(os.environ), "
        f"Path({str(tmp_path)!r}) / 'child.log', Path({str(tmp_path)!r})); "
        "print(p.pid, flush=True); time.sleep(300)"
    )
    parent = subprocess.Popen([sys.executable, "-c", supervisor], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    parent.kill()
    parent.wait()
    child.wait(timeout=10)
    assert not child.is_running()


def test_a_service_that_dies_while_starting_stops_the_others_and_shows_its_log(
    ovni_home, monkeypatch, tmp_path
):
    marker = str(tmp_path / "waiting-service")
    crashing = stack.Service(
        "crashing", "Crashing service",
        (sys.executable, "-c", "print('bad config: no such table'); raise SystemExit(3)"),
        None, None, None, lambda client: False, 60.0,
    )  # fmt: skip
    waiting = stack.Service(
        "waiting", "Waiting service", (sys.executable, "-c", "import time; time.sleep(300)", marker),
        None, None, None, lambda client: False, 60.0,
    )  # fmt: skip
    monkeypatch.setattr(stack, "services", lambda settings: [waiting, crashing])
    with (
        pytest.raises(stack.StackError, match=r"Crashing service exited with code 3(.|\n)*no such table"),
        stack.running_stack(get_settings(), Console(quiet=True)),
    ):
        pytest.fail("the stack must not come up")
    assert (ovni_home.home / "logs" / "crashing.log").exists()
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]
    assert not left, left


@pytest.mark.slow
def test_ovni_up_starts_everything_with_predictions_and_stops_cleanly_on_sigterm(
    ovni_home, free_ports, monkeypatch
):
    monkeypatch.setenv("OVNI_DEMO_WEEKS", "16")
    monkeypatch.setenv("OVNI_DEMO_CUSTOMERS", "60")
    output = ovni_home.home / "up.out"
    with output.open("wb") as out:
        up = subprocess.Popen(
            [OVNI, "up"], env=ovni_env(ovni_home.home), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 900
        while "OVNI is running" not in output.read_text():
            assert up.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(1)

        urls = {
            "dagster": f"http://127.0.0.1:{free_ports['OVNI_DAGSTER_PORT']}/server_info",
            "mlflow": f"http://127.0.0.1:{free_ports['OVNI_MLFLOW_PORT']}/health",
            "api": f"http://127.0.0.1:{free_ports['OVNI_API_PORT']}/ready",
            "ui": f"http://127.0.0.1:{free_ports['OVNI_UI_PORT']}/",
        }
        for name in ("dagster", "mlflow", "ui"):
            response = httpx.get(urls[name], timeout=30)
            assert response.status_code == 200, (name, response.text[:500])
        # The services answer while the first run goes on; the API says it is preparing until it serves.
        while "First predictions published" not in output.read_text():
            assert "failed (exit code" not in output.read_text(), output.read_text()
            ready = httpx.get(urls["api"], timeout=30)
            # "loading" once the run has published and the API is picking the snapshot up
            expected = "loading" if ovni_home.serving_path.exists() else "preparing"
            assert ready.status_code == 200 or ready.json()["status"] in ("preparing", expected), ready.text
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(1)
        deadline = time.monotonic() + 60  # the API's reload poll picks the snapshot up
        while (ready := httpx.get(urls["api"], timeout=30)).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.5)
        assert ready.json()["model_version"]
        table = output.read_text()
        for port in free_ports.values():
            assert f"127.0.0.1:{port}" in table
        assert any(ovni_home.landing_dir.iterdir()), "demo data was not generated"

        tree = [psutil.Process(up.pid), *psutil.Process(up.pid).children(recursive=True)]
        assert len(tree) > 5
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=120) == 0, output.read_text()
    finally:
        if up.poll() is None:  # a failed assertion above: stop the stack the way a user would
            up.send_signal(signal.SIGINT)
            up.wait(timeout=120)
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, f"orphans: {alive}"
    # No stale locks: the run lock and the warehouse are free for the next writer.
    with ovni_home.run_lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    for port in free_ports.values():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
