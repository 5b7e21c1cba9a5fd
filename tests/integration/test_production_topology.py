"""The production topology on one machine: PostgreSQL as the database, Redis as Celery's broker,
a real worker consuming from Redis and training a small job end to end."""

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from core.settings import PROJECT_ROOT, Settings
from services.queue import TRAIN_TASK, make_celery
from tests.conftest import Service
from tests.factories import job_spec

pytestmark = pytest.mark.integration

SPEC = job_spec(name="pg-redis", batch_size=32)


def test_a_job_trains_through_redis_into_postgres(production_service: Service):
    client = production_service.client
    job = production_service.wait_for_job(client.post("/v1/jobs", json=SPEC).json()["id"])
    assert job["status"] == "succeeded", job["error"]

    epochs = client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    assert [row["epoch"] for row in epochs] == [0, 1, 2]

    database = production_service.settings.resolved_database_url
    assert database.startswith("postgresql")
    with create_engine(database).connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM epoch WHERE job_id = :id"), {"id": job["id"]}
        ).scalar_one()
    assert stored == 3

    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        images, labels = data["x_test"][:50].tolist(), data["y_test"][:50]
    predictions = client.post(
        f"/v1/models/{job['model_id']}/predict", json={"instances": images}
    ).json()["predictions"]
    assert sum(p["label"] == str(y) for p, y in zip(predictions, labels, strict=True)) >= 40

    log = production_service.log.read_text()
    assert "Connected to redis://" in log


def test_redis_redelivery_waits_longer_than_the_longest_job(redis_url: str):
    settings = Settings(broker_url=redis_url, job_time_limit_seconds=7200)
    timeout = make_celery(settings).conf.broker_transport_options["visibility_timeout"]
    assert timeout > 7200


def test_deployments_sharing_one_redis_keep_their_jobs_apart(redis_url: str):
    """DESCENT_BROKER_KEY_PREFIX: a message sent under one prefix waits in that prefix's queue
    only, where a worker of another deployment (another prefix) never looks."""
    import redis

    sent = make_celery(Settings(broker_url=redis_url, broker_key_prefix="team-a:"))
    sent.send_task(TRAIN_TASK, args=["job-of-team-a"], queue="any")
    sent.close()

    keys = redis.Redis.from_url(redis_url)
    try:
        assert keys.llen("team-a:any") == 1
        assert keys.llen("any") == 0 and keys.llen("team-b:any") == 0
    finally:
        keys.delete("team-a:any")
