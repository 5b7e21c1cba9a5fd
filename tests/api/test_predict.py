"""Prediction over HTTP in-process, on a registered model with a small real ONNX file: every
input form answers alike, and every kind of bad input is a 4xx that says what is wrong."""

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from core.settings import PROJECT_ROOT, Settings
from models.db import session_scope
from services import jobs, trained_models
from services.artifacts import get_store
from serving.images import image_to_pixels
from tests.api.conftest import MNIST_SPEC
from tests.serving.onnx_models import classifier
from tests.serving.pictures import bomb_png, drawn_on_paper

with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    IMAGES = data["x_test"][:3]  # white digits on black: image files are taken as they are


def register_model(
    client: TestClient | httpx.Client,
    tmp_path: Path,
    settings: Settings | None = None,
    *,
    onnx_file: Path | None = None,
    task: str = "classification",
    val_accuracy: float = 0.5,
    headers: dict | None = None,
) -> str:
    """A succeeded job whose model is a small ONNX file (no worker, no TensorFlow), on the API
    ``client`` talks to, whose settings are ``settings`` (default: this process's): by default
    a classifier; else ``onnx_file``, a model of ``task``."""
    job_id = client.post("/v1/jobs", json=MNIST_SPEC, headers=headers).json()["id"]
    settings = settings or Settings()
    store = get_store(settings)
    tmp_path.mkdir(parents=True, exist_ok=True)
    keras_file = tmp_path / "model.keras"
    keras_file.write_bytes(b"PK\x03\x04 stand-in for a .keras archive")
    onnx_file = onnx_file or classifier(tmp_path / "m.onnx")
    stored = trained_models.files_folder(job_id, attempt=1)  # where a first attempt puts them
    classes = {"classification": [str(d) for d in range(10)], "binary": ["odd", "even"]}
    with session_scope(settings.resolved_database_url) as session:
        assert jobs.claim(session, job_id)
        trained_models.register(
            session,
            job_id,
            dataset="mnist",
            task=task,
            class_names=classes.get(task, []),
            input_shape=[28, 28, 1],
            scaling="divide_by_255",
            keras_key=store.put_file(f"{stored}/model.keras", keras_file),
            onnx_key=store.put_file(f"{stored}/model.onnx", onnx_file),
            metrics={"val_accuracy": val_accuracy},
            export_check={"max_abs_diff": 0.0, "samples": 64},
        )
        jobs.succeed(session, job_id, {"val_accuracy": 0.5})
    return job_id


def registered_keys(model_id: str) -> tuple[str, str]:
    """Where the model's registered .keras and .onnx files are in the artifact store."""
    with session_scope(Settings().resolved_database_url) as session:
        model = trained_models.get(session, model_id)
        return model.keras_key, model.onnx_key


@pytest.fixture
def model_id(client: TestClient, tmp_path: Path) -> str:
    return register_model(client, tmp_path)


