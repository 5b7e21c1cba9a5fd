"""POST /v1/jobs/validate: the resolved spec, the model's summary and warnings, nothing queued;
and the /docs schema that describes every field."""

from fastapi.testclient import TestClient

from tests.api.conftest import MNIST_SPEC

CNN = {"dataset": {"name": "mnist"}, "model": {"preset": "cnn"}}


def test_validate_resolves_and_summarises_without_queueing(client: TestClient):
    response = client.post("/v1/jobs/validate", json=CNN)
    assert response.status_code == 200, response.text
    checked = response.json()
    layers = checked["summary"]["layers"]
    assert [row["output_shape"] for row in layers[:4]] == [
        [26, 26, 32],
        [13, 13, 32],
        [11, 11, 64],
        [5, 5, 64],
    ]
    assert (layers[0]["weights"], layers[0]["biases"], layers[0]["params"]) == (288, 32, 320)
    assert checked["summary"]["total_params"] == sum(row["params"] for row in layers) == 225_034
    assert checked["spec"]["model"]["layers"][-1]["units"] == 10
    assert checked["warnings"] == []
    assert client.get("/v1/jobs").json()["total"] == 0


def test_warnings_come_back_from_validate_and_stay_on_the_job(client: TestClient):
    spec = {
        **MNIST_SPEC,
        "model": {
            "layers": [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]
        },
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 2},
    }
    checked = client.post("/v1/jobs/validate", json=spec).json()
    assert [w["field"] for w in checked["warnings"]] == ["loss", "optimizer.learning_rate"]
    job = client.post("/v1/jobs", json=spec).json()
    assert job["warnings"] == checked["warnings"]
    assert client.get(f"/v1/jobs/{job['id']}").json()["warnings"] == checked["warnings"]


def test_a_refusal_names_the_field_what_was_found_what_is_allowed_and_a_fix(client: TestClient):
    spec = {**CNN, "dataset": {"name": "asl"}, "model": {"layers": [
        {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]}}  # fmt: skip
    response = client.post("/v1/jobs/validate", json=spec)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "model.layers[1].units"
    assert (error["found"], error["allowed"]) == (10, [24])
    assert "asl has 24 classes" in error["message"]
    assert error["fix"] == 'set the last dense layer\'s "units" to 24'


def test_an_unknown_data_set_lists_the_known_ones(client: TestClient):
    response = client.post("/v1/jobs", json={**CNN, "dataset": {"name": "cifar"}})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "dataset.name"
    assert error["allowed"] == ["mnist", "asl"]
    assert "POST /v1/datasets" in error["fix"]


def test_an_unknown_activation_lists_the_allowed_ones(client: TestClient):
    layers = [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "relu6"}]
    error = client.post("/v1/jobs", json={**CNN, "model": {"layers": layers}}).json()["errors"][0]
    assert error["field"] == "model.layers[1].activation"
    assert "'leaky_relu'" in error["allowed"] and error["found"] == "relu6"


def test_a_layer_without_a_type_lists_the_types(client: TestClient):
    layers = [{"units": 10, "activation": "softmax"}]
    error = client.post("/v1/jobs", json={**CNN, "model": {"layers": layers}}).json()["errors"][0]
    assert (error["field"], error["message"]) == (
        "model.layers[0].type",
        "is required: it says which kind of value this is",
    )
    assert "'global_avg_pool2d'" in error["allowed"]


def test_a_bad_schedule_argument_is_named_by_its_path(client: TestClient):
    rate = {"schedule": "cosine_decay", "initial_learning_rate": 0.1, "decay_steps": 0}
    spec = {**CNN, "optimizer": {"name": "sgd", "learning_rate": rate}}
    error = client.post("/v1/jobs", json=spec).json()["errors"][0]
    assert error["field"] == "optimizer.learning_rate.decay_steps"
    assert error["found"] == 0


def test_docs_describe_the_spec_fields(client: TestClient):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    job = schemas["JobSpec-Input"]["properties"]
    for field in ("task", "loss", "metrics", "epochs", "batch_size", "seed", "shuffle"):
        assert job[field].get("description"), field
    dense = schemas["DenseLayer-Input"]["properties"]
    assert "neurons" in dense["units"]["description"]
    assert "leaky_relu" in dense["negative_slope"]["description"]
    assert "leaky_relu" in schemas["Activation"]["enum"]
    assert dense["activation"]["$ref"].endswith("/Activation")
    assert schemas["SGD-Input"]["properties"]["momentum"]["description"]
    assert (
        "steps"
        in schemas["ExponentialDecay-Input"]["properties"]["decay_steps"]["description"].lower()
    )
    assert "label_encoding" not in job  # derived from the loss, never asked
    summary = schemas["LayerSummary"]["properties"]
    assert "Weights w" in summary["weights"]["description"]


def test_a_batch_item_that_cannot_train_refuses_the_batch_naming_the_item(client: TestClient):
    good = {**CNN, "dataset": {"name": "mnist", "limit": 100}}
    bad = {**good, "dataset": {"name": "asl", "limit": 100}, "model": {"layers": [
        {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]}}  # fmt: skip
    response = client.post("/v1/batches", json={"specs": [good, bad]})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["item"], error["field"], error["allowed"]) == (1, "model.layers[1].units", [24])
    assert client.get("/v1/jobs").json()["total"] == 0


def test_batch_jobs_keep_their_resolved_spec_summary_and_warnings(client: TestClient):
    spec = {**CNN, "optimizer": {"name": "sgd", "learning_rate": 2}}
    batch = client.post("/v1/batches", json={"specs": [spec], "seeds": [1, 2]}).json()
    job = client.get(f"/v1/jobs/{batch['jobs'][0]['id']}").json()
    assert job["summary"]["total_params"] == 225_034
    assert [w["field"] for w in job["warnings"]] == ["optimizer.learning_rate"]
    assert job["spec"]["loss"] == "categorical_crossentropy"
