"""GET /metrics: the API's Prometheus metrics, read with prometheus_client's own parser.

Each app counts in a registry of its own, so every test starts from zero."""

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from api.app import create_app
from api.sweeper import Reconciler
from core.settings import Settings
from models import Job
from models.base import utcnow
from models.db import session_scope
from services import jobs
from tests.api.conftest import MNIST_SPEC
from tests.api.test_predict import register_model
from tests.conftest import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
ONE_IMAGE = {"instances": np.zeros((1, 28, 28, 1)).tolist()}


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def predict(client: TestClient, model_id: str, **kwargs):
    return client.post(f"/v1/models/{model_id}/predict", **kwargs)


def test_requests_are_counted_by_route_template_not_by_id(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    assert client.get(f"/v1/jobs/{job_id}").status_code == 200
    assert client.get("/v1/jobs/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/no/such/path").status_code == 404

    samples = scrape(client)
    route = "/v1/jobs/{job_id}"
    counted = "descent_http_requests_total"
    assert value(samples, counted, route=route, method="GET", status="200") == 1
    assert value(samples, counted, route=route, method="GET", status="404") == 1
    assert value(samples, counted, route="/v1/jobs", method="POST", status="202") == 1
    assert value(samples, counted, route="other", method="GET", status="404") == 1
    timed = "descent_http_request_duration_seconds_count"
    assert value(samples, timed, route=route, method="GET") == 2
    assert job_id not in client.get("/metrics").text


def test_the_predict_histogram_counts_the_predictions_answered(client: TestClient, tmp_path):
    model_id = register_model(client, tmp_path)
    for _ in range(4):
        assert predict(client, model_id, json=ONE_IMAGE).status_code == 200
    three = {"instances": np.zeros((3, 28, 28, 1)).tolist()}
    assert predict(client, model_id, json=three).status_code == 200
    assert predict(client, model_id, content=b"not json").status_code == 422  # not counted

    samples = scrape(client)
    task = "classification"
    assert value(samples, "descent_predictions_total", task=task) == 5
    assert value(samples, "descent_prediction_duration_seconds_count", task=task) == 5
    assert value(samples, "descent_prediction_instances_count", task=task) == 5
    assert value(samples, "descent_prediction_instances_sum", task=task) == 4 + 3
    route = "/v1/models/{model_id}/predict"
    counted = "descent_http_requests_total"
    assert value(samples, counted, route=route, method="POST", status="200") == 5
    assert value(samples, counted, route=route, method="POST", status="422") == 1


@pytest.fixture
def one_model_cache(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DESCENT_MODEL_CACHE_SIZE", "1")
    with TestClient(create_app(Settings())) as client:
        yield client


def test_model_cache_hits_misses_and_evictions_are_counted(one_model_cache, tmp_path: Path):
    client = one_model_cache
    first, second = register_model(client, tmp_path), register_model(client, tmp_path)
    for model_id in (first, first, second, first):  # miss, hit, miss (evicts), miss (evicts)
        assert predict(client, model_id, json=ONE_IMAGE).status_code == 200

    samples = scrape(client)
    assert value(samples, "descent_model_cache_total", event="hit") == 1
    assert value(samples, "descent_model_cache_total", event="miss") == 3
    assert value(samples, "descent_model_cache_total", event="eviction") == 2


def test_jobs_and_queue_depth_are_read_from_the_database_and_the_broker(client: TestClient):
    submitted = [client.post("/v1/jobs", json=MNIST_SPEC).json()["id"] for _ in range(3)]
    assert client.post(f"/v1/jobs/{submitted[0]}/cancel").status_code == 200

    samples = scrape(client)
    assert value(samples, "descent_jobs", status="queued") == 2
    assert value(samples, "descent_jobs", status="cancelled") == 1
    assert value(samples, "descent_jobs", status="succeeded") == 0
    # Three messages were sent to the "any" queue (cancelling does not take one back), and
    # no worker has taken them.
    assert value(samples, "descent_queue_depth", queue="any") == 3
    assert value(samples, "descent_queue_depth", queue="gpu") == 0


def test_scrape_after_scrape_gets_the_queue_depth(client: TestClient):
    """Each scrape asks the broker on a connection of its own and lets go of all of it: the
    SQLite broker's pool holds 15, which a leak would use up, and then jobs could not be sent.
    (The garbage collector, off meanwhile, would hide a leak only some of the time.)"""
    gc.disable()
    try:
        for _ in range(20):
            assert value(scrape(client), "descent_queue_depth", queue="any") == 0
    finally:
        gc.enable()
    assert client.post("/v1/jobs", json=MNIST_SPEC).status_code == 202
    assert value(scrape(client), "descent_queue_depth", queue="any") == 1


def test_a_worker_holding_a_job_has_a_heartbeat_age(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id, worker="celery@gpu-1")

    age = value(scrape(client), "descent_worker_heartbeat_age_seconds", worker="celery@gpu-1")
    assert age is not None and 0 <= age < 60


def test_the_sweep_counts_the_jobs_it_requeues_and_those_out_of_attempts(client: TestClient):
    requeued, exhausted = (client.post("/v1/jobs", json=MNIST_SPEC).json()["id"] for _ in "ab")
    with session_scope(Settings().resolved_database_url) as session:
        for job_id in (requeued, exhausted):
            assert jobs.claim(session, job_id, worker="celery@lost")
        silent_since = utcnow().replace(year=2000)  # the worker died long ago
        session.execute(update(Job).values(heartbeat_at=silent_since))
        last = Settings().max_attempts
        session.execute(update(Job).where(Job.id == exhausted).values(attempts=last))
    state = client.app.state
    swept = Reconciler(state.settings, state.broker, state.metrics).sweep_once()

    assert (swept.resumed, swept.failed) == ([requeued], [exhausted])
    samples = scrape(client)
    assert value(samples, "descent_recoveries_total", kind="requeued") == 1
    assert value(samples, "descent_recoveries_total", kind="exhausted") == 1


def test_a_broker_that_does_not_answer_leaves_queue_depth_out(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DESCENT_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # closed
    with TestClient(create_app(Settings())) as client:
        started = time.monotonic()
        samples = scrape(client)
    assert time.monotonic() - started < 10
    assert not any(name == "descent_queue_depth" for name, _ in samples)
    assert value(samples, "descent_jobs", status="queued") == 0


def test_an_event_stream_is_counted_once_it_ends(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.cancel(session, job_id)  # a finished job's stream replays and ends
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        assert response.status_code == 200
        assert "cancelled" in "".join(response.iter_text())

    samples = scrape(client)
    route = "/v1/jobs/{job_id}/events"
    assert value(samples, "descent_http_requests_total", route=route, method="GET", status="200")


def test_metrics_are_not_an_operation_of_the_api(client: TestClient):
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_off_means_no_metrics_route(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DESCENT_METRICS", "false")
    with TestClient(create_app(Settings())) as client:
        assert client.get("/metrics").status_code == 404
        assert client.app.state.metrics is None
