"""Uploaded data sets have owners: another owner's is, to a key, a data set that does not
exist (404 to read, 422 to train on, absent from lists); names are unique per owner."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import make_key

BUILT_IN = ["mnist", "asl"]
LINEAR = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}


def points(features: int) -> dict[str, Any]:
    """A regression data set named "points": two rows of ``features`` numbers each."""
    return {
        "name": "points",
        "task": "regression",
        "x": [[1] * features, [2] * features],
        "y": [3, 5],
    }


def spec(dataset: str) -> dict[str, Any]:
    return {"dataset": {"name": dataset}, "model": LINEAR, "loss": "mse", "epochs": 1}


def upload(client: TestClient, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/v1/datasets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_another_owners_data_set_is_a_404_by_name_and_by_id_and_missing_from_the_list(
    secured: TestClient,
):
    alice, bob = make_key("alice"), make_key("bob")
    mine = upload(secured, points(1), alice)
    for path in ("/v1/datasets/points", f"/v1/datasets/{mine['id']}"):
        response = secured.get(path, headers=bob)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert secured.get(path, headers=alice).json() == mine
    listed = secured.get("/v1/datasets", headers=bob).json()["items"]
    assert [d["name"] for d in listed] == BUILT_IN
    # The refusal bob gets is the one for a name nobody has.
    nobody = secured.get("/v1/datasets/nothing", headers=bob).json()
    theirs = secured.get("/v1/datasets/points", headers=bob).json()
    assert theirs["detail"] == nobody["detail"].replace("nothing", "points")
    assert theirs["fix"] == nobody["fix"]


def test_training_on_another_owners_data_set_is_refused_as_if_it_did_not_exist(
    secured: TestClient,
):
    alice, bob = make_key("alice"), make_key("bob")
    hers = upload(secured, points(1), alice)
    upload(secured, {**points(1), "name": "bobs"}, bob)
    missing = secured.post("/v1/jobs/validate", json=spec("nothing"), headers=bob).json()
    for name in ("points", hers["id"]):
        for path, body in (
            ("/v1/jobs/validate", spec(name)),
            ("/v1/jobs", spec(name)),
            ("/v1/batches", {"specs": [spec(name)]}),
        ):
            response = secured.post(path, json=body, headers=bob)
            assert response.status_code == 422, (path, response.text)
            error = response.json()["errors"][0]
            assert error["field"] == "dataset.name"
            assert error["message"] == f"there is no data set named {name!r}"
            assert error["allowed"] == [*BUILT_IN, "bobs"]  # bob's names only, not alice's
            assert error["fix"] == missing["errors"][0]["fix"]
    assert secured.get("/v1/jobs", headers=bob).json()["total"] == 0
    assert secured.post("/v1/jobs", json=spec("points"), headers=alice).status_code == 202


def test_two_owners_each_have_their_own_data_set_of_the_same_name(secured: TestClient):
    alice, bob, admin = make_key("alice"), make_key("bob"), make_key("ops", admin=True)
    hers, his = upload(secured, points(1), alice), upload(secured, points(2), bob)
    assert hers["id"] != his["id"]
    again = secured.post("/v1/datasets", json=points(3), headers=bob)
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    for who, shape, params in ((alice, [1], 2), (bob, [2], 3)):
        assert secured.get("/v1/datasets/points", headers=who).json()["input_shape"] == shape
        checked = secured.post("/v1/jobs/validate", json=spec("points"), headers=who).json()
        assert checked["summary"]["total_params"] == params  # trains on its own owner's
    # The admin sees both; by name the two are ambiguous, so it asks for an id.
    listed = secured.get("/v1/datasets", headers=admin).json()["items"]
    assert [d["id"] for d in listed if not d["builtin"]] == [hers["id"], his["id"]]
    for dataset in (hers, his):
        assert secured.get(f"/v1/datasets/{dataset['id']}", headers=admin).json() == dataset
    ambiguous = secured.get("/v1/datasets/points", headers=admin)
    assert ambiguous.status_code == 409
    assert hers["id"] in ambiguous.json()["detail"] and his["id"] in ambiguous.json()["detail"]
    assert "by its id" in ambiguous.json()["fix"]
