"""Serving benchmark: the API against a no-op ceiling, a reload-per-request baseline, `mlflow models serve`.

One run, one champion, the same pair for everyone; `wrk` (a C load generator, one thread) at 16 connections
for each server in turn, each server a separate process on a free local port:

- `ovni serve`: POST /predict with one pair, and GET /customers/{id}/recommendations?k=5;
- no-op: a FastAPI app with the same request model that answers a constant, served by uvicorn the same way
  (the ceiling of the HTTP stack on this machine), once under uvicorn's own httptools protocol and once
  under `ovni_serving.header_timeout`'s, which `ovni serve` runs (the cost of the header deadline alone);
- reload-per-request: the old backend — a FastAPI app that finds the newest model file and loads it with
  joblib on every request, then scores the pair's feature row;
- `mlflow models serve` of the champion (`--env-manager local`), POST /invocations with the same row.

Then, in this process, the cost of pairs without history (the cold-start path of /predict): 1,000 such
pairs scored as one batch (`ServingBundle.score_cold`) against the same pairs built one row at a time and
concatenated (the path it replaced); medians of 5 repetitions, wall and CPU seconds. `--cold-start-only`
runs just this part (no wrk needed).

Last, how soon a new champion is served: on a copy of the home whose champion is registered a second time,
`ovni serve` polls the registry every second while the champion alias moves between the two versions 5
times; each move is timed until /ready names the new version, against the baseline the server itself
reports in the same run: one poll interval plus its load of the version
(`ovni_model_last_load_duration_seconds`). `--reload-only` runs just this part (no wrk needed).

Usage: `python benchmarks/serving.py [--home DIR] [--seconds 10] [--repeat N]
[--http-only | --cold-start-only | --reload-only]`.
Without a champion and a snapshot in DIR (default: a temporary folder), it builds them first with
`ovni generate` + `ovni run` on small synthetic data. Prints requests/s, p50 and p99 per server and the
ratios the targets are stated in. `--http-only` measures only `ovni serve` and the no-op ceiling (the
request throughput and latency of the API, e.g. before and after a change to its request path);
`--repeat N` runs the servers N times in turn (each a new process) and prints the median of each figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from ovni_serving.app import STACK_OPTIONS  # every FastAPI server here runs the same stack ...
from ovni_serving.schemas import PredictRequest  # ... and takes the same request model

BIN = Path(sys.executable).parent
CONNECTIONS = 16
NOOP_HEADER_TIMEOUT = "no-op, header-timeout protocol"


# --- the two comparison apps, served by this same script in a child process ------------------------------


def noop_app():
    """Same request model as /predict, constant answer: what the HTTP stack alone can do."""
    from fastapi import FastAPI

    app = FastAPI(**STACK_OPTIONS)

    @app.post("/predict")
    async def predict(body: PredictRequest) -> dict:
        return {"model_version": "0", "predictions": []}

    return app


def reload_per_request_app(model_dir: Path, features_file: Path):
    """The old backend: the newest model file is loaded with joblib on every request, then used once."""
    import joblib
    import pandas as pd
    from fastapi import FastAPI, HTTPException

    rows = pd.read_parquet(features_file)
    rows = rows.set_index(["customer_id", "product_id"])
    app = FastAPI(**STACK_OPTIONS)

    @app.post("/predict")
    def predict(body: PredictRequest) -> dict:
        newest = max(model_dir.glob("*.joblib"), key=lambda path: path.stat().st_mtime)
        model = joblib.load(newest)
        keys = [(pair.customer_id, pair.product_id) for pair in body.pairs]
        if any(key not in rows.index for key in keys):
            raise HTTPException(status_code=404, detail="unknown pair")
        probability = model.predict_proba(rows.loc[keys])[:, 1]
        return {"model_version": newest.stem, "probabilities": [float(p) for p in probability]}

    return app


def serve_child(kind: str, port: int, model_dir: str | None, features_file: str | None) -> None:
    import uvicorn

    from ovni_serving.header_timeout import header_timeout_protocol

    if kind.startswith("noop"):
        app = noop_app()
    else:
        app = reload_per_request_app(Path(model_dir), Path(features_file))
    http = header_timeout_protocol(30.0) if kind == "noop-header-timeout" else "httptools"
    uvicorn.run(app, host="127.0.0.1", port=port, http=http, access_log=False, log_level="warning")


# --- processes and wrk -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(
    command: list[str], probe: str, env: dict[str, str], log: Path, timeout: float = 300
) -> Iterator[None]:
    """Start a server process, wait until `probe` answers 200, stop it (SIGINT, then SIGKILL) afterwards."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited early:\n{log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(probe, timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{probe} not ready after {timeout} s:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(name: str, url: str, seconds: float, work_dir: Path, body: dict | None = None) -> Result:
    """wrk, one thread, 16 connections; POST `body` as JSON when given. Non-2xx answers count as errors."""
    script = work_dir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lua"
    lines = []
    if body is not None:
        lines += [
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(json.dumps(body))}",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
    script.write_text("\n".join(lines) + "\n")
    command = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
    ]
    subprocess.run([*command[:3], "-d2s", *command[4:], url], capture_output=True, check=True)  # warm-up
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, flags=re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk gave no latency distribution for {name}:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"Socket errors: .*?timeout (\d+)", output))
    return Result(
        name=name,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        errors=errors,
    )


