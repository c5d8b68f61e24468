"""A connection whose request headers do not complete in time is closed, by the real `ovni serve` and
`ovni ui` processes; a slow body and keep-alive requests are not cut."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_process import ovni_serve

TIMEOUT_SECONDS = 1.0
REQUEST = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n"


@contextlib.contextmanager
def running(home: Path, command: str, probe: str) -> Iterator[int]:
    """`ovni COMMAND` with a one-second header timeout; yields its port once `probe` answers 200."""
    home.mkdir(parents=True, exist_ok=True)
    env = {"OVNI_HEADER_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS)}
    with ovni_serve(home, command=command, probe=probe, env=env) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def api_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running(tmp_path_factory.mktemp("header-timeout") / "home", "serve", "/health") as port:
        yield port


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails after the socket's timeout)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def read_response(sock: socket.socket) -> bytes:
    """One response with a content-length body, leaving the connection open."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_connection_that_never_sends_a_request_is_closed(api_port: int):
    with connect(api_port) as sock:
        started = time.monotonic()
        received = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert TIMEOUT_SECONDS * 0.9 <= time.monotonic() - started < TIMEOUT_SECONDS + 5


def test_incomplete_headers_are_answered_408_and_the_connection_closed(api_port: int):
    with connect(api_port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
        received = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"connection: close" in received


def test_headers_dripped_a_byte_at_a_time_are_cut_at_the_deadline(api_port: int):
    """A client that keeps sending cannot push the deadline back: it runs from the connection's start."""
    header = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 200
    with connect(api_port) as sock:
        started = time.monotonic()
        with contextlib.suppress(OSError):
            for byte in header:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        with contextlib.suppress(OSError):
            received = read_until_closed(sock)
    assert elapsed < TIMEOUT_SECONDS + 5, "the server kept reading a header dripped for longer than its limit"
    assert elapsed < len(header) * 0.05
    assert received.startswith(b"HTTP/1.1 408 ") or received == b""


def test_a_keep_alive_connection_serves_requests_and_cuts_a_stalled_next_one(api_port: int):
    with connect(api_port) as sock:
        for _ in range(3):
            sock.sendall(REQUEST)
            assert read_response(sock).startswith(b"HTTP/1.1 200 OK")
            time.sleep(TIMEOUT_SECONDS * 0.6)  # idle between requests: within keep-alive, not a header wait
        sock.sendall(b"GET /health HTTP/1.1\r\nHo")
        started = time.monotonic()
        received = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < TIMEOUT_SECONDS + 5


def test_a_slow_body_after_complete_headers_is_not_cut(api_port: int):
    body = b'{"customer_id": 1, "product_id": 2}'
    head = (
        b"POST /predict HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
    )
    with connect(api_port) as sock:
        sock.sendall(head)
        started = time.monotonic()
        for byte in body:
            sock.sendall(bytes([byte]))
            time.sleep(TIMEOUT_SECONDS * 2.5 / len(body))
        assert time.monotonic() - started > TIMEOUT_SECONDS
        received = read_until_closed(sock)
    status = received.split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 ") and b" 408 " not in status, received[:300]


def test_the_page_closes_a_connection_whose_headers_never_complete(tmp_path: Path):
    with running(tmp_path / "home", "ui", "/") as port, connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
        received = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
