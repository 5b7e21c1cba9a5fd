"""The API alone (``descent serve --no-worker``) as a subprocess, for the commands that talk to
a server without training: jobs stay queued until a test moves them on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Backend, Service, start_service, stop_service


@pytest.fixture(scope="session")
def api_only(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("descent-api")
    running = start_service(home, worker=False, **backend(home))
    yield running
    stop_service(running)
