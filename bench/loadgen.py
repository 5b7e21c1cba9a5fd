"""A minimal HTTP/1.1 load generator for loopback benchmarks: keep-alive connections on raw
sockets, one thread each, so that as little CPU as possible goes to generating the load.
Every run stops by itself after the seconds it is given."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def raw_post(port: int, path: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection; ``send`` returns (status, body)."""

    LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buffer += chunk
        head, _, body = buffer.partition(b"\r\n\r\n")
        match = self.LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        parts = [body]
        received = len(body)
        while received < length:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            parts.append(chunk)
            received += len(chunk)
        return int(head[9:12]), b"".join(parts)

    def close(self) -> None:
        self.sock.close()


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server process spent in the window

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU time per request: what the server's code costs, whatever else runs."""
        return self.server_cpu / len(self.latencies) * 1e3

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1e3


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    port: int, request: bytes, concurrency: int, seconds: float, warmup: int = 20, pid=None
) -> Load:
    """``concurrency`` connections send ``request`` back to back for ``seconds``; with the
    server's ``pid``, its CPU time over the same window is measured too."""
    result = Load()
    lock = threading.Lock()
    window: list[float] = []

    def begin() -> None:  # runs once, when every connection has warmed up
        result.server_cpu = -cpu_seconds(pid)
        window.append(time.perf_counter())

    barrier = threading.Barrier(concurrency, action=begin)

    def run() -> None:
        connection = Connection(port)
        for _ in range(warmup):
            connection.send(request)
        barrier.wait()
        deadline = window[0] + seconds
        latencies, errors = [], 0
        while (started := time.perf_counter()) < deadline:
            status, _ = connection.send(request)
            latencies.append(time.perf_counter() - started)
            errors += status != 200
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - window[0]
    result.server_cpu += cpu_seconds(pid)
    return result