@pytest.fixture
def small_limits(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """The API with at most 5 instances, 4 KiB and 5,000 image pixels per request."""
    monkeypatch.setenv("DESCENT_MAX_INSTANCES_PER_REQUEST", "5")
    monkeypatch.setenv("DESCENT_MAX_REQUEST_BYTES", "4096")
    monkeypatch.setenv("DESCENT_MAX_REQUEST_PIXELS", "5000")
    with TestClient(create_app(Settings())) as client:
        yield client, register_model(client, tmp_path)


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


NPY = {"content-type": "application/x-npy"}


def post(client: TestClient, model_id: str, query: str = "", **kwargs):
    return client.post(f"/v1/models/{model_id}/predict{query}", **kwargs)


def test_every_input_form_gives_the_same_answers(client: TestClient, model_id: str):
    b64 = [{"b64": base64.b64encode(png(image)).decode()} for image in IMAGES]
    files = [("file", (f"{i}.png", png(image), "image/png")) for i, image in enumerate(IMAGES)]
    forms = {
        "nested": {"json": {"instances": IMAGES.tolist()}},
        "flat": {"json": {"instances": IMAGES.reshape(3, -1).tolist()}},
        "unit": {"json": {"instances": (IMAGES / 255).tolist(), "scale": "unit"}},
        "b64": {"json": {"instances": b64}},
        "files": {"files": files},
        "npy": {"content": npy(IMAGES), "headers": {"content-type": "application/x-npy"}},
    }
    answers = {}
    for name, kwargs in forms.items():
        response = post(client, model_id, **kwargs)
        assert response.status_code == 200, (name, response.text)
        answers[name] = response.json()["predictions"]
    reference = answers.pop("nested")
    assert [p["label"] for p in reference] == [str(p["class_index"]) for p in reference]
    for name, predictions in answers.items():
        indices = [p["class_index"] for p in predictions]
        assert indices == [p["class_index"] for p in reference], name
        for got, want in zip(predictions, reference, strict=True):
            np.testing.assert_allclose(got["probabilities"], want["probabilities"], atol=1e-6)


UNIT = IMAGES / 255.0
SCALES = {  # the same digits, as users hold them, and the scale each must be read on
    "0-255 ints": ({"json": {"instances": IMAGES.tolist()}}, "pixels"),
    "0-255 floats": ({"json": {"instances": IMAGES.astype(float).tolist()}}, "pixels"),
    "0-1 floats": ({"json": {"instances": UNIT.tolist()}}, "unit"),
    "0-1 floats, 28×28×1": ({"json": {"instances": UNIT[..., None].tolist()}}, "unit"),
    "0-1 floats, flat": ({"json": {"instances": UNIT.reshape(3, 784).tolist()}}, "unit"),
    "0-1 floats, unit asked": ({"json": {"instances": UNIT.tolist(), "scale": "unit"}}, "unit"),
    "0-1 npy, N×1×28×28": (
        {"content": npy(UNIT[:, None].astype(np.float32)), "headers": NPY},
        "unit",
    ),
    "0-255 npy, N×28×28×1": ({"content": npy(IMAGES[..., None]), "headers": NPY}, "pixels"),
    "files": (
        {"files": [("f", (f"{i}.png", png(d), "image/png")) for i, d in enumerate(IMAGES)]},
        "pixels",
    ),
}


def test_every_scale_and_shape_of_the_same_digits_gives_the_same_answers(client, model_id):
    reference = post(client, model_id, json={"instances": IMAGES.tolist()}).json()["predictions"]
    for name, (kwargs, scale) in SCALES.items():
        response = post(client, model_id, **kwargs)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["scale"] == scale, name
        predictions = response.json()["predictions"]
        assert [p["class_index"] for p in predictions] == [p["class_index"] for p in reference], (
            name
        )
        for got, want in zip(predictions, reference, strict=True):
            np.testing.assert_allclose(got["probabilities"], want["probabilities"], atol=1e-6)


BINARY = (IMAGES > 127).astype(int)
MIXED = [IMAGES[0].tolist(), UNIT[1].tolist()]
UNGUESSED = [  # body, query, what the detail says, what the fix says
    ({"instances": BINARY.tolist()}, "", "every value is 0 or 1", '"scale": "unit"'),
    ({"instances": ((UNIT - 0.1307) / 0.3081).tolist()}, "", "values range", "do not standardise"),
    ({"instances": MIXED}, "", "instances 1 hold values from 0 to 1", '"scale": "unit"'),
    ({"instances": IMAGES[0].tolist()}, "", "without the list of instances", "[instance]"),
    ({"instances": IMAGES.tolist(), "scale": "unit"}, "", "look like 0-255", 'leave out "scale"'),
    ({"instances": UNIT.tolist(), "scale": "unit"}, "?scale=pixels", "in the query", "once"),
]


@pytest.mark.parametrize(("body", "query", "detail", "fix"), UNGUESSED)
def test_values_on_no_clear_scale_are_a_422_that_says_which_to_send(
    client, model_id, body, query, detail, fix
):
    response = post(client, model_id, query, json=body)
    assert_problem(response, 422, detail)
    problem = response.json()
    assert fix in problem.get("fix", "") + problem["detail"], problem


def test_binary_values_are_answered_on_the_scale_asked(client: TestClient, model_id: str):
    body = {"instances": BINARY.tolist()}
    unit = post(client, model_id, json={**body, "scale": "unit"}).json()
    pixels = post(client, model_id, "?scale=pixels", json=body).json()
    assert (unit["scale"], pixels["scale"]) == ("unit", "pixels")
    assert unit["predictions"] != pixels["predictions"]
    headers = NPY
    response = post(client, model_id, content=npy(BINARY.astype(np.uint8)), headers=headers)
    assert_problem(response, 422, "every value is 0 or 1")
    assert response.json()["errors"][0]["field"] == "scale"
    response = post(client, model_id, "?scale=unit", content=npy(BINARY), headers=headers)
    assert response.json()["scale"] == "unit"


def test_image_files_are_not_read_as_0_1_values(client: TestClient, model_id: str):
    files = [("file", ("0.png", png(IMAGES[0]), "image/png"))]
    assert_problem(post(client, model_id, "?scale=unit", files=files), 422, "0-255 pixels")
    assert post(client, model_id, "?scale=pixels", files=files).json()["scale"] == "pixels"


def test_top_k_can_be_asked_in_the_body_or_the_query(client: TestClient, model_id: str):
    in_body = post(client, model_id, json={"instances": IMAGES.tolist(), "top_k": 3}).json()
    in_query = post(client, model_id, "?top_k=3", json={"instances": IMAGES.tolist()}).json()
    assert in_body == in_query
    first = in_body["predictions"][0]
    assert len(first["top_k"]) == 3 and first["top_k"][0]["label"] == first["label"]
    assert "probabilities" not in first


def test_include_input_shows_what_the_model_was_given(client: TestClient, model_id: str):
    """A photo of a digit drawn on paper comes back as the server converted it (inverted and
    framed like MNIST), and asking with those pixels gives the same answer; rows come back as
    sent, and without the option no answer holds its input."""
    paper = io.BytesIO()
    Image.fromarray(drawn_on_paper(IMAGES[0])).save(paper, format="PNG")
    upload = {"files": [("file", ("paper.png", paper.getvalue(), "image/png"))]}
    [answer] = post(client, model_id, "?include_input=true", **upload).json()["predictions"]
    converted = image_to_pixels(paper.getvalue(), (28, 28, 1), "dark", 10**8)
    assert answer["input"] == converted.tolist()
    [again] = post(client, model_id, json={"instances": [answer["input"]]}).json()["predictions"]
    np.testing.assert_allclose(again["probabilities"], answer["probabilities"], atol=1e-6)

    rows = post(client, model_id, "?include_input=true", json={"instances": IMAGES.tolist()})
    assert [p["input"] for p in rows.json()["predictions"]] == IMAGES.tolist()
    plain = post(client, model_id, **upload).json()["predictions"][0]
    assert "input" not in plain


def test_models_are_listed_with_their_job_dataset_task_and_metrics(
    client: TestClient, model_id: str
):
    [listed] = client.get("/v1/models").json()["items"]
    assert listed["id"] == model_id
    assert listed["job"] == {"id": model_id, "name": MNIST_SPEC["name"]}
    assert (listed["dataset"], listed["task"]) == ("mnist", "classification")
    assert listed["metrics"] == {"val_accuracy": 0.5}


def test_both_model_files_can_be_downloaded(client: TestClient, model_id: str):
    for file_format in ("keras", "onnx"):
        response = client.get(f"/v1/models/{model_id}/download?format={file_format}")
        assert response.status_code == 200
        assert f'filename="{model_id}.{file_format}"' in response.headers["content-disposition"]
    assert client.get(f"/v1/models/{model_id}/download?format=h5").status_code == 422


def assert_problem(response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for fragment in fragments:
        assert fragment in response.json()["detail"], response.json()


BAD_JSON = [
    ({"instances": []}, "instances is empty"),
    ({"instances": [[0] * 783]}, "shape [783] each"),
    ({"instances": [[0] * 784, [0] * 10]}, "ragged"),
    ({"instances": [[300] * 784]}, "values range from 300 to 300"),
    ({"instances": [[-1] * 784]}, "send pixel values from 0 to 255"),
    ({"instances": [[2.0] * 784], "scale": "unit"}, "send values from 0 to 1"),
    ({"instances": [["x"] * 784]}, "not numbers"),
    ({"instances": [{"b64": "!!"}]}, "not valid base64"),
    ({"instances": [{"b64": base64.b64encode(b"plain text").decode()}]}, "not a PNG, JPEG"),
    ({"instances": [{"b64": base64.b64encode(bomb_png(10**5, 10**5)).decode()}]}, "too large"),
    ({"instances": [[0] * 784], "top_k": 11}, "top_k must be 1 to 10"),
    ({"instances": [[0] * 784], "top_k": 0}, "top_k"),
    ({"instances": [[0] * 784], "scale": "percent"}, "scale"),
    ({"instances": [[0] * 784], "signature": "x"}, "signature"),
    ({"inputs": [[0] * 784]}, "instances"),
    ({"instances": "pixels"}, "instances"),
]


@pytest.mark.parametrize(("body", "fragment"), BAD_JSON)
def test_bad_json_instances_are_a_422_that_says_why(client, model_id, body, fragment):
    assert_problem(post(client, model_id, json=body), 422, fragment)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b'{"instances": [[NaN]]}', ("not valid JSON", "NaN and Infinity are not JSON numbers")),
        (b'{"instances": [[0, 0', ("not valid JSON",)),
        (b"", ("not valid JSON",)),
    ],
)
def test_a_body_that_is_not_json_is_a_422(client, model_id, content, fragments):
    response = post(client, model_id, content=content, headers={"content-type": "application/json"})
    assert_problem(response, 422, *fragments)


