"""The model registry over HTTP: names, versions and aliases, and a name or NAME@ALIAS served
wherever a model id is, with owners, bad names, and an alias moving under live traffic.

The models are small real ONNX files with different weights (no worker, no TensorFlow), so
which version answered shows in the predictions."""

import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from core.settings import PROJECT_ROOT, Settings
from models.db import session_scope
from tests.api.conftest import MNIST_SPEC, make_key
from tests.api.test_predict import register_model
from tests.serving.onnx_models import classifier

with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    DIGITS = data["x_test"][:2].tolist()


def trained(client: TestClient, tmp_path: Path, seed: int, headers: dict | None = None) -> str:
    """A succeeded job whose model is a small ONNX classifier with weights drawn from ``seed``."""
    return register_model(
        client,
        tmp_path,
        onnx_file=classifier(tmp_path / f"m{seed}.onnx", seed=seed),
        val_accuracy=0.5 + seed / 10,
        headers=headers,
    )


def predict(client: TestClient, ref: str, headers: dict | None = None) -> list:
    response = client.post(f"/v1/models/{ref}/predict", json={"instances": DIGITS}, headers=headers)
    assert response.status_code == 200, response.text
    return [p["probabilities"] for p in response.json()["predictions"]]


def test_versions_and_aliases_name_the_model_served(client: TestClient, tmp_path: Path):
    first, second = trained(client, tmp_path, seed=0), trained(client, tmp_path, seed=1)
    by_id = {first: predict(client, first), second: predict(client, second)}
    assert by_id[first] != by_id[second]

    created = client.post("/v1/registry/digits/versions", json={"model_id": first})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/registry/digits/versions/1"
    assert created.json()["version"] == 1 and created.json()["model_id"] == first
    again = client.post("/v1/registry/digits/versions", json={"model_id": second}).json()
    assert (again["version"], again["dataset"], again["metrics"]) == (
        2,
        "mnist",
        {"val_accuracy": 0.6},
    )

    moved = client.put("/v1/registry/digits/aliases/production", json={"version": 1})
    assert moved.status_code == 200, moved.text
    assert moved.json() | {"updated_at": None} == {
        "name": "digits", "alias": "production", "version": 1, "model_id": first,
        "updated_at": None,
    }  # fmt: skip
    names = client.get("/v1/registry").json()
    assert [
        (n["name"], n["latest_version"], n["versions"], n["aliases"]) for n in names["items"]
    ] == [("digits", 2, 2, {"production": 1})]
    versions = client.get("/v1/registry/digits/versions").json()["items"]
    assert [(v["version"], v["model_id"], v["aliases"]) for v in versions] == [
        (2, second, []),
        (1, first, ["production"]),
    ]

    # A name serves its latest version, an alias the version it points at, on every route.
    assert predict(client, "digits") == predict(client, "digits@latest") == by_id[second]
    assert predict(client, "digits@production") == by_id[first]
    client.put("/v1/registry/digits/aliases/production", json={"version": 2})
    assert predict(client, "digits@production") == by_id[second]
    described = client.get("/v1/models/digits@production").json()
    assert (described["id"], described["name"], described["version"]) == (second, "digits", 2)
    assert described["model_version_status"] == [
        {"version": "2", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]
    plain = client.get(f"/v1/models/{first}").json()
    assert (plain["name"], plain["model_version_status"][0]["version"]) == (None, "1")
    assert client.get("/v1/models/digits/download?format=onnx").status_code == 200

    # Gone and unknown things are 404s that say which.
    assert client.delete("/v1/registry/digits/aliases/production").status_code == 204
    missing = client.post("/v1/models/digits@production/predict", json={"instances": DIGITS})
    assert (missing.status_code, missing.json()["code"]) == (404, "model_not_found")
    for response, code in [
        (client.delete("/v1/registry/digits/aliases/production"), "alias_not_found"),
        (client.get("/v1/registry/digits/versions/9"), "version_not_found"),
        (
            client.put("/v1/registry/digits/aliases/staging", json={"version": 9}),
            "version_not_found",
        ),
        (client.get("/v1/registry/nothing"), "model_not_found"),
        (client.get("/v1/models/nothing"), "model_not_found"),
        (
            client.post("/v1/registry/digits/versions", json={"model_id": "0" * 32}),
            "model_not_found",
        ),
    ]:
        assert (response.status_code, response.json()["code"]) == (404, code), response.text


def test_bad_names_aliases_and_untrained_models_are_refused(client: TestClient, tmp_path: Path):
    model_id = trained(client, tmp_path, seed=0)
    for path, body in [
        ("/v1/registry/Digits/versions", {"model_id": model_id}),
        ("/v1/registry/-digits/versions", {"model_id": model_id}),
        (f"/v1/registry/{'a' * 32}/versions", {"model_id": model_id}),  # would read as an id
        ("/v1/registry/digits/versions", {"model_id": model_id, "extra": 1}),
    ]:
        response = client.post(path, json=body)
        assert (response.status_code, response.json()["code"]) == (422, "request_invalid"), path
        assert response.json()["fix"]
    client.post("/v1/registry/digits/versions", json={"model_id": model_id})
    for alias in ("latest", "9lives", "Prod"):
        response = client.put(f"/v1/registry/digits/aliases/{alias}", json={"version": 1})
        assert (response.status_code, response.json()["code"]) == (422, "request_invalid"), alias
    queued = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    response = client.post("/v1/registry/digits/versions", json={"model_id": queued})
    assert (response.status_code, response.json()["code"]) == (409, "model_not_ready")


def test_names_belong_to_their_owner(secured: TestClient, tmp_path: Path):
    alice, bob, admin = make_key("alice"), make_key("bob"), make_key("ops", admin=True)
    model_id = trained(secured, tmp_path, seed=0, headers=alice)
    never = secured.get("/v1/registry/digits", headers=bob).json()
    stolen = secured.post("/v1/registry/digits/versions", json={"model_id": model_id}, headers=bob)
    assert (stolen.status_code, stolen.json()["code"]) == (404, "model_not_found")
    secured.post("/v1/registry/digits/versions", json={"model_id": model_id}, headers=alice)
    secured.put("/v1/registry/digits/aliases/production", json={"version": 1}, headers=alice)

    # To bob, alice's name is one that does not exist: the same answer, on every route.
    assert secured.get("/v1/registry/digits", headers=bob).json() == never
    assert secured.get("/v1/registry", headers=bob).json()["items"] == []
    for response in (
        secured.post(
            "/v1/models/digits@production/predict", json={"instances": DIGITS}, headers=bob
        ),
        secured.get("/v1/models/digits", headers=bob),
        secured.put("/v1/registry/digits/aliases/production", json={"version": 1}, headers=bob),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "model_not_found")
    assert predict(secured, "digits@production", alice) == predict(secured, model_id, admin)

    # Bob's own "digits" is another name; to an admin, who sees both, it is ambiguous.
    own = trained(secured, tmp_path, seed=1, headers=bob)
    assert (
        secured.post("/v1/registry/digits/versions", json={"model_id": own}, headers=bob).json()[
            "version"
        ]
        == 1
    )
    assert predict(secured, "digits", bob) != predict(secured, "digits", alice)
    assert len(secured.get("/v1/registry", headers=admin).json()["items"]) == 2
    response = secured.get("/v1/models/digits", headers=admin)
    assert (response.status_code, response.json()["code"]) == (409, "model_name_ambiguous")


def test_a_model_id_costs_no_lookup_and_a_name_one(client: TestClient, tmp_path: Path):
    model_id = trained(client, tmp_path, seed=0)
    client.post("/v1/registry/digits/versions", json={"model_id": model_id})
    predict(client, model_id)  # loads it into the cache
    statements: list[str] = []
    engine = client.app.state.sessionmaker.kw["bind"]
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        predict(client, model_id)
        assert statements == []
        predict(client, "digits")
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_moving_an_alias_under_live_predictions_fails_none(client: TestClient, tmp_path: Path):
    first, second = trained(client, tmp_path, seed=0), trained(client, tmp_path, seed=1)
    expected = [predict(client, first), predict(client, second)]
    for model_id in (first, second):
        client.post("/v1/registry/digits/versions", json={"model_id": model_id})
    client.put("/v1/registry/digits/aliases/production", json={"version": 1})
    stop = threading.Event()
    failures: list[str] = []
    served: list[int] = []

    def keep_predicting() -> None:
        while not stop.is_set():
            response = client.post(
                "/v1/models/digits@production/predict", json={"instances": DIGITS}
            )
            if response.status_code != 200:
                failures.append(response.text)
                continue
            answer = [p["probabilities"] for p in response.json()["predictions"]]
            served.append(expected.index(answer) if answer in expected else -1)

    threads = [threading.Thread(target=keep_predicting) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for move in range(20):
            moved = client.put(
                "/v1/registry/digits/aliases/production", json={"version": 2 - move % 2}
            )
            assert moved.status_code == 200, moved.text
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert set(served) == {0, 1}  # both versions answered, and nothing else did
    assert predict(client, "digits@production") == expected[0]  # the 20th move: to version 1


@pytest.mark.parametrize("ref", ["digits/versions/2"])
def test_a_version_reference_resolves_in_the_service(client: TestClient, tmp_path: Path, ref: str):
    from services import registry

    first, second = trained(client, tmp_path, seed=0), trained(client, tmp_path, seed=1)
    for model_id in (first, second):
        client.post("/v1/registry/digits/versions", json={"model_id": model_id})
    with session_scope(Settings().resolved_database_url) as session:
        assert registry.resolve(session, ref, None) == second
        assert registry.resolve(session, "digits/versions/1", "local") == first
        assert registry.resolve(session, first, "someone") == first  # an id: no lookup
        with pytest.raises(Exception, match="has no version 3"):
            registry.resolve(session, "digits/versions/3", None)


def test_registrations_at_once_get_consecutive_versions(client: TestClient, tmp_path: Path):
    model_id = trained(client, tmp_path, seed=0)
    answers: list[int] = []

    def register() -> None:
        response = client.post("/v1/registry/digits/versions", json={"model_id": model_id})
        answers.append(response.json()["version"])

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [1, 2, 3, 4]
