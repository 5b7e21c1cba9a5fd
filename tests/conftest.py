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


def start_service(home: Path, **settings: str) -> Service:
    """Start ``descent serve`` on a free port; ``settings`` are extra DESCENT_* variables."""
    port = free_port()
    log = home / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env.update(settings)
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


# --- Production topology: PostgreSQL and Redis ------------------------------------------------
# Set DESCENT_TEST_POSTGRES_URL (a server URL; each run creates its own database there) and
# DESCENT_TEST_REDIS_URL to run these tests; with DESCENT_TEST_REQUIRE_SERVICES=1 (as .ci/run
# sets) an unreachable server fails the run instead of skipping.


def _external(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        if os.environ.get("DESCENT_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{name} is not set but DESCENT_TEST_REQUIRE_SERVICES=1")
        pytest.skip(f"{name} is not set: PostgreSQL/Redis tests skipped")
    return url


def _unreachable(name: str, error: Exception) -> None:
    message = f"{name} is set but the server does not answer: {error}"
    if os.environ.get("DESCENT_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped at the end."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(_external("DESCENT_TEST_POSTGRES_URL"))
    name = f"descent_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "not reachable"
        _unreachable("DESCENT_TEST_POSTGRES_URL", error)
    yield server.set(database=name).render_as_string(hide_password=False)
    from models.db import _engines

    for (_, url), engine in list(_engines.items()):
        if name in url:
            engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database emptied for this session (tests own the database number they name)."""
    import redis

    url = _external("DESCENT_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url).flushdb()
    except Exception as error:  # noqa: BLE001
        _unreachable("DESCENT_TEST_REDIS_URL", error)
    return url


@pytest.fixture(scope="session")
def production_service(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str
) -> Iterator[Service]:
    """The service on PostgreSQL and Redis: the production topology on one machine."""
    running = start_service(
        tmp_path_factory.mktemp("descent-prod"),
        DESCENT_DATABASE_URL=postgres_url,
        DESCENT_BROKER_URL=redis_url,
    )
    yield running
    stop_service(running)
