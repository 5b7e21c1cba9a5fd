"""A real Prometheus (Debian's ``prometheus``, on a loopback port) scrapes a running service's
API and worker every second, on a copy of deploy/prometheus/prometheus.yml pointed at them, with
the alert rules loaded, while a job trains and predictions are made. PromQL over its HTTP API
then finds what happened: the job succeeded, the prediction latency histogram counted every
prediction, the queue emptied. The dashboard's expressions run there too, and name only metrics
the service serves."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml

from core.settings import PROJECT_ROOT
from tests.conftest import Backend, Service, free_port, start_service, stop_service
from tests.deploy.conftest import ALERTS, DEPLOY, alert_rules, dashboard, data_panels
from tests.factories import job_spec

pytestmark = pytest.mark.integration

PREDICTIONS = 5
SPEC = job_spec(name="scraped", limit=300, epochs=1)
WAIT_SECONDS = 60  # for a value to reach Prometheus: scrapes are every second
GPU_ONLY = {"descent_gpu_memory_bytes"}  # served by GPU workers only; this one trains on the CPU


@dataclass
class Monitored:
    service: Service
    prometheus: httpx.Client
    log: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = self.prometheus.get("/api/v1/query", params={"query": expr}).json()
        assert answer["status"] == "success", f"{expr}: {answer}"
        return answer["data"]["result"]

    def eventually(self, expr: str, good: Callable[[float | None], bool]) -> float | None:
        """The sum of ``expr``'s series (None while it has none) once ``good`` holds; fails
        with the last value if it never does."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            result = self.query(expr)
            value = sum(float(s["value"][1]) for s in result) if result else None
            if good(value) or time.monotonic() > deadline:
                assert good(value), f"{expr} = {value} after {WAIT_SECONDS}s; see {self.log}"
                return value
            time.sleep(0.5)


def scrape_config(service: Service, home: Path) -> Path:
    """deploy/prometheus/prometheus.yml with its DNS lookups of compose services replaced by this
    service's API and worker, scraped every second, and the alert rules by their full path."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(ALERTS)]
    assert service.worker_metrics_url, "the harness gives the worker a metrics port"
    worker = httpx.URL(service.worker_metrics_url)
    targets = {
        "descent-api": httpx.URL(service.url).netloc.decode(),
        "descent-worker": worker.netloc.decode(),
    }
    for job in config["scrape_configs"]:
        del job["dns_sd_configs"], job["relabel_configs"]
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    path = home / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def monitored(
    prometheus: Path, tmp_path_factory: pytest.TempPathFactory, backend: Backend
) -> Iterator[Monitored]:
    home = tmp_path_factory.mktemp("descent-monitored")
    service = start_service(home, **backend(home))
    try:
        with running_prometheus(prometheus, scrape_config(service, home), home) as monitored:
            watching = Monitored(service, *monitored)
            # Both targets scraped, the worker's series already there at 0, before the job: what
            # a real deployment sees, where Prometheus runs long before a worker's first job.
            watching.eventually('sum(up{job=~"descent-.*"})', lambda up: up == 2)
            watching.eventually('descent_jobs_finished_total{status="succeeded"}', _zero)
            train_and_predict(service)
            yield watching
    finally:
        stop_service(service)


def _zero(value: float | None) -> bool:
    return value == 0


@contextmanager
def running_prometheus(
    prometheus: Path, config: Path, home: Path
) -> Iterator[tuple[httpx.Client, Path]]:
    """``prometheus`` on a free loopback port with its data under ``home``, until the end."""
    port, log = free_port(), home / "prometheus.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(prometheus),
                f"--config.file={config}",
                f"--storage.tsdb.path={home / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        wait_until_ready(server, client, log)
        yield client, log
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_ready(server: subprocess.Popen[bytes], client: httpx.Client, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prometheus exited:\n{log.read_text()[-3000:]}")
        try:
            if client.get("/-/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus was not ready in 60s:\n{log.read_text()[-3000:]}")


def train_and_predict(service: Service) -> None:
    """One tiny job, then PREDICTIONS single-image predictions from its model."""
    client = service.client
    job = service.wait_for_job(client.post("/v1/jobs", json=SPEC).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        images = data["x_test"][:PREDICTIONS].tolist()
    for image in images:
        answer = client.post(f"/v1/models/{job['model_id']}/predict", json={"instances": [image]})
        assert answer.status_code == 200, answer.text


def served_metric_names(text: str) -> set[str]:
    """Every series name a /metrics page can hold, from its ``# TYPE`` lines."""
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE):
        if kind == "counter":
            base = name.removesuffix("_total")
            names |= {f"{base}_total", f"{base}_created"}
        elif kind in {"histogram", "summary"}:
            names |= {f"{name}{suffix}" for suffix in ("_bucket", "_count", "_sum", "_created")}
            names.add(name)
        else:
            names.add(name)
    return names


