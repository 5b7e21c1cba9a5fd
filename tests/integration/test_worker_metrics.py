"""A running worker serves its Prometheus metrics on its own port: after a job trains there, a
scrape counts it, as Prometheus would read it (the real Prometheus scrapes it in tests/deploy)."""

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Service
from tests.factories import job_spec

pytestmark = pytest.mark.integration

WATCHED = {
    "succeeded": ("descent_jobs_finished_total", {"status": "succeeded"}),
    "waits": ("descent_job_wait_seconds_count", {}),
    "runs": ("descent_job_run_seconds_count", {"status": "succeeded"}),
    "epochs": ("descent_epoch_duration_seconds_count", {}),
    "samples": ("descent_training_samples_total", {}),
}


def scrape(service: Service) -> dict[str, float]:
    """The watched samples, each summed over the labels not named (the job's queue)."""
    assert service.worker_metrics_url is not None
    text = httpx.get(service.worker_metrics_url, timeout=10).text
    totals = dict.fromkeys(WATCHED, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for key, (name, labels) in WATCHED.items():
                if sample.name == name and labels.items() <= sample.labels.items():
                    totals[key] += sample.value
    return totals


def test_a_finished_job_is_counted_on_the_workers_metrics_port(service: Service):
    service.wait_for_warm_worker()  # its parent serves the port before it forks a child
    before = scrape(service)  # the service is shared: other tests' jobs may be counted already
    spec = job_spec(limit=200, validation=0.1, units=16, epochs=1, name="worker-metrics")
    response = service.client.post("/v1/jobs", json=spec)
    assert response.status_code == 202, response.text
    assert service.wait_for_job(response.json()["id"])["status"] == "succeeded"
    expected = {"succeeded": 1, "waits": 1, "runs": 1, "epochs": 1, "samples": 180}
    deadline = time.monotonic() + 15  # the child counts the end just after committing it
    while True:
        after = scrape(service)
        grown = {key: after[key] - before[key] for key in WATCHED}
        if grown == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert grown == expected
