"""Deleting an uploaded data set: its row and file go, its name is free again; a built-in one,
another owner's, or one an unfinished job still trains on is refused, saying why."""

from typing import Any

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import jobs
from tests.api.conftest import make_key

BUILT_IN = ["mnist", "asl"]
LINE = {"name": "line", "task": "regression", "x": [[1], [2]], "y": [3, 5]}
LINEAR = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}


def spec(dataset: str) -> dict[str, Any]:
    return {"dataset": {"name": dataset}, "model": LINEAR, "loss": "mse", "epochs": 1}


def upload(client: TestClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post("/v1/datasets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def submit(client: TestClient, dataset: str, **headers: str) -> str:
    response = client.post("/v1/jobs", json=spec(dataset), headers=headers)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_a_deleted_data_set_is_gone_with_its_file_and_its_name_can_be_uploaded_again(
    client: TestClient,
):
    first = upload(client, LINE)
    stored = Settings().resolved_artifacts_dir / "datasets" / first["id"]
    assert stored.is_dir()
    response = client.delete("/v1/datasets/line")
    assert response.status_code == 204, response.text
    assert response.content == b""
    for path in ("/v1/datasets/line", f"/v1/datasets/{first['id']}"):
        assert client.get(path).status_code == 404
        assert client.delete(path).status_code == 404
    assert [d["name"] for d in client.get("/v1/datasets").json()["items"]] == BUILT_IN
    assert not stored.exists()
    assert client.post("/v1/jobs/validate", json=spec("line")).status_code == 422
    # The name is free: a new upload under it, with other rows, is a data set of its own.
    second = upload(client, {**LINE, "x": [[1, 1], [2, 2]]})
    assert second["id"] != first["id"]
    checked = client.post("/v1/jobs/validate", json=spec("line")).json()
    assert checked["summary"]["total_params"] == 3
    assert client.delete(f"/v1/datasets/{second['id']}").status_code == 204  # by id, too


def test_a_built_in_data_set_cannot_be_deleted(client: TestClient):
    response = client.delete("/v1/datasets/mnist")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.headers["content-type"] == "application/problem+json"
    assert "built-in data set" in response.json()["detail"]
    assert "uploaded" in response.json()["fix"]
    assert client.get("/v1/datasets/mnist").status_code == 200


def test_a_data_set_that_unfinished_jobs_name_is_kept_with_a_409_naming_them(
    client: TestClient,
):
    dataset = upload(client, LINE)
    queued = submit(client, "line")
    by_id = submit(client, dataset["id"])  # a job may name it by id
    done = submit(client, "line")
    assert client.post(f"/v1/jobs/{done}/cancel").status_code == 200  # cancelled: finished
    url = Settings().resolved_database_url
    with session_scope(url) as session:
        assert jobs.claim(session, by_id)
    assert client.post(f"/v1/jobs/{by_id}/cancel").status_code == 202  # cancelling

    response = client.delete("/v1/datasets/line")
    assert response.status_code == 409
    problem = response.json()
    assert problem["detail"] == (
        f"data set 'line' is used by 2 unfinished job(s): {queued} (queued), {by_id} (cancelling)"
    )
    assert [(e["job_id"], e["status"]) for e in problem["errors"]] == [
        (queued, "queued"),
        (by_id, "cancelling"),
    ]
    assert "cancel" in problem["fix"]
    assert client.get("/v1/datasets/line").json() == dataset

    assert client.post(f"/v1/jobs/{queued}/cancel").status_code == 200
    with session_scope(url) as session:
        jobs.end_cancelled(session, by_id, None)
    assert client.delete("/v1/datasets/line").status_code == 204


def test_another_owners_data_set_is_a_404_to_delete_exactly_like_a_missing_one(
    secured: TestClient,
):
    alice, bob = make_key("alice"), make_key("bob")
    hers = upload(secured, {**LINE, "name": "points"}, **alice)
    missing = secured.delete("/v1/datasets/nothing", headers=bob).json()
    for name in ("points", hers["id"]):
        response = secured.delete(f"/v1/datasets/{name}", headers=bob)
        assert response.status_code == 404
        assert response.json() == {
            **missing,
            "detail": missing["detail"].replace("nothing", name),
            "instance": f"/v1/datasets/{name}",
        }
    assert secured.get("/v1/datasets/points", headers=alice).json() == hers
    # Only the data set's own owner's jobs hold it: alice's job does not keep bob's "points".
    upload(secured, {**LINE, "name": "points"}, **bob)
    job = submit(secured, "points", **alice)
    assert secured.delete("/v1/datasets/points", headers=bob).status_code == 204
    held = secured.delete("/v1/datasets/points", headers=alice)
    assert held.status_code == 409
    assert job in held.json()["detail"]


def test_deleting_a_data_set_is_in_the_openapi_document(client: TestClient):
    operation = client.get("/openapi.json").json()["paths"]["/v1/datasets/{name_or_id}"]["delete"]
    assert operation["summary"] == "Delete a data set"
    assert {"204", "404", "405", "409"} <= set(operation["responses"])


def test_a_name_holding_a_nul_character_is_a_404_like_any_unknown_name(client: TestClient):
    for method in ("GET", "DELETE"):
        response = client.request(method, "/v1/datasets/a%00b")
        assert response.status_code == 404, (method, response.text)
