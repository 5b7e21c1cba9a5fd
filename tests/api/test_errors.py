"""Domain errors as HTTP: each kind's status, the routes a fix names, and a body that always
renders."""

import re
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from core.errors import InvalidInput, NotFound
from core.statuses import FINISHED, JobStatus

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
