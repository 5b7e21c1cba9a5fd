from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from models.db import session_scope
from services import api_keys
from tests.factories import job_spec


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    """The API in-process on a fresh migrated database (no worker: jobs stay queued)."""
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture
def secured(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The same, with DESCENT_AUTH=required: every request needs a key (see make_key)."""
    monkeypatch.setenv("DESCENT_AUTH", "required")
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def make_key(name: str, admin: bool = False) -> dict[str, str]:
    """A new API key for owner ``name``, as the headers that send it."""
    with session_scope(Settings().resolved_database_url) as session:
        _, secret = api_keys.create(session, name, admin=admin)
    return {"Authorization": f"Bearer {secret}"}


MNIST_SPEC = job_spec(name="dense", limit=100, validation=None, preset="dense", epochs=1)
