"""A job, its history and a model carry an ETag, and If-None-Match answers 304 while unchanged."""

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import jobs, trained_models
from tests.api.conftest import MNIST_SPEC


def submit(client: TestClient) -> str:
    return client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]


def finish(job_id: str) -> None:
    """What a worker commits when a job succeeds: the job's end and its model."""
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
        trained_models.register(
            session, job_id, dataset="mnist", task="classification", class_names=["0"],
            input_shape=[28, 28, 1], scaling="divide_by_255", keras_key="x.keras",
            onnx_key="x.onnx",
        )  # fmt: skip
        jobs.succeed(session, job_id, {"loss": 0.1})


def test_an_unchanged_job_is_a_304_with_no_body(client: TestClient):
    job_id = submit(client)
    first = client.get(f"/v1/jobs/{job_id}")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong

    again = client.get(f"/v1/jobs/{job_id}", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_a_changed_job_is_a_200_with_a_new_etag(client: TestClient):
    job_id = submit(client)
    etag = client.get(f"/v1/jobs/{job_id}").headers["etag"]
    finish(job_id)

    changed = client.get(f"/v1/jobs/{job_id}", headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed.json()["status"] == "succeeded"
    assert changed.headers["etag"] != etag


def test_history_and_model_answer_304_while_unchanged(client: TestClient):
    job_id = submit(client)
    finish(job_id)
    for path in (f"/v1/jobs/{job_id}/history", f"/v1/models/{job_id}"):
        etag = client.get(path).headers["etag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304, path


def test_a_list_of_tags_a_weak_tag_and_a_star_all_match(client: TestClient):
    job_id = submit(client)
    etag = client.get(f"/v1/jobs/{job_id}").headers["etag"]
    for asked in (f'"other", {etag}', f"W/{etag}", "*"):
        answer = client.get(f"/v1/jobs/{job_id}", headers={"If-None-Match": asked})
        assert answer.status_code == 304, asked


def test_another_tag_gets_the_whole_answer(client: TestClient):
    job_id = submit(client)
    answer = client.get(f"/v1/jobs/{job_id}", headers={"If-None-Match": '"stale"'})
    assert answer.status_code == 200
    assert answer.json()["id"] == job_id


def test_errors_and_other_reads_carry_no_etag(client: TestClient):
    assert "etag" not in client.get("/v1/jobs/nope").headers
    submit(client)
    assert "etag" not in client.get("/v1/jobs").headers


def test_the_schema_documents_the_etag_and_the_304():
    from api.app import create_app

    schema = create_app(Settings()).openapi()
    for path in ("/v1/jobs/{job_id}", "/v1/jobs/{job_id}/history", "/v1/models/{model_id}"):
        operation = schema["paths"][path]["get"]
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "304" in operation["responses"], path
        assert any(p["name"] == "If-None-Match" for p in operation["parameters"]), path