def dashboard_exprs() -> list[str]:
    # $__rate_interval is Grafana's; at a 1 s scrape interval a minute is plenty.
    return [
        target["expr"].replace("$__rate_interval", "1m")
        for panel in data_panels(dashboard())
        for target in panel["targets"]
    ]


def alert_exprs() -> list[str]:
    return [rule["expr"] for rule in alert_rules()]


def test_prometheus_scrapes_the_api_and_the_worker(monitored: Monitored):
    for job in ("descent-api", "descent-worker"):
        assert monitored.eventually(f'up{{job="{job}"}}', lambda up: up == 1) == 1


def test_the_trained_job_counts_as_succeeded(monitored: Monitored):
    finished = 'sum(descent_jobs_finished_total{status="succeeded"})'
    assert monitored.eventually(finished, lambda n: n is not None and n >= 1) == 1
    in_database = 'sum(descent_jobs{status="succeeded"})'
    assert monitored.eventually(in_database, lambda n: n is not None and n >= 1) == 1


def test_the_worker_counts_the_jobs_wait_run_epoch_and_samples(monitored: Monitored):
    # 300 rows less the 10% held out for validation, one epoch.
    expected = {
        "sum(descent_job_wait_seconds_count)": 1,
        'sum(descent_job_run_seconds_count{status="succeeded"})': 1,
        "sum(descent_epoch_duration_seconds_count)": 1,
        "sum(descent_training_samples_total)": 270,
    }
    for expr, value in expected.items():
        assert monitored.eventually(expr, lambda n, v=value: n == v) == value, expr


def test_the_predict_latency_histogram_counts_every_prediction(monitored: Monitored):
    count = "sum(descent_prediction_duration_seconds_count)"
    assert monitored.eventually(count, lambda n: n == PREDICTIONS) == PREDICTIONS
    answered = "sum(descent_predictions_total)"
    assert monitored.eventually(answered, lambda n: n == PREDICTIONS) == PREDICTIONS


def test_the_dashboards_rates_count_the_first_job_a_worker_finishes(monitored: Monitored):
    # What the "Jobs finished per hour" panel and the wait and run time quantiles are made of.
    succeeded = 'descent_jobs_finished_total{status="succeeded"}'
    monitored.eventually(f"sum({succeeded})", lambda n: n is not None and n >= 1)
    increase = monitored.query(f"sum(increase({succeeded}[5m]))")
    assert increase and float(increase[0]["value"][1]) >= 0.5, increase


def test_the_queue_is_back_to_empty(monitored: Monitored):
    assert monitored.eventually("sum(descent_queue_depth)", lambda depth: depth == 0) == 0


def test_every_dashboard_and_alert_expression_runs_on_prometheus(monitored: Monitored):
    monitored.eventually('up{job="descent-worker"}', lambda up: up == 1)
    for expr in [*dashboard_exprs(), *alert_exprs()]:
        monitored.query(expr)  # a parse or evaluation error fails here, naming the expression


def test_the_alert_rules_load_and_evaluate_without_errors(monitored: Monitored):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        groups = monitored.prometheus.get("/api/v1/rules").json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        evaluated = rules and all(rule["lastEvaluation"] > "2000" for rule in rules)
        if evaluated or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {rule["name"] for rule in rules} == {rule["alert"] for rule in alert_rules()}
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []


def test_the_dashboard_and_alerts_name_only_metrics_the_service_serves(monitored: Monitored):
    service = monitored.service
    assert service.worker_metrics_url
    served = served_metric_names(service.client.get("/metrics").text)
    served |= served_metric_names(httpx.get(service.worker_metrics_url, timeout=10).text)
    named = {
        name for expr in [*dashboard_exprs(), *alert_exprs()]
        for name in re.findall(r"\bdescent_[a-z0-9_]+", expr)
    }  # fmt: skip
    assert named - served - GPU_ONLY == set()
    # the worker's code does define the GPU gauge it serves on GPU workers
    assert "descent_gpu_memory_bytes" in (PROJECT_ROOT / "workers" / "metrics.py").read_text()
