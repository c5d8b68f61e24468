"""Run `ovni serve` as a real process on a free port, and a bounded concurrent load against it."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.cli import OVNI, ovni_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def ovni_serve(
    home: Path,
    reload_seconds: float = 1.0,
    timeout: float = 180.0,
    *,
    command: str = "serve",
    probe: str = "/ready",
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start `ovni serve` (or `ovni ui`) for `home`; yield its base URL once `probe` is 200; stop it
    (SIGINT) afterwards."""
    port = free_port()
    env = ovni_env(home, {"OVNI_RELOAD_INTERVAL_SECONDS": str(reload_seconds), **(env or {})})
    log = (home / f"{command}-{port}.log").open("w")
    process = subprocess.Popen(
        [OVNI, command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, (home / f"{command}-{port}.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}{probe}", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, (home / f"{command}-{port}.log").read_text()
            time.sleep(0.3)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass
class Observation:
    at: float
    thread: int
    status: int | None
    model_version: str | None
    week_start: str | None
    error: str | None = None


@dataclass
class Load:
    """Threads sending requests until stopped, at most `max_seconds` and `max_requests` each."""

    url: str
    requests: list[Callable[[httpx.Client], httpx.Response]]
    threads: int = 4
    max_seconds: float = 300.0
    max_requests: int = 50_000
    pause_seconds: float = 0.0  # between two requests of one thread
    observations: list[Observation] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _run(self, index: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for n in range(self.max_requests):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                send = self.requests[n % len(self.requests)]
                try:
                    response = send(client)
                    body = response.json()
                    self.observations.append(
                        Observation(
                            time.monotonic(),
                            index,
                            response.status_code,
                            body.get("model_version"),
                            body.get("week_start"),
                            None if response.status_code == 200 else response.text,
                        )
                    )
                except (httpx.HTTPError, ValueError) as error:
                    self.observations.append(
                        Observation(time.monotonic(), index, None, None, None, repr(error))
                    )
                if self.pause_seconds:
                    time.sleep(self.pause_seconds)

    def __enter__(self) -> Load:
        self._workers = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)

    def failures(self) -> list[Observation]:
        return [o for o in self.observations if o.status != 200]

    def first_seen(self, predicate: Callable[[Observation], bool], timeout: float) -> float:
        """Wait until some response satisfies `predicate`; return when it was observed (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for observation in list(self.observations):
                if predicate(observation):
                    return observation.at
            time.sleep(0.05)
        raise AssertionError(f"not seen within {timeout} s; last: {self.observations[-3:]}")
