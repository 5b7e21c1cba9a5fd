"""The worker's metrics, counted where a job runs: the train task in this process, against a
real database (the HTTP side, served by a running worker, is tests/integration/
test_worker_metrics.py)."""

from datetime import timedelta
from pathlib import Path

import pytest

from core.settings import Settings
from models.base import utcnow
from models.db import session_scope
from services import jobs, recovery
from services.queue import Broker
from tests.factories import job_spec_model
from tests.harness import wiring
from workers import metrics
from workers.tasks import run_job


def value(name: str, **labels: str) -> float:
    """The sample's value in the worker's registry now (0 if it was never recorded)."""
    return metrics.registry().get_sample_value(name, labels) or 0.0


def submit(**changes) -> tuple[str, str]:
    """A tiny job (mnist, 100 rows, 10% held out for validation): its id and queue."""
    spec = job_spec_model(**{"limit": 100, "validation": 0.1, "units": 8, "epochs": 1, **changes})
    with session_scope(Settings().resolved_database_url) as session:
        job = jobs.submit(session, spec, **wiring())
        return job.id, job.queue


def test_a_job_that_trains_counts_its_wait_its_run_its_epochs_and_its_samples(home: Path):
    job_id, queue = submit(epochs=2)
    names = [
        ("descent_jobs_finished_total", {"status": "succeeded"}),
        ("descent_job_wait_seconds_count", {"queue": queue}),
        ("descent_job_run_seconds_count", {"queue": queue, "status": "succeeded"}),
        ("descent_epoch_duration_seconds_count", {"queue": queue}),
        ("descent_training_samples_total", {"queue": queue}),
    ]
    before = [value(name, **labels) for name, labels in names]
    run_job(job_id, Settings())
    after = [value(name, **labels) for name, labels in names]
    # One job; two epochs (the untrained epoch 0 is no training) of the 90 training rows.
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1, 2, 180]


def test_a_job_that_fails_is_counted_failed(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DESCENT_DATA_DIR", str(tmp_path / "empty"))  # no mnist.npz: it fails
    job_id, queue = submit()
    failed = value("descent_jobs_finished_total", status="failed")
    ran = value("descent_job_run_seconds_count", queue=queue, status="failed")
    run_job(job_id, Settings())
    assert value("descent_jobs_finished_total", status="failed") == failed + 1
    assert value("descent_job_run_seconds_count", queue=queue, status="failed") == ran + 1


def test_a_resumed_attempt_counts_a_resume_and_no_second_wait(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DESCENT_DATA_DIR", str(tmp_path / "empty"))  # fails fast once resumed
    job_id, queue = submit()
    settings = Settings()
    with session_scope(settings.resolved_database_url) as session:
        assert jobs.claim(session, job_id)  # attempt 1, whose worker then dies
    later = utcnow() + timedelta(seconds=settings.heartbeat_timeout_seconds + 1)
    with session_scope(settings.resolved_database_url) as session:
        assert recovery.sweep(session, settings, Broker(settings), later).resumed == [job_id]
    resumed = value("descent_recoveries_total", kind="resumed")
    waits = value("descent_job_wait_seconds_count", queue=queue)
    run_job(job_id, settings)  # attempt 2
    assert value("descent_recoveries_total", kind="resumed") == resumed + 1
    assert value("descent_job_wait_seconds_count", queue=queue) == waits


def test_a_cpu_worker_reports_no_gpu_memory():
    metrics.gpu_memory("cpu")
    assert value("descent_gpu_memory_bytes", device="cpu", kind="current") == 0


def test_a_gpu_worker_reports_the_memory_tensorflow_holds_on_its_device(
    monkeypatch: pytest.MonkeyPatch,
):
    import tensorflow as tf

    asked = []

    def memory_info(device: str) -> dict[str, int]:
        asked.append(device)
        return {"current": 3 * 2**30, "peak": 5 * 2**30}

    monkeypatch.setattr(tf.config.experimental, "get_memory_info", memory_info)
    metrics.gpu_memory("gpu:1")  # the child sees only its own GPU, which TensorFlow calls GPU:0
    assert asked == ["GPU:0"]
    assert value("descent_gpu_memory_bytes", device="gpu:1", kind="current") == 3 * 2**30
    assert value("descent_gpu_memory_bytes", device="gpu:1", kind="peak") == 5 * 2**30
