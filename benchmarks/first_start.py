"""First-start benchmark: how soon a new home's `ovni up` answers and serves predictions.

Starts `ovni up` on a new, empty OVNI_HOME (free local ports, the default demo data unless told otherwise)
and records, from its start: each service's "✓" line, the URL table ("answers"), and the first moment
`GET /ready` is 200 ("predictions"). Stops it with SIGTERM, then starts it again on the same home: that
restart (data, model and snapshot in place) is the baseline of the same run, the cost of starting the
services alone; the ratios of the first start to it are printed with the times.

Usage: `python benchmarks/first_start.py [--ovni PATH] [--repeat N] [--json FILE]`
(`--ovni` runs another installation's `ovni`, e.g. an older clone's, against the same measurements;
`--repeat` takes the median of N new homes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

PORT_SETTINGS = ("OVNI_DAGSTER_PORT", "OVNI_MLFLOW_PORT", "OVNI_API_PORT", "OVNI_UI_PORT")
SERVICE_TITLES = ("Dagster UI", "Dagster daemon", "MLflow UI", "Prediction API", "Gradio UI")
TIMEOUT_SECONDS = 1800.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_start(ovni: str, home: Path, env: dict[str, str]) -> dict[str, float]:
    """Seconds from `ovni up` to each milestone; `predictions` is when /ready first answers 200."""
    started = time.monotonic()
    marks: dict[str, float] = {}
    up = subprocess.Popen(
        [ovni, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: list[str] = []

    def read() -> None:
        for line in up.stdout:
            lines.append(line)
            now = time.monotonic() - started
            for title in SERVICE_TITLES:
                if "✓" in line and title in line:
                    marks.setdefault(title, now)
            if "OVNI is running" in line:
                marks.setdefault("answers", now)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready_url = f"http://127.0.0.1:{env['OVNI_API_PORT']}/ready"
    try:
        with httpx.Client(timeout=5, trust_env=False) as client:
            while "predictions" not in marks or "answers" not in marks:
                if up.poll() is not None:
                    raise RuntimeError("ovni up ended:\n" + "".join(lines[-30:]))
                if time.monotonic() - started > TIMEOUT_SECONDS:
                    raise RuntimeError("no predictions served in time:\n" + "".join(lines[-30:]))
                try:
                    if "predictions" not in marks and client.get(ready_url).status_code == 200:
                        marks["predictions"] = time.monotonic() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=120)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        reader.join(timeout=10)
    return marks


def measure(ovni: str, extra_env: dict[str, str]) -> tuple[dict[str, float], dict[str, float]]:
    """A first start on a new home, then a restart of the same home."""
    with tempfile.TemporaryDirectory(prefix="ovni-first-start-") as folder:
        home = Path(folder) / "home"
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        env.update({"OVNI_HOME": str(home), **extra_env})
        env.update({name: str(free_port()) for name in PORT_SETTINGS})
        first = one_start(ovni, home, env)
        restart = one_start(ovni, home, env)
    return first, restart


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ovni", default=str(Path(sys.executable).with_name("ovni")))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    firsts, restarts = [], []
    for _ in range(args.repeat):
        first, restart = measure(args.ovni, {})
        firsts.append(first)
        restarts.append(restart)

    def median(runs: list[dict[str, float]], key: str) -> float | None:
        values = [run[key] for run in runs if key in run]
        return statistics.median(values) if values else None

    print(f"ovni: {args.ovni}; {args.repeat} new home(s); median seconds after `ovni up` started")
    print(f"{'milestone':<18}{'first start':>12}{'restart':>10}{'ratio':>8}")
    summary = {}
    for key in (*SERVICE_TITLES, "answers", "predictions"):
        one, again = median(firsts, key), median(restarts, key)
        summary[key] = {"first_start": one, "restart": again}
        ratio = f"{one / again:.2f}" if one and again else "-"
        shown = [f"{v:.1f}" if v is not None else "-" for v in (one, again)]
        print(f"{key:<18}{shown[0]:>12}{shown[1]:>10}{ratio:>8}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": {"first": firsts, "restart": restarts}, "median": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