def median_results(results: list[Result]) -> list[Result]:
    """One Result per server name (in first-seen order): the median of each figure, errors added up."""
    names = list(dict.fromkeys(r.name for r in results))
    merged = []
    for name in names:
        mine = [r for r in results if r.name == name]
        merged.append(
            Result(
                name=name,
                requests_per_second=statistics.median(r.requests_per_second for r in mine),
                p50_ms=statistics.median(r.p50_ms for r in mine),
                p99_ms=statistics.median(r.p99_ms for r in mine),
                errors=sum(r.errors for r in mine),
            )
        )
    return merged


# --- setup -------------------------------------------------------------------------------------------------


def ensure_pipeline_output(home: Path, env: dict[str, str]) -> None:
    """A champion and a published snapshot in `home`: built with the real pipeline when missing."""
    if (home / "serving.duckdb").exists() and (home / "mlflow.db").exists():
        return
    print(f"building a champion and a snapshot in {home} (ovni generate + ovni run) ...", flush=True)
    landing = home / "landing"
    subprocess.run(
        [str(BIN / "ovni"), "generate", "--out", str(landing), "--customers", "300", "--weeks", "30"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run([str(BIN / "ovni"), "run"], env=env, check=True, stdout=subprocess.DEVNULL)


def benchmark_inputs(home: Path, work_dir: Path) -> tuple[dict, int, Path, Path, str]:
    """The pair everyone scores, its feature row, the champion as a joblib file, the champion version."""
    import duckdb
    import joblib

    from ovni_assets.settings import OvniSettings
    from ovni_serving.champion import ChampionRegistry
    from ovni_serving.scoring import model_input

    registry = ChampionRegistry(OvniSettings(home=home))
    champion = registry.load(registry.champion_version())
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        features = con.execute("SELECT * FROM next_week_features ORDER BY customer_id, product_id").fetchdf()
    finally:
        con.close()
    busiest = int(features["customer_id"].value_counts().idxmax())
    mine = features[features["customer_id"] == busiest]
    complete = mine[model_input(mine, champion.features).notna().all(axis=1)]  # JSON-safe for mlflow too
    row = (complete if len(complete) else mine).iloc[0]
    pair = {"customer_id": int(row["customer_id"]), "product_id": int(row["product_id"])}
    model_dir = work_dir / "models"
    model_dir.mkdir(exist_ok=True)
    joblib.dump(champion.model, model_dir / f"model_v{champion.version}.joblib")
    features_file = work_dir / "features.parquet"
    keys = features[["customer_id", "product_id"]]
    keys.join(model_input(features, champion.features)).to_parquet(features_file)
    return pair, busiest, model_dir, features_file, champion.version


def mlflow_request(features_file: Path, pair: dict) -> dict:
    import pandas as pd

    rows = pd.read_parquet(features_file)
    row = rows[(rows["customer_id"] == pair["customer_id"]) & (rows["product_id"] == pair["product_id"])]
    row = row.drop(columns=["customer_id", "product_id"])
    data = [[None if pd.isna(v) else v for v in values] for values in row.itertuples(index=False, name=None)]
    return {"dataframe_split": {"columns": list(row.columns), "data": data}}


COLD_START_PAIRS = 1000
COLD_START_REPEATS = 5


@dataclass(frozen=True)
class ColdStartTiming:
    pairs: int
    batch_wall: float  # median seconds, one batch
    batch_cpu: float
    one_by_one_wall: float  # median seconds, one row at a time then concatenated
    one_by_one_cpu: float


def _median_seconds(work, repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def cold_start_timing(home: Path, pairs: int = COLD_START_PAIRS, repeats: int = COLD_START_REPEATS):
    """Seconds to score `pairs` pairs without a candidate row: as /predict does, and one row at a time."""
    import pandas as pd

    from ovni_assets.settings import OvniSettings
    from ovni_serving.champion import ChampionRegistry
    from ovni_serving.model_store import build_bundle
    from ovni_serving.scoring import probabilities
    from ovni_serving.snapshot import load_snapshot

    settings = OvniSettings(home=home)
    registry = ChampionRegistry(settings)
    champion = registry.load(registry.champion_version())
    bundle = build_bundle(champion, load_snapshot(settings.serving_path))
    candidates = bundle.snapshot.pair_row
    cold = [
        (c, p)
        for c in bundle.snapshot.customers
        for p in bundle.snapshot.products
        if (c, p) not in candidates
    ][:pairs]
    batch = _median_seconds(lambda: bundle.score_cold(cold), repeats)
    one_by_one = _median_seconds(
        lambda: probabilities(
            champion, pd.concat([bundle.cold_start.row(c, p) for c, p in cold], ignore_index=True)
        ),
        repeats,
    )
    return ColdStartTiming(len(cold), *batch, *one_by_one)


def report_cold_start(timing: ColdStartTiming) -> None:
    print(
        f"cold start, {timing.pairs} pairs without history (median of {COLD_START_REPEATS}): one batch "
        f"{timing.batch_wall:.3f} s wall / {timing.batch_cpu:.3f} s CPU; one row at a time "
        f"{timing.one_by_one_wall:.3f} s wall / {timing.one_by_one_cpu:.3f} s CPU "
        f"({timing.one_by_one_wall / timing.batch_wall:.0f}x)"
    )
    print(
        f"{'cold-start batch wall':<34} {timing.batch_wall:>8.3f} s  "
        f"(target < 1 s: {'met' if timing.batch_wall < 1 else 'NOT met'})"
    )


RELOAD_INTERVAL_SECONDS = 1.0
RELOAD_SWITCHES = 5
RELOAD_SLACK_SECONDS = 5.0  # scheduling on a busy machine, on top of one interval and the load


@dataclass(frozen=True)
class ReloadTiming:
    switches: int
    interval: float  # seconds between two polls of the registry
    visible: float  # median seconds from an alias move to the first /ready naming the new version
    load: float  # median seconds the server took to load the new version (its own metric)


def metric(url: str, name: str) -> float:
    """One unlabelled sample of the server's /metrics."""
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise RuntimeError(f"{name} not in {url}/metrics")


def reload_timing(home: Path, work_dir: Path, env: dict[str, str], switches: int = RELOAD_SWITCHES):
    """Seconds until `ovni serve` answers with a champion the alias moved to, on a copy of `home` whose
    champion is registered again as a second version (same model: every load costs the same)."""
    import mlflow

    from ovni_assets.settings import CHAMPION_ALIAS, MODEL_NAME

    copy = work_dir / "reload-home"
    copy.mkdir()
    for name in ("mlflow.db", "serving.duckdb"):  # the models stay in `home`, only read
        shutil.copy(home / name, copy / name)
    uri = f"sqlite:///{copy / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)  # registering a version looks its logged model up in the default store
    registry = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = registry.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    twin = registry.create_model_version(MODEL_NAME, champion.source, champion.run_id, tags=champion.tags)
    versions = [str(champion.version), str(twin.version)]
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    serve_env = {**env, "OVNI_HOME": str(copy), "OVNI_RELOAD_INTERVAL_SECONDS": str(RELOAD_INTERVAL_SECONDS)}
    visible, loads = [], []
    command = [str(BIN / "ovni"), "serve", "--port", str(port)]
    with (
        server(command, f"{api}/ready", serve_env, work_dir / "reload.log"),
        httpx.Client(base_url=api) as http,
    ):
        for n in range(switches):
            target = versions[(n + 1) % 2]
            registry.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, target)
            moved = time.perf_counter()
            while http.get("/ready").json()["model_version"] != target:
                if time.perf_counter() - moved > 120:
                    raise RuntimeError(f"version {target} not served 120 s after the alias moved")
                time.sleep(0.01)
            visible.append(time.perf_counter() - moved)
            loads.append(metric(api, "ovni_model_last_load_duration_seconds"))
    return ReloadTiming(
        switches, RELOAD_INTERVAL_SECONDS, statistics.median(visible), statistics.median(loads)
    )


def report_reload(timing: ReloadTiming) -> None:
    baseline = timing.interval + timing.load
    print(
        f"new champion served, {timing.switches} alias moves (median): after {timing.visible:.2f} s; "
        f"one poll interval {timing.interval:g} s + the server's load {timing.load:.2f} s = {baseline:.2f} s"
    )
    met = timing.visible <= baseline + RELOAD_SLACK_SECONDS
    print(
        f"{'new champion vs interval + load':<34} {timing.visible / baseline:>8.2f}x  "
        f"(target within {RELOAD_SLACK_SECONDS:g} s of it: {'met' if met else 'NOT met'})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home", type=Path, help="OVNI_HOME with a champion and a snapshot (built if missing)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk duration per server")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the servers N times in turn and print the medians"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--http-only",
        action="store_true",
        help="only `ovni serve` and the no-op ceiling (request throughput and latency)",
    )
    only.add_argument(
        "--cold-start-only", action="store_true", help="only time the scoring of pairs without history"
    )
    only.add_argument(
        "--reload-only", action="store_true", help="only time how soon a new champion is served"
    )
    parser.add_argument("--serve", choices=["noop", "noop-header-timeout", "reload"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--features-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(args.serve, args.port, args.model_dir, args.features_file)
        return 0
    if shutil.which("wrk") is None and not (args.cold_start_only or args.reload_only):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 1

    work_dir = Path(tempfile.mkdtemp(prefix="ovni-bench-serving-"))
    home = (args.home or work_dir / "home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OVNI_HOME": str(home), "OVNI_HPO_SECONDS": os.environ.get("OVNI_HPO_SECONDS", "10")}
    ensure_pipeline_output(home, env)
    if args.cold_start_only:
        report_cold_start(cold_start_timing(home))
        return 0
    if args.reload_only:
        report_reload(reload_timing(home, work_dir, env))
        shutil.rmtree(work_dir, ignore_errors=True)
        return 0
    pair, customer_id, model_dir, features_file, version = benchmark_inputs(home, work_dir)
    print(f"champion version {version}; pair {pair}; customer {customer_id}", flush=True)
    predict_body = {"pairs": [pair]}
    results: list[Result] = []
    seconds = args.seconds
    repeats = max(1, args.repeat)
    baselines = (("noop", "no-op FastAPI"), ("noop-header-timeout", NOOP_HEADER_TIMEOUT))
    if not args.http_only:
        baselines += (("reload", "reload per request (joblib)"),)

    for _ in range(repeats):
        results += http_round(env, work_dir, seconds, predict_body, customer_id)
        for kind, name in baselines:
            port = free_port()
            command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
            command += ["--model-dir", str(model_dir), "--features-file", str(features_file)]
            with server(command, f"http://127.0.0.1:{port}/docs", env, work_dir / f"{kind}.log"):
                results.append(wrk(name, f"http://127.0.0.1:{port}/predict", seconds, work_dir, predict_body))
        if not args.http_only:
            results.append(mlflow_round(home, env, work_dir, seconds, features_file, pair))

    report(median_results(results), seconds, repeats)
    if args.http_only:
        shutil.rmtree(work_dir, ignore_errors=True)
        return 0
    report_cold_start(cold_start_timing(home))
    report_reload(reload_timing(home, work_dir, env))
    shutil.rmtree(work_dir, ignore_errors=True)  # kept only when a step failed (server logs are there)
    return 0


def http_round(env, work_dir: Path, seconds: float, predict_body: dict, customer_id: int) -> list[Result]:
    """`ovni serve` in a new process: wrk on /predict, then on /recommendations?k=5."""
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    with server([str(BIN / "ovni"), "serve", "--port", str(port)], f"{api}/ready", env, work_dir / "api.log"):
        return [
            wrk("ovni /predict", f"{api}/predict", seconds, work_dir, predict_body),
            wrk(
                "ovni /recommendations",
                f"{api}/customers/{customer_id}/recommendations?k=5",
                seconds,
                work_dir,
            ),
        ]


def mlflow_round(home: Path, env, work_dir: Path, seconds: float, features_file: Path, pair: dict) -> Result:
    """`mlflow models serve` of the champion in a new process, wrk on /invocations with the pair's row."""
    port = free_port()
    mlflow_env = {  # mlflow starts `uvicorn` by name: the venv's bin must be on PATH
        **env,
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    }
    command = [str(BIN / "mlflow"), "models", "serve", "-m", "models:/ovni-purchase@champion"]
    command += ["--env-manager", "local", "-p", str(port), "-h", "127.0.0.1", "-w", "1"]
    with server(command, f"http://127.0.0.1:{port}/ping", mlflow_env, work_dir / "mlflow.log"):
        return wrk(
            "mlflow models serve",
            f"http://127.0.0.1:{port}/invocations",
            seconds,
            work_dir,
            mlflow_request(features_file, pair),
        )


def report(results: list[Result], seconds: float, repeats: int = 1) -> None:
    by_name = {r.name: r for r in results}
    cpu = os.cpu_count()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print()
    print(
        f"machine: {cpu} cores, {memory_gib:.0f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    runs = f", median of {repeats} runs" if repeats > 1 else ""
    print(f"wrk: 1 thread, {CONNECTIONS} connections, {seconds:g} s per server (after a 2 s warm-up){runs}")
    print(
        "load average at the end (other processes share these cores): "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    print()
    print(f"| {'server':<30} | {'req/s':>9} | {'p50 ms':>8} | {'p99 ms':>8} | {'errors':>6} |")
    print(f"|{'-' * 32}|{'-' * 10}:|{'-' * 9}:|{'-' * 9}:|{'-' * 7}:|")
    for r in results:
        print(
            f"| {r.name:<30} | {r.requests_per_second:>9,.0f} | {r.p50_ms:>8.1f} | {r.p99_ms:>8.1f} "
            f"| {r.errors:>6} |"
        )
    predict = by_name["ovni /predict"]
    recommendations = by_name["ovni /recommendations"]
    checks = [
        ("/predict vs reload per request", "reload per request (joblib)", 50.0),
        ("/predict vs mlflow models serve", "mlflow models serve", 10.0),
        ("/predict vs no-op ceiling", "no-op FastAPI", 0.5),
    ]
    if NOOP_HEADER_TIMEOUT in by_name:  # the protocol ovni serve runs under, against uvicorn's own
        noop = by_name["no-op FastAPI"].requests_per_second
        ratio = by_name[NOOP_HEADER_TIMEOUT].requests_per_second / noop
        print(f"\n{'header-timeout protocol vs uvicorn':<34} {ratio:>8.2f}x  (the same no-op app)")
    print()
    for label, baseline, target in checks:
        if baseline not in by_name:  # not measured in this run (--http-only)
            continue
        ratio = predict.requests_per_second / by_name[baseline].requests_per_second
        print(
            f"{label:<34} {ratio:>8.2f}x  (target >= {target:g}x: {'met' if ratio >= target else 'NOT met'})"
        )
    for r in (predict, recommendations):
        print(
            f"{r.name + ' p99':<34} {r.p99_ms:>8.1f} ms "
            f"(target < 50 ms: {'met' if r.p99_ms < 50 else 'NOT met'})"
        )


if __name__ == "__main__":
    sys.exit(main())
