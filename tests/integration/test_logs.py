"""The logs of a real run (``descent serve``: the API and its Celery worker, JSON lines): one
request id joins a submission to the worker's lines for its job, and the API key sent with
every request is in none of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services import api_keys
from tests.conftest import Backend, as_worker, start_service, stop_service
from tests.factories import job_spec

pytestmark = pytest.mark.integration

REQUEST_ID = "test-req-123"
OWNER = "log-reader"


@dataclass(frozen=True)
class Run:
    home: Path
    job_id: str
    secret: str
    lines: list[dict[str, Any]]  # every JSON line the API and the worker wrote


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The lines that are JSON objects (Celery's banner and TensorFlow's notes are not)."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            found.append(parsed)
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Run]:
    """A service with keys required and JSON logs: one job submitted with a request id, a few
    requests with the key (and one with a wrong one); then stopped, so every line is written."""
    home = tmp_path_factory.mktemp("descent-logs")
    service = start_service(
        home, DESCENT_AUTH="required", DESCENT_LOG_FORMAT="json", **backend(home)
    )
    try:
        _, secret = as_worker(service, api_keys.create, OWNER)
        service.client.headers["Authorization"] = f"Bearer {secret}"
        spec = job_spec(name="logged", limit=200, validation=None, units=None, epochs=1)
        submitted = service.client.post("/v1/jobs", json=spec, headers={"X-Request-ID": REQUEST_ID})
        assert submitted.status_code == 202, submitted.text
        assert submitted.headers["X-Request-ID"] == REQUEST_ID
        job_id = submitted.json()["id"]
        assert service.wait_for_job(job_id, timeout=240)["status"] == "succeeded"
        assert service.client.get("/v1/models").status_code == 200
        wrong = service.client.get("/v1/jobs", headers={"Authorization": f"Bearer {secret}x"})
        assert wrong.status_code == 401
    finally:
        stop_service(service)
    yield Run(home, job_id, secret, json_lines(service.log))


def test_one_request_id_follows_a_job_from_the_api_to_the_worker(run: Run):
    joined = [line for line in run.lines if line.get("request_id") == REQUEST_ID]
    api = [line for line in joined if line["logger"].startswith("uvicorn")]
    assert any("POST /v1/jobs" in line["message"] for line in api), joined
    assert all(line.get("owner") == OWNER for line in api), api
    worker = [line for line in joined if line.get("job_id") == run.job_id]
    assert worker, f"no worker line carries the request id: {joined}"
    assert all(line.get("worker", "").startswith("descent@") for line in worker), worker
    assert all(line.get("attempt") == 1 and line.get("owner") == OWNER for line in worker)
    assert any("finished" in line["message"] for line in worker), worker


def test_every_api_and_worker_line_is_one_json_object(run: Run):
    loggers = {line["logger"] for line in run.lines}
    assert "uvicorn.access" in loggers and "workers.tasks" in loggers, loggers
    assert all({"time", "level", "logger", "message"} <= set(line) for line in run.lines)


def test_no_log_of_the_run_holds_the_api_key(run: Run):
    files = [path for path in run.home.rglob("*") if path.is_file() and path.suffix == ".log"]
    assert files, f"no log files under {run.home}"
    for path in files:
        assert run.secret not in path.read_text(errors="replace"), path
