"""Stopping the embedded server stops its training worker too, however the server ends."""

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import start_service, stop_service

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(line) for line in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left


def wait_gone(pids: list[int], seconds: float = 30) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_worker_ends_with_the_server(tmp_path: Path, how: signal.Signals):
    service = start_service(tmp_path)
    try:
        workers = children(service.pid)
        assert workers, "the embedded server should run a worker"
        pool = [child for worker in workers for child in children(worker)]
        service.process.send_signal(how)
        service.process.wait(60)
        assert wait_gone(workers + pool) == []
    finally:
        if service.process.poll() is None:
            stop_service(service)
