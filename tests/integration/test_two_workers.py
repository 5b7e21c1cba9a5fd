"""Two workers on one broker: the embedded one (queues cpu and any) and a second one that
takes only ``any``. Jobs for the cpu queue and for any are all trained, each exactly once,
with their history complete and the worker that trained them recorded."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import Backend, production_topology
from tests.factories import job_spec
from tests.harness import start_service, stop_service
from tests.integration.test_api_restart import stop_worker

SPEC = job_spec(limit=64, validation=None, units=None, batch_size=32)


pytestmark = [pytest.mark.integration, production_topology]


def test_cpu_and_any_jobs_each_train_exactly_once_on_two_workers(tmp_path: Path, backend: Backend):
    # The second worker shares the service's database and broker: on the PostgreSQL pass,
    # PostgreSQL and Redis.
    home = tmp_path / "home"
    service = start_service(home, **backend(home))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env |= {"DESCENT_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2", **service.overrides}
    with (tmp_path / "second.log").open("wb") as log:
        second = subprocess.Popen(
            [sys.executable, "-m", "descent.cli", "worker", "--queues", "any", "--name", "second"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        submitted = [
            service.client.post(
                "/v1/jobs", json=SPEC | {"name": f"{kind}-{i}", "resources": {"accelerator": kind}}
            ).json()
            for i in range(2)
            for kind in ("cpu", "any")
        ]
        done = [service.wait_for_job(job["id"], timeout=600) for job in submitted]
        histories = [service.client.get(f"/v1/jobs/{j['id']}/history").json() for j in done]
        second_exited = second.poll()  # None: it ran, without failing, until every job was done
    finally:
        stop_worker(second)
        stop_service(service)

    workers = set()
    for job, history in zip(done, histories, strict=True):
        assert job["status"] == "succeeded", job
        statuses = [t["status"] for t in job["transitions"]]
        assert statuses == ["queued", "running", "succeeded"], statuses  # claimed once
        assert job["device"] == "cpu" and job["host"]
        if job["queue"] == "cpu":
            assert job["worker"].startswith("descent@"), job["worker"]  # never the any-only one
        assert [row["epoch"] for row in history["epochs"]] == [0, 1, 2]  # complete
        workers.add(job["worker"])
    # Both workers took part only if the any-only one was quick enough; it must not fail.
    assert second_exited is None, (tmp_path / "second.log").read_text()[-2000:]
    assert workers <= {w for w in workers if w.startswith(("descent@", "second@"))}
