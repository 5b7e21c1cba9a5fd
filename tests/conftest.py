"""Shared fixtures: a migrated database per test, and the real service as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from descent.settings import PROJECT_ROOT, get_settings

SERVICE_START_SECONDS = 120


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh state directory with a migrated SQLite database; settings point at it."""
    from descent import migrate

    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))
    get_settings.cache_clear()
    migrate.upgrade(get_settings().resolved_database_url)
    yield tmp_path
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    """``descent serve`` running in a subprocess: the API plus one real Celery worker."""

    process: subprocess.Popen[bytes]
    client: httpx.Client
    home: Path
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_for_job(self, job_id: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            time.sleep(0.25)
        raise AssertionError(f"job {job_id} did not finish in {timeout}s; log: {self.log}")


def start_service(home: Path) -> Service:
    port = free_port()
    log = home / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    process = subprocess.Popen(
        [sys.executable, "-m", "descent.cli", "serve", "--port", str(port), "--home", str(home)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    deadline = time.monotonic() + SERVICE_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"descent serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if client.get("/healthz").status_code == 200:
                return Service(process, client, home, log)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"descent serve did not answer in time:\n{log.read_text()[-3000:]}")


def stop_service(service: Service) -> None:
    service.client.close()
    service.process.terminate()
    try:
        service.process.wait(60)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = start_service(tmp_path_factory.mktemp("descent-home"))
    yield running
    stop_service(running)
