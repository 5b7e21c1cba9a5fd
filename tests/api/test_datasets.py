"""Uploading data sets (JSON rows or a CSV file), reading them back, and specs that name them."""

from fastapi.testclient import TestClient

LINE = {"name": "line", "task": "regression", "x": [[1], [2]], "y": [3, 5]}
LINEAR = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}


def test_the_two_points_of_y_equals_mx_plus_b_upload_as_json(client: TestClient):
    response = client.post("/v1/datasets", json=LINE)
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert response.headers["location"] == f"/v1/datasets/{dataset['id']}"
    assert (dataset["task"], dataset["input_shape"], dataset["train_size"]) == (
        "regression",
        [1],
        2,
    )
    assert (dataset["target_size"], dataset["builtin"], dataset["test_size"]) == (1, False, 0)
    assert client.get("/v1/datasets/line").json() == dataset
    assert client.get(f"/v1/datasets/{dataset['id']}").json() == dataset
    names = [d["name"] for d in client.get("/v1/datasets").json()["items"]]
    assert names == ["mnist", "asl", "line"]


def test_a_job_names_an_uploaded_data_set_by_name_or_id(client: TestClient):
    dataset = client.post("/v1/datasets", json=LINE).json()
    for name in ("line", dataset["id"]):
        spec = {
            "dataset": {"name": name},
            "model": LINEAR,
            "loss": "mse",
            "optimizer": {"name": "sgd"},
        }
        checked = client.post("/v1/jobs/validate", json=spec)
        assert checked.status_code == 200, checked.text
        summary = checked.json()["summary"]
        assert (summary["task"], summary["total_params"]) == ("regression", 2)
        assert checked.json()["spec"]["dataset"]["validation"] == "none"


def test_a_spec_that_does_not_fit_an_uploaded_data_set_is_refused(client: TestClient):
    client.post("/v1/datasets", json=LINE)
    spec = {"dataset": {"name": "line"}, "model": {"preset": "cnn"}}
    error = client.post("/v1/jobs", json=spec).json()["errors"][0]
    assert error["field"] == "model.layers[0]"
    assert "needs an image" in error["message"]
    spec = {"dataset": {"name": "line"}, "model": LINEAR, "loss": "categorical_crossentropy"}
    error = client.post("/v1/jobs", json=spec).json()["errors"][0]
    assert (error["field"], error["found"]) == ("loss", "categorical_crossentropy")


def test_classification_labels_become_classes_in_order(client: TestClient):
    body = {"name": "fruit", "task": "classification", "x": [[1, 0], [0, 1], [1, 1]],
            "y": ["pear", "apple", "pear"]}  # fmt: skip
    dataset = client.post("/v1/datasets", json=body).json()
    assert (dataset["class_names"], dataset["num_classes"]) == (["apple", "pear"], 2)
    spec = {
        "dataset": {"name": "fruit"},
        "model": {"layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
        "loss": "binary_crossentropy",
    }
    checked = client.post("/v1/jobs/validate", json=spec).json()
    assert checked["summary"]["class_names"] == ["apple", "pear"]
    assert checked["spec"]["dataset"]["positive_classes"] == ["pear"]


def test_a_csv_upload_reads_the_header_and_the_target_column(client: TestClient):
    csv = "rooms,area,price\n3,70,210.5\n4,95,280\n2,40,150\n"
    response = client.post(
        "/v1/datasets",
        data={"name": "houses", "task": "regression", "target": "price"},
        files={"file": ("houses.csv", csv, "text/csv")},
    )
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["feature_names"] == ["rooms", "area"]
    assert (dataset["input_shape"], dataset["train_size"]) == ([2], 3)


def test_a_csv_with_text_in_a_feature_column_is_refused(client: TestClient):
    csv = "colour,size,label\nred,3,a\nblue,4,b\n"
    response = client.post(
        "/v1/datasets",
        data={"name": "shapes", "task": "classification"},
        files={"file": ("shapes.csv", csv, "text/csv")},
    )
    assert response.status_code == 422
    assert "column 'colour' holds 'red'" in response.json()["detail"]


def test_upload_refusals_say_what_is_wrong(client: TestClient):
    cases = [
        ({**LINE, "x": [1, 2]}, "x", "wrap each row"),
        ({**LINE, "x": [[1], [2, 3]]}, "x", "same count"),
        ({**LINE, "y": [3]}, "y", "one label per row"),
        ({**LINE, "y": ["a", "b"]}, "y", "regression"),
        ({**LINE, "task": "classification", "y": [1, 1]}, "y", "single class"),
        ({**LINE, "name": "mnist"}, "name", "built-in"),
        ({**LINE, "name": "a b"}, "name", "letters, digits"),
    ]
    for body, field, phrase in cases:
        response = client.post("/v1/datasets", json=body)
        assert response.status_code == 422, body
        error = response.json()["errors"][0]
        assert error["field"] == field, body
        assert phrase in error["message"] + error.get("fix", ""), (body, error)


def test_a_second_data_set_with_the_same_name_is_a_conflict(client: TestClient):
    assert client.post("/v1/datasets", json=LINE).status_code == 201
    response = client.post("/v1/datasets", json=LINE)
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_a_retried_upload_with_its_idempotency_key_gets_the_first_answer(client: TestClient):
    csv = "x,y\n1,3\n2,5\n"
    form = {"name": "line", "task": "regression", "target": "y"}
    key = {"Idempotency-Key": "upload-line-1"}
    first = client.post("/v1/datasets", data=form, files={"file": ("l.csv", csv)}, headers=key)
    assert first.status_code == 201, first.text
    # The retry carries the same rows in another multipart body (a new boundary).
    again = client.post("/v1/datasets", data=form, files={"file": ("b.csv", csv)}, headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    other = client.post("/v1/datasets", json={**LINE, "y": [3, 6]}, headers=key)
    assert other.status_code == 422, other.text
    assert len(client.get("/v1/datasets").json()["items"]) == 3


def test_an_upload_above_the_size_cap_is_refused(client: TestClient):
    client.app.state.settings.max_upload_bytes = 100
    response = client.post("/v1/datasets", json={**LINE, "x": [[i] for i in range(50)]})
    assert response.status_code == 413
    assert "DESCENT_MAX_UPLOAD_BYTES" in response.json()["fix"]


def test_an_unknown_data_set_is_a_404(client: TestClient):
    response = client.get("/v1/datasets/nope")
    assert response.status_code == 404
    assert "POST /v1/datasets" in response.json()["fix"]
