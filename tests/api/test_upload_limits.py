"""Hostile or careless uploads get a 422 that says where the problem is, never a 500: CR-only
line endings are read, a giant cell or a non-finite number is named by line, a data set
with no feature column is refused, and a job cannot train on one that slipped in before."""

from fastapi.testclient import TestClient

from models import UserDataset
from models.db import session_scope
from services import dataset_uploads
from tests.serving.test_image_memory import peak_rss, reset_peak


def upload_csv(client: TestClient, text: str | bytes, task: str = "regression", **form: str):
    return client.post(
        "/v1/datasets",
        data={"name": "table", "task": task, **form},
        files={"file": ("table.csv", text, "text/csv")},
    )


def test_a_csv_with_cr_only_line_endings_is_read(client: TestClient):
    response = upload_csv(client, "rooms,area,price\r3,70,210.5\r4,95,280\r2,40,150\r")
    assert response.status_code == 201, response.text
    assert (response.json()["input_shape"], response.json()["train_size"]) == ([2], 3)
    assert response.json()["feature_names"] == ["rooms", "area"]


def test_classes_from_a_csv_are_ordered_as_numbers_or_as_text(client: TestClient):
    numbers = upload_csv(client, "a,label\n1,10\n2,2\n3,2.0\n4,10\n", task="classification")
    assert numbers.status_code == 201, numbers.text
    assert numbers.json()["class_names"] == ["2", "10"]
    text = upload_csv(client, "a,label\n1,pear\n2,apple\n", task="classification", name="f")
    assert text.json()["class_names"] == ["apple", "pear"]


def test_a_cell_over_the_csv_field_limit_is_a_422_naming_the_line(client: TestClient):
    response = upload_csv(client, "a,b\n1,2\n3," + "9" * 200_000 + "\n")
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "file"
    assert "line 3" in error["message"] and "131,072 characters" in error["message"]


def test_non_finite_numbers_in_uploads_are_refused_naming_where(client: TestClient):
    for cell in ("nan", "inf", "-Infinity", "1e400"):
        response = upload_csv(client, f"a,b,y\n1,2,3\n4,{cell},6\n")
        assert response.status_code == 422, (cell, response.text)
        message = response.json()["errors"][0]["message"]
        assert "line 3: column 'b'" in message and "finite" in message, message
    beyond = upload_csv(client, "a,y\n1,2\n1e39,3\n")  # finite, but not as float32
    assert beyond.status_code == 422 and "float32" in beyond.json()["detail"]
    target = upload_csv(client, "a,y\n1,2\n3,nan\n")
    assert target.status_code == 422
    assert target.json()["errors"][0]["field"] == "target"
    body = {"name": "j", "task": "regression", "x": [[1.0], [1e39]], "y": [1, 2]}
    response = client.post("/v1/datasets", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["found"] == "x[1][0]"
    huge = client.post("/v1/datasets", content=b'{"name": "h", "x": [[1], [%s]], "y": [1, 2]}'
                       % (b"9" * 400), headers={"content-type": "application/json"})  # fmt: skip
    assert huge.status_code == 422, huge.text  # no float holds it: not a 500


def test_a_data_set_without_features_is_refused_at_upload(client: TestClient):
    body = {"name": "empty", "task": "regression", "x": [[], []], "y": [1, 2]}
    response = client.post("/v1/datasets", json=body)
    assert response.status_code == 422, response.text
    assert "at least one feature column" in response.json()["errors"][0]["message"]
    response = upload_csv(client, "label\n1\n2\n")
    assert response.status_code == 422, response.text
    assert "at least one feature column" in response.json()["errors"][0]["message"]


def test_a_job_on_a_featureless_data_set_stored_earlier_is_refused(client: TestClient):
    body = {"name": "old", "task": "regression", "x": [[1], [2]], "y": [1, 2]}
    assert client.post("/v1/datasets", json=body).status_code == 201
    url = client.app.state.settings.resolved_database_url
    with session_scope(url) as session:  # as an upload before the check would have left it
        session.query(UserDataset).filter_by(name="old").update({"input_shape": [0]})
    spec = {"dataset": {"name": "old"}, "loss": "mse", "model": {"preset": "dense"}}
    for path in ("/v1/jobs/validate", "/v1/jobs"):
        response = client.post(path, json=spec)
        assert response.status_code == 422, response.text
        error = next(e for e in response.json()["errors"] if e["field"] == "dataset.name")
        assert "at least one feature column" in error["message"]


def test_a_csv_that_is_not_utf8_or_not_csv_is_a_422(client: TestClient):
    assert upload_csv(client, b"a,y\n1,2\n\xff\xfe,3\n").status_code == 422
    response = upload_csv(client, "a,y\n1,2\n3,\x00\n")
    assert response.status_code == 422, response.text


def test_a_large_csv_is_parsed_in_a_small_multiple_of_its_size(tmp_path):
    row = "{:.4f},{:.4f},{:.2f},{}\n"
    rows = "".join(row.format(i % 97 / 7, i % 13 * 1.5, i % 89, i % 2) for i in range(4000))
    path = tmp_path / "large.csv"
    with path.open("w") as out:
        out.write("a,b,c,label\n")
        for _ in range(40):
            out.write(rows)
    size = path.stat().st_size  # about 4 MB
    with path.open("rb") as file:
        reset_peak()
        before = peak_rss()
        upload = dataset_uploads.from_csv("large", "classification", file, None)
        grew = peak_rss() - before
    assert upload.x.shape == (160_000, 3) and upload.class_names == ["0", "1"]
    assert grew < 3 * size, f"peak RSS grew {grew / 1e6:.1f} MB for a {size / 1e6:.1f} MB CSV"


def test_a_wide_header_over_a_million_blank_lines_is_refused_without_a_huge_array(
    client: TestClient,
):
    header = ",".join(f"c{i}" for i in range(1000)) + "\n"
    response = upload_csv(client, header + "\n" * 1_000_000)
    assert response.status_code == 422, response.text
    assert "at least one data row" in response.json()["detail"]
