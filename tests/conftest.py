"""Shared fixtures: a migrated database per test, and the real service as a subprocess."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.settings import Settings
from tests.factories import job_spec
from tests.harness import Service, free_port, start_service, stop_service

__all__ = ["Service", "free_port", "start_service", "stop_service"]


# DESCENT_TEST_BACKEND=postgres (scripts/test's second pass, when PostgreSQL and Redis are
# there): the same tests with the database on PostgreSQL, and the `service` fixture on
# PostgreSQL + Redis (the production topology).
ON_POSTGRES = os.environ.get("DESCENT_TEST_BACKEND") == "postgres"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A fresh state directory with a migrated, empty database; settings point at it.

    SQLite under the directory by default; on the PostgreSQL pass, one database for the whole
    session, emptied before each test (the broker stays the SQLite file under the directory)."""
    prepare_home(tmp_path, monkeypatch, request)
    yield tmp_path


def prepare_home(path: Path, patch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Point the settings at ``path`` and give it a migrated, empty database (on the PostgreSQL
    pass, the session's database emptied): what ``home`` does, for module-scoped fixtures."""
    from processes import migrate

    patch.setenv("DESCENT_HOME", str(path))
    if ON_POSTGRES:
        patch.setenv("DESCENT_DATABASE_URL", request.getfixturevalue("home_database_url"))
    url = Settings().resolved_database_url
    migrate.upgrade(url)
    if ON_POSTGRES:
        _empty(url)


def _empty(url: str) -> None:
    from sqlalchemy import text

    from models import Base
    from models.db import get_engine

    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with get_engine(url).begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP endpoint (moto's server mode) on loopback; any key id and secret work."""
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, backend: Backend):
    """The real service (API + one Celery worker), shared by a session's integration tests."""
    home = tmp_path_factory.mktemp("descent-home")
    running = start_service(home, **backend(home))
    yield running
    stop_service(running)


@pytest.fixture(scope="session")
def healthy_job(service: Service) -> dict[str, Any]:
    """A small MNIST job that trains well (verdict "healthy"), finished, with its evaluation:
    shared by the tests of the history's health, the evaluation, the CLI and the page."""
    return _finished(service, job_spec(
        name="diag-healthy", limit=1000, validation=0.2, units=32, epochs=2, batch_size=32,
        optimizer={"name": "adam", "learning_rate": 0.005}, seed=1,
    ))  # fmt: skip


@pytest.fixture(scope="session")
def diverged_job(service: Service) -> dict[str, Any]:
    """A small MNIST job whose learning rate (sgd at 10) makes it diverge, finished."""
    return _finished(service, job_spec(
        name="diag-diverged", limit=500, validation=0.2, units=32, epochs=2, batch_size=32,
        optimizer={"name": "sgd", "learning_rate": 10}, seed=1,
    ))  # fmt: skip


def _finished(service: Service, spec: dict[str, Any]) -> dict[str, Any]:
    response = service.client.post("/v1/jobs", json=spec)
    assert response.status_code == 202, response.text
    job = service.wait_for_job(response.json()["id"], timeout=180)
    assert job["status"] == "succeeded", job["error"]
    return job


class Backend:
    """Where a service a test starts keeps its state: ``backend(home)`` is the DESCENT_*
    variables to start it with. Empty on the default pass (SQLite and the SQLite broker under
    ``home``); on the PostgreSQL pass, a fresh PostgreSQL database per home (the same one when
    a test restarts a service on the same home) and the Redis database under a key prefix of
    its own, so services started side by side never take each other's jobs."""

    def __init__(self, postgres: PostgresServer | None = None, redis_url: str = "") -> None:
        self._postgres, self._redis_url = postgres, redis_url
        self._homes: dict[Path, dict[str, str]] = {}

    def __call__(self, home: Path) -> dict[str, str]:
        if self._postgres is None:
            return {}
        if home not in self._homes:
            database = self._postgres.create()
            self._homes[home] = {
                "DESCENT_DATABASE_URL": database,
                "DESCENT_BROKER_URL": self._redis_url,
                "DESCENT_BROKER_KEY_PREFIX": f"{database.rsplit('/', 1)[-1]}:",
            }
        return self._homes[home]


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    if not ON_POSTGRES:
        return Backend()
    return Backend(request.getfixturevalue("postgres_server"), request.getfixturevalue("redis_url"))


# --- Production topology: PostgreSQL and Redis ------------------------------------------------
# Set DESCENT_TEST_POSTGRES_URL (a server URL; each run creates its own database there) and
# DESCENT_TEST_REDIS_URL to run these tests; with DESCENT_TEST_REQUIRE_SERVICES=1 (as .ci/run
# sets) an unreachable server fails the run instead of skipping.


# Tests of the production topology itself (several workers; an API restarted apart from its
# worker): where the PostgreSQL + Redis pass runs them (both URLs set, as in CI), the embedded
# pass leaves them to it; without those servers they run on the embedded backends.
production_topology = pytest.mark.skipif(
    bool(os.environ.get("DESCENT_TEST_POSTGRES_URL") and os.environ.get("DESCENT_TEST_REDIS_URL"))
    and os.environ.get("DESCENT_TEST_BACKEND") != "postgres",
    reason="runs on the PostgreSQL + Redis pass: several workers, or an API restarted apart from "
    "its worker, are the production topology",
)


def missing(message: str) -> NoReturn:
    """An outside piece a test needs (a server, a program) is not here: skip with ``message``,
    or fail where DESCENT_TEST_REQUIRE_SERVICES=1 (CI) says every test must run."""
    if os.environ.get("DESCENT_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (DESCENT_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _external(name: str) -> str:
    url = os.environ.get(name)
    if not url:
        missing(f"{name} is not set: PostgreSQL/Redis tests skipped")
    return url


def _unreachable(name: str, error: Exception) -> None:
    missing(f"{name} is set but the server does not answer: {error}")


class PostgresServer:
    """Creates fresh, empty databases on the test server; drops them when the session ends."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.server = make_url(url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self) -> str:
        import uuid

        from sqlalchemy import text

        name = f"descent_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        from sqlalchemy import text

        from models.db import _engines

        for (_, url), engine in list(_engines.items()):
            if any(name in url for name in self.names):
                engine.dispose()
        with self.admin.connect() as connection:
            for name in self.names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(_external("DESCENT_TEST_POSTGRES_URL"))
    try:
        with server.admin.connect():
            pass
    except Exception as error:  # noqa: BLE001 - any connection failure means "not reachable"
        _unreachable("DESCENT_TEST_POSTGRES_URL", error)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for this test session, dropped at the end."""
    return postgres_server.create()


@pytest.fixture(scope="session")
def home_database_url(postgres_server: PostgresServer) -> str:
    """Another one, for the `home` fixture on the PostgreSQL pass (emptied per test)."""
    return postgres_server.create()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database emptied for this session (tests own the database number they name).
    Each pytest-xdist process takes its own: gw0 the one named, gw1 the one below it, and so
    on, so that one process's flush never empties the queue another's service is using."""
    import redis

    url = _external("DESCENT_TEST_REDIS_URL")
    process = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    if process:
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) - process}"))
    try:
        redis.Redis.from_url(url).flushdb()
    except Exception as error:  # noqa: BLE001
        _unreachable("DESCENT_TEST_REDIS_URL", error)
    return url


@pytest.fixture(scope="session")
def production_service(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Service]:
    """The service on PostgreSQL and Redis: the production topology on one machine (on the
    PostgreSQL pass, that is what ``service`` runs on already)."""
    if ON_POSTGRES:
        yield request.getfixturevalue("service")
        return
    home = tmp_path_factory.mktemp("descent-prod")
    postgres = request.getfixturevalue("postgres_server")
    running = start_service(home, **Backend(postgres, request.getfixturevalue("redis_url"))(home))
    yield running
    stop_service(running)


@pytest.fixture(scope="session")
def api_only(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Service]:
    """The API alone (``descent serve --no-worker``): jobs stay queued until a test moves them
    on with :func:`as_worker`, the service calls a worker makes."""
    home = tmp_path_factory.mktemp("descent-api")
    running = start_service(home, worker=False, **backend(home))
    yield running
    stop_service(running)


def as_worker(service: Service, action, *args, **kwargs):
    """``action(session, *args, **kwargs)`` on the service's database, as a worker would."""
    from models.db import session_scope

    with session_scope(service.settings.resolved_database_url) as session:
        return action(session, *args, **kwargs)
