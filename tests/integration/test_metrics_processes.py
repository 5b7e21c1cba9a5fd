"""Several API processes, one count: with PROMETHEUS_MULTIPROC_DIR set, whichever process
answers GET /metrics reports the requests all of them answered (api/metrics.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.settings import PROJECT_ROOT
from tests.harness import free_port

pytestmark = pytest.mark.integration

START_SECONDS = 60
REQUESTS = 40


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "descent_http_requests_total" and sample.labels == {
                "route": "/healthz", "method": "GET", "status": "200",
            }:  # fmt: skip
                return sample.value
    return 0.0


def test_every_api_process_scrapes_the_requests_of_all(home: Path, tmp_path: Path):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "DESCENT_SWEEP": "false"}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    command += ["--port", str(port), "--workers", "2", "--log-level", "warning"]
    with (home / "uvicorn.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while len(list(shared.glob("counter_*.db"))) < 2:  # each process has made its metrics
            assert time.monotonic() < deadline, (home / "uvicorn.log").read_text()
            time.sleep(0.2)
        for _ in range(REQUESTS):  # a connection each, so that the kernel spreads them
            assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200

        scrapes = [httpx.get(f"{url}/metrics", timeout=10).text for _ in range(6)]
    finally:
        server.terminate()
        server.wait(30)
    assert [healthz_count(text) for text in scrapes] == [REQUESTS] * 6
