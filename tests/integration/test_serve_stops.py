"""``descent serve`` stopped with SIGTERM takes its training worker down with it."""

import time
from pathlib import Path

import pytest

from tests.conftest import start_service, stop_service

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_the_worker_stops_with_the_server(tmp_path: Path):
    service = start_service(tmp_path)
    workers = children(service.pid)
    assert workers, "descent serve started no worker process"
    stop_service(service)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()]
    assert not alive, f"worker processes {alive} outlived their server"
