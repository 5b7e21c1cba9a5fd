"""Redis, the broker, restarts mid-job with an empty memory: nothing is lost.

A private ``redis-server`` (started and stopped here, on a free port, no persistence) carries
the messages. While it is down, a job is trained on (the database, not the broker, holds its
state) and another is submitted (its message cannot be sent); once Redis is back, both succeed:
the second because the recovery sweep sends its message again.
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import Backend
from tests.harness import free_port, start_service, stop_service
from tests.integration.test_crash_resume import FAST_RECOVERY, SPEC, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True)
        if ping.stdout.strip() == b"PONG":
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(20)


def test_a_broker_restart_mid_job_loses_no_job(tmp_path: Path, backend: Backend):
    port = free_port()
    redis = start_redis(port, tmp_path)
    home = tmp_path / "home"
    # Its own Redis (to restart); the database is PostgreSQL on the PostgreSQL pass.
    database = {k: v for k, v in backend(home).items() if k == "DESCENT_DATABASE_URL"}
    service = start_service(
        home,
        **database,
        DESCENT_BROKER_URL=f"redis://127.0.0.1:{port}/0",
        DESCENT_RESEND_AFTER_SECONDS="5",
        **FAST_RECOVERY,
    )
    try:
        first = service.client.post("/v1/jobs", json={**SPEC, "epochs": 5}).json()["id"]
        wait_until(service, first, lambda j: (j["checkpoint_epoch"] or 0) >= 1, "a checkpoint")
        stop_redis(redis)
        submitted = service.client.post("/v1/jobs", json={**SPEC, "epochs": 2, "name": "later"})
        assert submitted.status_code == 202  # the row is the truth; the message follows later
        time.sleep(2)
        redis = start_redis(port, tmp_path)
        jobs = [service.wait_for_job(first), service.wait_for_job(submitted.json()["id"])]
        histories = [service.client.get(f"/v1/jobs/{j['id']}/history").json() for j in jobs]
    finally:
        stop_service(service)
        stop_redis(redis)
    assert [job["status"] for job in jobs] == ["succeeded", "succeeded"], jobs
    assert [[row["epoch"] for row in h["epochs"]] for h in histories] == [
        list(range(6)),
        list(range(3)),
    ]
