"""API keys and owners: a missing, unknown or revoked key is a 401; another owner's things are
404 on every route; an admin key sees everything."""

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import api_keys, jobs, trained_models
from tests.api.conftest import MNIST_SPEC, make_key

IMAGE = [[0] * 28] * 28
BUILT_IN = ["mnist", "asl"]
POINTS = {"name": "points", "task": "regression", "x": [[1], [2]], "y": [3, 5]}


def owned_things(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """A job with a registered model (its files absent), a batch and an uploaded data set, all
    owned by ``headers``."""
    job = client.post("/v1/jobs", json=MNIST_SPEC, headers=headers).json()
    with session_scope(Settings().resolved_database_url) as session:
        trained_models.register(
            session, job["id"], dataset="mnist", task="classification", class_names=["0"],
            input_shape=[28, 28, 1], scaling="divide_by_255", keras_key="x.keras",
            onnx_key="x.onnx",
        )  # fmt: skip
    batch = client.post(
        "/v1/batches", json={"specs": [MNIST_SPEC], "max_parallel": 1}, headers=headers
    ).json()
    dataset = client.post("/v1/datasets", json=POINTS, headers=headers).json()
    return {"job": job["id"], "batch": batch["id"], "dataset": dataset["id"]}


def routes(ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    job, batch = ids["job"], ids["batch"]
    return [
        ("GET", f"/v1/datasets/{ids['dataset']}", {}),
        ("GET", f"/v1/datasets/{POINTS['name']}", {}),
        ("GET", f"/v1/jobs/{job}", {}),
        ("GET", f"/v1/jobs/{job}/history", {}),
        ("GET", f"/v1/jobs/{job}/events", {}),
        ("GET", f"/v1/models/{job}", {}),
        ("GET", f"/v1/models/{job}/download", {}),
        ("POST", f"/v1/models/{job}/predict", {"json": {"instances": [IMAGE]}}),
        ("GET", f"/v1/batches/{batch}", {}),
        ("GET", f"/v1/batches/{batch}/jobs", {}),
        ("POST", f"/v1/batches/{batch}/cancel", {}),
        ("POST", f"/v1/jobs/{job}/cancel", {}),  # last: it changes the job
    ]


def test_every_route_answers_another_owner_404_and_the_owner_or_an_admin_not(
    secured: TestClient,
):
    alice, bob, admin = make_key("alice"), make_key("bob"), make_key("ops", admin=True)
    ids = owned_things(secured, alice)
    for method, path, extra in routes(ids):
        response = secured.request(method, path, headers=bob, **extra)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # The lists show bob nothing of alice's, and alice (and the admin) her own.
    assert secured.get("/v1/jobs", headers=bob).json()["total"] == 0
    assert secured.get("/v1/models", headers=bob).json()["items"] == []
    assert secured.get("/v1/batches", headers=bob).json()["total"] == 0
    assert [d["name"] for d in secured.get("/v1/datasets", headers=bob).json()["items"]] == BUILT_IN
    for who in (alice, admin):
        names = [d["name"] for d in secured.get("/v1/datasets", headers=who).json()["items"]]
        assert names == [*BUILT_IN, "points"]
    assert secured.get("/v1/jobs", headers=alice).json()["total"] == 2
    assert [m["id"] for m in secured.get("/v1/models", headers=admin).json()["items"]] == [
        ids["job"]
    ]
    for who in (alice, admin):
        for method, path, extra in routes(ids):
            if path.endswith("/events"):
                continue  # the job is queued: the stream would stay open
            response = secured.request(method, path, headers=who, **extra)
            # 410: the test model has no files; 409: cancelled already; never "not found".
            assert response.status_code in (200, 202, 409, 410), (method, path, response.text)


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (None, "sent none"),
        ("Basic abc", "must be `Bearer <key>`"),
        ("Bearer dsk_not-a-key", "unknown or has been revoked"),
    ],
)
def test_a_missing_malformed_or_unknown_key_is_a_401_problem(
    secured: TestClient, header: str | None, says: str
):
    headers = {"Authorization": header} if header else {}
    for path in ("/v1/jobs", "/v1/datasets", "/v1/models/x/predict"):
        response = secured.request(
            "POST" if path.endswith("predict") else "GET", path, headers=headers
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert says in response.json()["detail"]
        assert "descent keys create" in response.json()["fix"]


def test_a_revoked_key_stops_working_and_health_needs_no_key(secured: TestClient):
    headers = make_key("temp")
    assert secured.get("/v1/jobs", headers=headers).status_code == 200
    with session_scope(Settings().resolved_database_url) as session:
        key = api_keys.list_all(session)[-1]
        api_keys.revoke(session, key.id)
    assert secured.get("/v1/jobs", headers=headers).status_code == 401
    health = secured.get("/healthz")
    assert health.status_code == 200
    assert health.json()["auth"] == "required"  # how the page knows to ask for a key


def test_with_auth_off_everything_belongs_to_local(client: TestClient):
    job = client.post("/v1/jobs", json=MNIST_SPEC).json()
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.get(session, job["id"]).owner == "local"
