"""The API restarts mid-job while a separate worker trains on: the job is not disturbed.

This is the production topology on one machine: ``descent serve --no-worker`` plus a
``descent worker`` process sharing the state directory.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import Backend, production_topology
from tests.harness import start_service, stop_service
from tests.integration.test_crash_resume import FAST_RECOVERY, SPEC, wait_until

pytestmark = [pytest.mark.integration, production_topology]

# Frequent heartbeats and sweeps as in test_crash_resume, but nothing here waits for a takeover:
# a long timeout costs nothing, and keeps a live worker starved of CPU on a loaded machine from
# being taken over (an attempt that this test says never happens).
RECOVERY = {**FAST_RECOVERY, "DESCENT_HEARTBEAT_TIMEOUT_SECONDS": "30"}
STOP_SECONDS = 60


def start_worker(home: Path, backend: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env.update(RECOVERY, **backend, DESCENT_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2")
    with (home / "worker.log").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "descent.cli", "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the worker is still shutting down (a pool child it had just
    started may be importing TensorFlow on a loaded machine): no process is left behind."""
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def test_an_api_restart_mid_job_leaves_the_training_alone(tmp_path: Path, backend: Backend):
    home = tmp_path / "home"
    state = backend(home)  # on the PostgreSQL pass: PostgreSQL + Redis, shared by both
    service = start_service(home, worker=False, **RECOVERY, **state)  # migrates
    worker = start_worker(home, state)
    try:
        job_id = service.client.post("/v1/jobs", json={**SPEC, "epochs": 5}).json()["id"]
        wait_until(service, job_id, lambda j: (j["checkpoint_epoch"] or 0) >= 1, "an epoch")
        stop_service(service)
        service = start_service(home, worker=False, **RECOVERY, **state)
        job = service.wait_for_job(job_id, timeout=300)
        history = service.client.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
    finally:
        stop_service(service)
        stop_worker(worker)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 1  # the worker never lost the job
    assert [row["epoch"] for row in history] == list(range(6))
