"""Domain errors as HTTP: each kind's status, the routes a fix names, and a body that always
renders."""

import re
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.problem_types import PROBLEM_TYPES
from api.schemas.problems import Problem
from core.errors import InvalidInput, NotFound
from core.settings import Settings
from core.statuses import FINISHED, JobStatus
from models.db import session_scope
from services import jobs
from tests.api.conftest import MNIST_SPEC
from tests.api.test_predict import register_model

ROOT = Path(__file__).resolve().parents[2]


def test_every_route_a_fix_names_is_one_the_api_serves(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    for operation, route in errors.ROUTES.items():
        method, path = route.split(" ")
        assert method.lower() in paths.get(path, {}), f"{operation}: {route} is not served"


def test_every_operation_the_domain_names_has_a_route():
    verbs = re.compile(r"\{((?:list|get|submit|cancel|upload|delete)_[a-z_]+)\}")
    named = {
        name
        for package in ("services", "serving", "training")
        for source in (ROOT / package).rglob("*.py")
        for name in verbs.findall(source.read_text())
    }
    assert named, "the services name no operation: is the pattern still the one they use?"
    assert named <= set(errors.ROUTES), named - set(errors.ROUTES)


def test_a_fix_names_its_route_and_an_error_entry_its_own():
    app = FastAPI()
    errors.install(app)

    @app.get("/missing")
    def missing() -> None:
        raise NotFound(
            "no such thing",
            fix="list jobs with {list_jobs}",
            errors=[{"field": "x", "message": "bad", "fix": "submit with {submit_job}"}],
        )

    body = TestClient(app).get("/missing").json()
    assert body["fix"] == "list jobs with GET /v1/jobs"
    assert body["errors"][0]["fix"] == "submit with POST /v1/jobs"
    assert NotFound("x", fix="list jobs with {list_jobs}").plain_fix == "list jobs with list jobs"


def test_a_body_json_cannot_hold_is_rendered_as_text_not_a_failure():
    app = FastAPI()
    errors.install(app)

    @app.get("/odd")
    def odd() -> None:
        found = {"path": Path("/tmp/x"), "count": np.int64(3), "kinds": {"a"}}
        raise InvalidInput("odd values", errors=[{"field": "x", "found": found}])

    response = TestClient(app).get("/odd")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["found"] == {
        "path": "/tmp/x",
        "count": "3",
        "kinds": "{'a'}",
    }


def test_the_statuses_the_page_and_clients_read_are_the_one_list(client: TestClient):
    served = client.get("/v1/statuses").json()
    assert served["statuses"] == [status.value for status in JobStatus]
    assert set(served["finished"]) == FINISHED == {"succeeded", "failed", "cancelled"}


def test_nan_or_infinity_in_a_spec_is_refused_with_a_422_that_names_the_field(client: TestClient):
    for number in ("NaN", "Infinity", "-Infinity", "1e400"):
        body = '{"dataset": {"name": "mnist"}, "model": {"preset": "dense"}, "epochs": %s}'
        response = client.post(
            "/v1/jobs", content=body % number, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert any(error["field"] == "epochs" for error in response.json()["errors"])


def assert_problem(response, status: int, code: str) -> dict:
    """The response is a problem of ``status`` whose code, type and instance say what it is."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["instance"] == response.request.url.path
    assert body["title"] == PROBLEM_TYPES[code].title
    Problem.model_validate(body)  # the schema the OpenAPI document gives every error
    return body


def test_an_unknown_job_is_a_job_not_found_problem_at_its_path(client: TestClient):
    for path in ("/v1/jobs/nope", "/v1/jobs/nope/history", "/v1/jobs/nope/events"):
        assert_problem(client.get(path), 404, "job_not_found")
    assert_problem(client.post("/v1/jobs/nope/cancel"), 404, "job_not_found")


def test_each_unknown_thing_has_its_own_not_found_code(client: TestClient):
    assert_problem(client.get("/v1/models/nope"), 404, "model_not_found")
    assert_problem(client.get("/v1/batches/nope"), 404, "batch_not_found")
    assert_problem(client.delete("/v1/datasets/nope"), 404, "dataset_not_found")


def test_an_unknown_path_is_not_found(client: TestClient):
    body = assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    assert "/v1/nothing-here" in body["detail"]


def test_a_method_a_route_does_not_take_is_a_405_that_keeps_allow(client: TestClient):
    response = client.put("/v1/jobs")
    body = assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert "PUT" in body["detail"]


def test_a_path_only_another_method_serves_is_a_405_not_a_404(client: TestClient):
    response = client.get("/v1/jobs/some-id/cancel")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_deleting_a_builtin_data_set_is_a_405_with_allow(client: TestClient):
    response = client.delete("/v1/datasets/mnist")
    assert_problem(response, 405, "dataset_builtin")
    assert response.headers["allow"] == "GET"


def test_a_bad_spec_is_spec_invalid_with_a_fix_per_field(client: TestClient):
    spec = {**MNIST_SPEC, "epochs": 0}
    body = assert_problem(client.post("/v1/jobs", json=spec), 422, "spec_invalid")
    assert body["errors"][0]["field"] == "epochs"
    assert body["errors"][0]["fix"]
    body = assert_problem(client.post("/v1/jobs/validate", json=spec), 422, "spec_invalid")
    assert body["errors"][0]["fix"]


def test_a_spec_that_does_not_fit_its_data_set_is_spec_invalid(client: TestClient):
    spec = {**MNIST_SPEC, "dataset": {"name": "no-such-data"}}
    body = assert_problem(client.post("/v1/jobs", json=spec), 422, "spec_invalid")
    assert body["errors"][0]["field"] == "dataset.name"


def test_a_bad_query_value_is_query_invalid_and_names_the_parameter(client: TestClient):
    body = assert_problem(client.get("/v1/jobs?limit=100000"), 422, "query_invalid")
    assert body["errors"][0]["field"] == "limit"
    assert body["errors"][0]["fix"]
    body = assert_problem(client.get("/v1/jobs?colour=red"), 422, "query_invalid")
    assert body["errors"][0]["field"] == "colour"


def test_an_unreadable_header_is_request_invalid(client: TestClient):
    response = client.post("/v1/jobs", json=MNIST_SPEC, headers={"Idempotency-Key": "a b"})
    body = assert_problem(response, 422, "request_invalid")
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_cancelling_a_finished_job_is_job_finished(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    with session_scope(Settings().resolved_database_url) as session:
        jobs.claim(session, job_id)
    with session_scope(Settings().resolved_database_url) as session:
        jobs.succeed(session, job_id, {"loss": 0.1})
    assert_problem(client.post(f"/v1/jobs/{job_id}/cancel"), 409, "job_finished")


def test_a_model_whose_job_is_queued_is_model_not_ready(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    assert_problem(client.get(f"/v1/models/{job_id}"), 409, "model_not_ready")


def test_an_unexpected_error_is_internal_error(client: TestClient):
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "boom" not in body["detail"]  # what failed inside is logged, not told


def test_prediction_refusals_carry_their_codes(client: TestClient, tmp_path: Path):
    model_id = register_model(client, tmp_path)
    predict = f"/v1/models/{model_id}/predict"
    body = assert_problem(client.post(predict, json={"instances": "x"}), 422, "input_invalid")
    assert body["errors"][0]["fix"]
    assert_problem(client.post(predict, json={"instances": []}), 422, "input_invalid")
    response = client.post(predict, content=b"1,2", headers={"content-type": "text/csv"})
    assert_problem(response, 415, "unsupported_media_type")


def test_an_upload_that_fails_validation_is_dataset_invalid(client: TestClient):
    response = client.post("/v1/datasets", json={"name": "line", "task": "regression"})
    body = assert_problem(response, 422, "dataset_invalid")
    assert {error["field"] for error in body["errors"]} == {"x", "y"}


def test_a_missing_key_is_unauthorized_with_www_authenticate(secured: TestClient):
    response = secured.get("/v1/jobs")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
