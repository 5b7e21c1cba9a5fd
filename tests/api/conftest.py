from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from descent.settings import get_settings


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    """The API in-process on a fresh migrated database (no worker: jobs stay queued)."""
    with TestClient(create_app(get_settings())) as test_client:
        yield test_client


MNIST_SPEC = {
    "name": "dense",
    "dataset": {"name": "mnist", "limit": 100},
    "model": {"preset": "dense"},
    "epochs": 1,
}
