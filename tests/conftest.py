"""Shared fixtures: a migrated database per test, and the real service as a subprocess."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from descent.launch import Service, free_port, start_service, stop_service
from descent.settings import get_settings

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
    from descent import migrate

    monkeypatch.setenv("DESCENT_HOME", str(tmp_path))
    if ON_POSTGRES:
        monkeypatch.setenv("DESCENT_DATABASE_URL", request.getfixturevalue("home_database_url"))
    get_settings.cache_clear()
    url = get_settings().resolved_database_url
    migrate.upgrade(url)
    if ON_POSTGRES:
        _empty(url)
    yield tmp_path
    get_settings.cache_clear()


def _empty(url: str) -> None:
    from sqlalchemy import text

    from models import Base
    from models.db import get_engine

    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with get_engine(url).begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    if ON_POSTGRES:
        yield request.getfixturevalue("production_service")
        return
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
    yield from _fresh_database()


@pytest.fixture(scope="session")
def home_database_url() -> Iterator[str]:
    """Another one, for the `home` fixture on the PostgreSQL pass (emptied per test)."""
    yield from _fresh_database()


def _fresh_database() -> Iterator[str]:
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
