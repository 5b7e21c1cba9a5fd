"""The recovery sweep runs in the app's lifespan: an API started by plain uvicorn, as the
Dockerfile's or any other ASGI host would start it, recovers a job whose worker went silent."""

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from core.settings import PROJECT_ROOT, Settings
from models import Job
from models.base import utcnow
from models.db import session_scope
from services import jobs
from tests.factories import job_spec
from tests.harness import free_port, wiring
from training.spec import JobSpec

pytestmark = pytest.mark.integration

SPEC = job_spec(limit=50, validation=None, preset="dense", epochs=1)
START_SECONDS = 60


def silent_running_job() -> str:
    """A job a worker claimed, then said nothing for ten minutes (it was killed)."""
    url = Settings().resolved_database_url
    with session_scope(url) as session:
        job_id = jobs.submit(session, JobSpec.model_validate(SPEC), **wiring()).id
    with session_scope(url) as session:
        assert jobs.claim(session, job_id)
        silent_since = utcnow() - timedelta(minutes=10)
        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=silent_since))
    return job_id


def broker_messages(home: Path) -> list[str]:
    with sqlite3.connect(home / "broker.db") as db:
        rows = db.execute("SELECT payload FROM kombu_message ORDER BY id").fetchall()
    bodies = [json.loads(base64.b64decode(json.loads(row[0])["body"])) for row in rows]
    return [body[0][0] for body in bodies]


def test_an_api_under_plain_uvicorn_sweeps_a_silent_workers_job_back_to_the_queue(home: Path):
    job_id = silent_running_job()
    assert broker_messages(home) == [job_id]
    port = free_port()
    env = {**os.environ, "DESCENT_RECONCILE_SECONDS": "0.2"}  # DESCENT_HOME: the test's
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    with (home / "uvicorn.log").open("wb") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
        )
    try:
        job = wait_for_requeue(f"http://127.0.0.1:{port}", job_id, server)
    finally:
        server.terminate()
        server.wait(30)
    assert (job["status"], job["attempts"]) == ("queued", 1)
    assert broker_messages(home) == [job_id, job_id]  # its message was sent again


def wait_for_requeue(base_url: str, job_id: str, server: subprocess.Popen[bytes]) -> dict:
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while time.monotonic() < deadline:
            assert server.poll() is None, "uvicorn exited early"
            try:
                job = client.get(f"/v1/jobs/{job_id}").json()
            except httpx.TransportError:
                job = None
            if job and job["status"] == "queued":
                return job
            time.sleep(0.2)
    raise AssertionError(f"job {job_id} was not swept back to the queue in {START_SECONDS} s")
