"""The server holds under a slow-loris attack and a thousand open event streams (bench/load.py,
asserted loosely here), and the connection limits behind that, on a real uvicorn."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from bench import load
from core.settings import Settings
from processes.http import guarded_protocol
from tests.harness import Service, free_port, stop_service

pytestmark = pytest.mark.integration

HEADER_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str, list[str]]]:
    load.raise_open_file_limit()
    home = tmp_path_factory.mktemp("load-home")
    (home / "model").mkdir()
    service, model_id, job_ids = load.setup(
        home, 10, DESCENT_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT)
    )
    yield service, model_id, job_ids
    stop_service(service)


def test_a_thousand_slow_loris_connections_and_streams_leave_the_api_answering(loaded):
    service, model_id, job_ids = loaded
    attack = load.hold_and_measure(
        service, model_id, job_ids, slow=1000, streams=1000, seconds=1.0, settle=1.0
    )
    # In a thread of its own: a test run earlier in this process (the page's, through
    # Playwright) may have left an event loop set on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        figures = pool.submit(asyncio.run, attack).result()
    summary = figures.summary()
    assert figures.streams_opened == 1000, figures.stream_refusals[:3]
    assert figures.streams_open_at_end == 1000, summary  # streams are not cut off
    # The attack was under way while measuring (each connection renewed as soon as closed).
    assert summary["slow_open_while_measuring_p50"] >= 900, summary
    # The targets are 100 ms and 20 ms (bench/load.py measures them); a shared CI machine
    # gets slack, not 3 s as one poll per stream used to cost.
    assert summary["healthz_p50_ms"] <= 1000, summary
    assert summary["predict_p50_ms"] <= 1000, summary
    # The server closed the slow-loris connections at its header timeout, however the client
    # dripped bytes: the typical one within a moment of it, and none kept open (a loaded CI
    # machine may be late to notice a few by some seconds; the connection cap may close one
    # of the attacker's reconnections sooner).
    held = sorted(figures.slow_held_s)
    assert len(held) >= 1000, summary
    assert HEADER_TIMEOUT - 0.5 <= held[len(held) // 2] <= HEADER_TIMEOUT + 3, summary
    assert held[-1] <= HEADER_TIMEOUT + 15, summary


def test_a_client_gone_mid_body_is_one_log_line_not_a_traceback(loaded):
    service, model_id, _ = loaded
    port = int(service.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST /v1/models/{model_id}/predict HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            '{"instances": '.encode()
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while "disconnected before sending the whole body" not in service.log.read_text():
        assert time.monotonic() < deadline, service.log.read_text()[-2000:]
        time.sleep(0.1)
    assert "Traceback" not in service.log.read_text()


# --- the protocol's limits, each on an in-process uvicorn with a tiny app -------------------


async def echo(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    body = body or b"ok"
    length = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": length})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def guarded() -> Iterator[int]:
    """uvicorn with `descent serve`'s protocol: header 1 s, body 1 s, 5 connections."""
    settings = Settings(header_timeout_seconds=1, body_timeout_seconds=1)
    port = free_port()
    config = uvicorn.Config(
        echo, host="127.0.0.1", port=port, http=guarded_protocol(settings, 5), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    return sock


def closed_after(sock: socket.socket) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it said first."""
    started = time.monotonic()
    said = b""
    while chunk := sock.recv(4096):
        said += chunk
    return time.monotonic() - started, said


def test_a_full_request_is_answered_and_keep_alive_works(guarded: int):
    with connect(guarded) as sock:
        for _ in range(2):
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            assert sock.recv(4096).endswith(b"hello")


def test_dripping_a_header_does_not_keep_the_connection(guarded: int):
    with connect(guarded) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        said = b""
        try:
            while time.monotonic() - started < 4:
                time.sleep(0.2)
                sock.sendall(b"a")
        except OSError:
            pass
        with contextlib.suppress(OSError):
            said = sock.recv(4096)
        assert time.monotonic() - started < 2.5
        assert said.startswith(b"HTTP/1.1 408")


def test_a_stalled_body_is_cut_off(guarded: int):
    with connect(guarded) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        seconds, _ = closed_after(sock)
        assert 0.5 < seconds < 3


def test_headers_over_the_size_limit_are_a_431(guarded: int):
    with connect(guarded) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n")
        _, said = closed_after(sock)
        assert said.startswith(b"HTTP/1.1 431")


def test_connections_over_the_cap_are_closed_at_once(guarded: int):
    held = [connect(guarded) for _ in range(5)]
    try:
        time.sleep(0.1)
        with connect(guarded) as extra:
            seconds, said = closed_after(extra)
        assert seconds < 0.5 and said == b""
    except ConnectionResetError:  # closed with a reset: closed at once as well
        pass
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    with connect(guarded) as again:  # places come back when connections close
        again.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert again.recv(4096).startswith(b"HTTP/1.1 200")


def test_the_connection_cap_fits_under_the_open_file_limit():
    from processes.http import connection_cap

    assert connection_cap(Settings(max_connections=4096), 1024) == 1024 - 256
    assert connection_cap(Settings(max_connections=100), 20000) == 100
    assert connection_cap(Settings(max_connections=0), 20000) == 20000 - 256