def test_out_of_range_and_non_finite_npy_arrays_are_a_422(client: TestClient, model_id: str):
    headers = {"content-type": "application/x-npy"}
    for array, fragment in (
        (np.full((1, 28, 28), np.nan), "NaN or infinite"),
        (np.full((1, 28, 28), 1e6), "0 to 255"),
        (np.zeros((1, 10)), "shape [10] each"),
    ):
        assert_problem(post(client, model_id, content=npy(array), headers=headers), 422, fragment)
    assert_problem(post(client, model_id, content=b"x" * 50, headers=headers), 422, "not an .npy")


def test_bad_uploads_are_a_422_that_names_the_file(client: TestClient, model_id: str):
    def upload(*files: bytes, data: dict | None = None):
        parts = [("file", (f"f{i}", content, "image/png")) for i, content in enumerate(files)]
        return post(client, model_id, files=parts, data=data)

    assert_problem(upload(png(IMAGES[0]), b"\x00" * 100), 422, "file 2 of 2", "not a PNG")
    assert_problem(upload(bomb_png(10**5, 10**5)), 422, "file 1 of 1", "too large")
    assert_problem(upload(png(IMAGES[0]), data={"top_k": "2"}), 422, "text field", "?top_k=3")
    empty = post(
        client,
        model_id,
        content=b"--x--\r\n",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert_problem(empty, 422, "no image files")


def test_an_unsupported_media_type_is_a_415(client: TestClient, model_id: str):
    response = post(client, model_id, content=b"1,2,3", headers={"content-type": "text/csv"})
    assert_problem(response, 415, "text/csv", "application/json")


def test_more_instances_than_allowed_is_a_413_that_says_the_limit(small_limits):
    client, model_id = small_limits
    assert_problem(post(client, model_id, json={"instances": [[0]] * 6}), 413, "6 instances", "5")
    headers = {"content-type": "application/x-npy"}
    response = post(client, model_id, content=npy(np.zeros((6, 1), np.uint8)), headers=headers)
    assert_problem(response, 413, "6 instances")
    files = [("file", (f"{i}.png", png(np.zeros((1, 1), np.uint8)), "image/png")) for i in range(6)]
    assert_problem(post(client, model_id, files=files), 413, "at most 5")


def test_a_body_over_the_byte_limit_is_a_413_declared_or_streamed(small_limits):
    client, model_id = small_limits
    body = b'{"instances": [' + b"0," * 3000 + b"0]}"
    response = post(client, model_id, content=body, headers={"content-type": "application/json"})
    assert_problem(response, 413, "at most 4,096 bytes")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is counted as it arrives
        yield body[:3000]
        yield body[3000:]

    response = post(
        client, model_id, content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "over", "at most 4,096 bytes")


def test_images_that_add_up_to_too_many_pixels_are_a_413(small_limits):
    client, model_id = small_limits
    square = png(np.zeros((50, 50), np.uint8))  # 2,500 pixels each: two fit, three do not
    two = [("file", (f"{i}.png", square, "image/png")) for i in range(2)]
    assert post(client, model_id, files=two).status_code == 200
    response = post(client, model_id, files=[*two, ("file", ("3.png", square, "image/png"))])
    assert_problem(response, 413, "more than 5,000 pixels in all")


def test_a_model_whose_files_are_gone_is_a_410(client: TestClient, model_id: str):
    image = {"instances": [[0] * 784]}
    assert post(client, model_id, json=image).status_code == 200  # loaded and cached
    for key in registered_keys(model_id):
        get_store(Settings()).local_path(key).unlink()
    assert_problem(post(client, model_id, json=image), 410, "ONNX file is missing")
    response = client.get(f"/v1/models/{model_id}/download?format=keras")
    assert_problem(response, 410, ".keras file is missing")


def test_a_model_whose_file_is_unreadable_is_a_410(client: TestClient, model_id: str):
    onnx_key = registered_keys(model_id)[1]
    get_store(Settings()).local_path(onnx_key).write_bytes(b"garbage")
    response = post(client, model_id, json={"instances": [[0] * 784]})
    assert_problem(response, 410, "cannot be loaded")
