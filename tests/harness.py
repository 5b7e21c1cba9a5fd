"""Run ``descent serve`` as a subprocess on a free port: for tests, benchmarks and scripts.

The server's output goes to ``home/serve.log``. Each Celery pool child logs "ready with Keras
loaded" once TensorFlow is imported, which is how a caller knows a worker is warm.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.settings import PROJECT_ROOT, Settings
from core.statuses import FINISHED
from services.queue import Broker

KEEPALIVE_SECONDS = 2.0  # below the server's DESCENT_KEEP_ALIVE_SECONDS (5)
START_SECONDS = 120
WARM_WORKER_LINE = "ready with Keras loaded"


def wiring(settings: Settings | None = None) -> dict[str, Any]:
    """The ``settings=`` and ``broker=`` a test passes to a service that places or sends jobs,
    as the app or a worker would: built from the environment the test has set up."""
    settings = settings or Settings()
    return {"settings": settings, "broker": Broker(settings)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    """``descent serve`` running in a subprocess: the API plus one real Celery worker."""

    process: subprocess.Popen[bytes]
    client: httpx.Client
    home: Path
    log: Path
    overrides: dict[str, str] = field(default_factory=dict)  # the DESCENT_* it was started with

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def settings(self) -> Settings:
        """The settings the server runs with: its home plus the variables it was given."""
        given = {k.removeprefix("DESCENT_").lower(): v for k, v in self.overrides.items()}
        return Settings(**{"home": self.home, **given})

    @property
    def url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    @property
    def worker_metrics_url(self) -> str | None:
        """Where the service's worker serves its Prometheus metrics; None if it serves none."""
        port = int(self.overrides.get("DESCENT_WORKER_METRICS_PORT", "0"))
        return f"http://127.0.0.1:{port}/metrics" if port else None

    def wait_for_job(self, job_id: str, timeout: float = 300, poll: float = 0.25) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in FINISHED:
                return job
            time.sleep(poll)
        raise TimeoutError(f"job {job_id} did not finish in {timeout}s; log: {self.log}")

    def warm_workers(self) -> int:
        """How many worker children have imported Keras so far (one per job, plus the next)."""
        return self.log.read_text(errors="replace").count(WARM_WORKER_LINE)

    def wait_for_warm_worker(self, count: int = 1, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.warm_workers() < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no warm worker child; see {self.log}")
            time.sleep(0.2)


def start_service(
    home: Path, *, worker: bool = True, port: int | None = None, **settings: str
) -> Service:
    """Start ``descent serve`` on a free port (or on ``port``, to restart a service where its
    clients look for it); ``settings`` are extra DESCENT_* variables.

    With ``worker=False`` only the API runs (``--no-worker``): jobs stay queued. The worker
    serves its metrics on a free port of its own (``Service.worker_metrics_url``)."""
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    if worker:
        settings.setdefault("DESCENT_WORKER_METRICS_PORT", str(free_port()))
    log = home / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env.update(settings)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "descent.cli",
                "serve",
                "--port",
                str(port),
                "--home",
                str(home),
                *([] if worker else ["--no-worker"]),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # Idle connections are dropped after 2 s, before the server's keep-alive (5 s) closes
    # them: a request sent on a connection the server is closing gets no answer.
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=60,
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"descent serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if client.get("/healthz").status_code == 200:
                return Service(process, client, home, log, dict(settings))
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"descent serve did not answer in time:\n{log.read_text()[-3000:]}")


def stop_service(service: Service, timeout: float = 60) -> None:
    """SIGTERM: the server shuts down and takes its worker with it."""
    service.client.close()
    service.process.terminate()
    try:
        service.process.wait(timeout)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()
