"""TF Serving's REST API as its clients call it: plain HTTP with the documented bodies, against
registered models with small real ONNX files, answered from the same ONNX Runtime sessions as
Descent's own predict route; every error is ``{"error": ...}``."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from core.settings import PROJECT_ROOT, Settings
from models.db import session_scope
from services import registry
from tests.api.conftest import make_key
from tests.api.test_predict import register_model
from tests.conftest import prepare_home
from tests.serving.onnx_models import binary, classifier, regression

with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    PIXELS = data["x_test"][:20]  # uint8 28×28 digits; as JSON, over 64 KiB: a worker thread
RAW = (PIXELS / 255).astype(np.float32)  # the model's raw input: scaled as training scales


@dataclass(frozen=True)
class Model:
    id: str
    onnx: Path

    def expected(self, raw: np.ndarray) -> np.ndarray:
        """onnxruntime's own answer on the same file."""
        session = ort.InferenceSession(str(self.onnx), providers=["CPUExecutionProvider"])
        return session.run(None, {"x": raw.reshape(-1, 28, 28, 1).astype(np.float32)})[0]


@dataclass(frozen=True)
class Served:
    client: TestClient
    classifier: Model
    regression: Model
    binary: Model
    retrained: Model  # version 2 of "digits"; "production" points at version 1


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """One API on a fresh database for the whole module, with a classifier, a regression model
    and a one-unit binary model, the classifier registered as "digits" version 1 (and
    "production") and another classifier as version 2."""
    home = tmp_path_factory.mktemp("tf-serving")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DESCENT_MAX_INSTANCES_PER_REQUEST", "20")
        prepare_home(home, patch, request)
        with TestClient(create_app(Settings())) as client:
            models = {
                "classifier": register(client, home / "c", "classification", classifier),
                "regression": register(client, home / "r", "regression", regression),
                "binary": register(client, home / "b", "binary", binary),
                "retrained": register(client, home / "v2", "classification", retrained),
            }
            with session_scope(Settings().resolved_database_url) as session:
                registry.register(session, "digits", models["classifier"].id, None)
                registry.register(session, "digits", models["retrained"].id, None)
                registry.set_alias(session, "digits", "production", 1, None)
            yield Served(client, **models)


def retrained(path: Path) -> Path:
    return classifier(path, seed=1)


def register(client: TestClient, folder: Path, task: str, build) -> Model:
    """A succeeded job whose model is ``build``'s small ONNX file (no worker, no TensorFlow)."""
    folder.mkdir(parents=True)
    onnx_file = build(folder / "model.onnx")
    return Model(register_model(client, folder, onnx_file=onnx_file, task=task), onnx_file)


def close(answer: list, expected: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(answer, dtype=np.float32), expected, rtol=0, atol=1e-6)


# Predict -----------------------------------------------------------------------------------


def test_row_and_columnar_bodies_answer_the_onnx_models_own_output(served: Served):
    model = served.classifier
    expected = model.expected(RAW)
    bodies = {
        "rows 28×28×1": {"instances": RAW.reshape(-1, 28, 28, 1).tolist()},
        "rows 28×28": {"instances": RAW.tolist(), "signature_name": "serving_default"},
        "rows flat": {"instances": RAW.reshape(-1, 784).tolist()},
        "named rows": {"instances": [{"x": row} for row in RAW.tolist()]},
        "columns": {"inputs": RAW.reshape(-1, 28, 28, 1).tolist()},
        "named columns": {"inputs": {"x": RAW.reshape(-1, 784).tolist()}},
    }
    for form, body in bodies.items():
        response = served.client.post(f"/v1/models/{model.id}:predict", json=body)
        assert response.status_code == 200, (form, response.text)
        key = "outputs" if "inputs" in body else "predictions"
        assert list(response.json()) == [key], form
        close(response.json()[key], expected)


def test_pixels_and_image_files_are_scaled_as_training_scaled_them(served: Served):
    model = served.classifier
    expected = model.expected(RAW[:2])
    b64 = [{"b64": base64.b64encode(png(image)).decode()} for image in PIXELS[:2]]
    for body in (
        {"instances": PIXELS[:2].tolist(), "scale": "pixels"},
        {"instances": b64},
        {"instances": [{"x": image} for image in b64]},
    ):
        response = served.client.post(f"/v1/models/{model.id}:predict", json=body)
        assert response.status_code == 200, response.text
        close(response.json()["predictions"], expected)


def test_a_binary_models_raw_output_is_its_one_unit(served: Served):
    model = served.binary
    response = served.client.post(
        f"/v1/models/{model.id}:predict", json={"instances": RAW[:3].tolist()}
    )
    assert response.status_code == 200, response.text
    assert np.asarray(response.json()["predictions"]).shape == (3, 1)
    close(response.json()["predictions"], model.expected(RAW[:3]))


def test_a_plain_http_client_on_a_real_server_predicts_as_curl_would(served: Served):
    """Through uvicorn, with the body ``curl -d`` sends: form-encoded Content-Type and all."""
    model = served.classifier
    body = json.dumps({"instances": RAW[:2].tolist()}).encode()
    with real_server(served.client.app) as base:
        found = urllib.request.urlopen(
            urllib.request.Request(f"{base}/v1/models/{model.id}:predict", data=body), timeout=10
        )
        close(json.loads(found.read())["predictions"], model.expected(RAW[:2]))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(
                urllib.request.Request(f"{base}/v1/models/nothing-here:predict", data=body),
                timeout=10,
            )
        assert refused.value.code == 404
        assert "nothing-here" in json.loads(refused.value.read())["error"]


# Status and metadata -----------------------------------------------------------------------


def test_metadata_describes_the_onnx_input_and_output(served: Served):
    model = served.classifier
    for path in (f"/v1/models/{model.id}/metadata", f"/v1/models/{model.id}/versions/1/metadata"):
        response = served.client.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model_spec"] == {"name": model.id, "signature_name": "", "version": "1"}
        signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
        assert signature["method_name"] == "tensorflow/serving/predict"
        assert signature["inputs"] == {"x": tensor("x", [-1, 28, 28, 1])}
        assert signature["outputs"] == {"y": tensor("y", [-1, 10])}


def tensor(name: str, dims: list[int]) -> dict:
    return {
        "dtype": "DT_FLOAT",
        "tensor_shape": {"dim": [{"size": str(n)} for n in dims], "unknown_rank": False},
        "name": name,
    }


def test_a_model_version_status_is_available(served: Served):
    response = served.client.get(f"/v1/models/{served.classifier.id}/versions/1")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


# Classify and regress ----------------------------------------------------------------------


def test_classify_answers_each_class_with_its_score(served: Served):
    model = served.classifier
    examples = [{"x": row} for row in RAW[:3].reshape(3, -1).tolist()]
    response = served.client.post(f"/v1/models/{model.id}:classify", json={"examples": examples})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [[label for label, _ in result] for result in results] == [
        [str(d) for d in range(10)]
    ] * 3
    close([[score for _, score in result] for result in results], model.expected(RAW[:3]))


def test_classify_gives_a_binary_model_both_classes(served: Served):
    model = served.binary
    examples = [{"x": row} for row in RAW[:2].reshape(2, -1).tolist()]
    response = served.client.post(f"/v1/models/{model.id}:classify", json={"examples": examples})
    assert response.status_code == 200, response.text
    positive = model.expected(RAW[:2])[:, 0]
    for result, p in zip(response.json()["results"], positive, strict=True):
        assert [label for label, _ in result] == ["odd", "even"]
        close([score for _, score in result], np.array([1 - p, p]))


def test_regress_answers_one_value_per_example(served: Served):
    model = served.regression
    examples = [{"x": row} for row in RAW[:3].reshape(3, -1).tolist()]
    response = served.client.post(f"/v1/models/{model.id}:regress", json={"examples": examples})
    assert response.status_code == 200, response.text
    close(response.json()["results"], model.expected(RAW[:3])[:, 0])


# By name, version and label ----------------------------------------------------------------


def test_a_name_its_versions_and_its_labels_serve_the_registered_models(served: Served):
    first, second = served.classifier, served.retrained
    body = {"instances": RAW[:2].tolist()}
    for path, model in (
        ("/v1/models/digits", second),  # the latest version
        ("/v1/models/digits/versions/1", first),
        ("/v1/models/digits/versions/2", second),
        ("/v1/models/digits/labels/production", first),
    ):
        response = served.client.post(f"{path}:predict", json=body)
        assert response.status_code == 200, (path, response.text)
        close(response.json()["predictions"], model.expected(RAW[:2]))
    status = served.client.get("/v1/models/digits/labels/production").json()
    assert status["model_version_status"][0]["version"] == "1"
    metadata = served.client.get("/v1/models/digits/metadata").json()
    assert metadata["model_spec"] == {"name": "digits", "signature_name": "", "version": "2"}


def test_another_owners_model_is_not_found_and_a_missing_key_is_refused(
    secured: TestClient, tmp_path: Path
):
    secured.headers.update(make_key("alice"))
    model_id = register_model(secured, tmp_path)
    body = {"instances": RAW[:1].tolist()}
    assert secured.post(f"/v1/models/{model_id}:predict", json=body).status_code == 200
    secured.headers.update(make_key("bob"))
    for response in (
        secured.post(f"/v1/models/{model_id}:predict", json=body),
        secured.get(f"/v1/models/{model_id}/metadata"),
    ):
        assert response.status_code == 404, response.text
        assert model_id in response.json()["error"]
    del secured.headers["Authorization"]
    response = secured.post(f"/v1/models/{model_id}:predict", json=body)
    assert response.status_code == 401
    assert "API key" in response.json()["error"]


# Errors ------------------------------------------------------------------------------------


def test_every_refusal_is_an_error_object_that_says_what_is_wrong(served: Served):
    model, regressor = served.classifier.id, served.regression.id
    predict, zeros = f"/v1/models/{model}:predict", [0.0] * 784
    gets = [
        ("/v1/models/no-such-model/metadata", 404, "no-such-model"),
        ("/v1/models/digits/labels/staging", 404, "staging"),
        ("/v1/models/digits/versions/9", 404, "version 9"),
        (f"/v1/models/{model}/versions/2", 404, "version 1"),
        (f"/v1/models/{model}/versions/one", 422, "whole number"),
        (f"/v1/models/{model}/versions/%C2%B2", 422, "whole number"),  # "²": a digit, no number
    ]
    posts = [
        ("/v1/models/no-such-model:predict", {"instances": [zeros]}, 404, "no-such-model"),
        (predict, {"instances": [[0.5] * 10]}, 422, "784"),
        (predict, {"inputs": RAW[0].tolist()}, 422, "batch axis"),
        (predict, {"instances": [zeros], "signature_name": "predict"}, 422, "serving_default"),
        (predict, [1, 2], 422, "JSON object"),
        (predict, {}, 422, "'instances'"),
        (predict, {"instances": [], "inputs": []}, 422, "exactly one"),
        (predict, {"instances": [{"image": zeros}]}, 422, "'x'"),
        (predict, {"instances": [[300.0] * 784], "scale": "pixels"}, 422, "255"),
        (predict, {"instances": [zeros], "scale": "unit"}, 422, "raw"),
        (predict, {"instances": [zeros] * 21}, 413, "at most 20"),
        (f"/v1/models/{model}:regress", {"examples": [{"x": zeros}]}, 422, ":classify"),
        (f"/v1/models/{regressor}:classify", {"examples": [{"x": zeros}]}, 422, ":regress"),
        (f"/v1/models/{model}:classify", {"examples": [{"y": zeros}]}, 422, "'x'"),
        (f"/v1/models/{model}:classify", {"instances": [zeros]}, 422, "examples"),
        (predict, b'{"instances": [[1.0, ', 422, "not valid JSON"),
        (predict, b'{"instances": [[NaN]]}', 422, "NaN"),
        (predict, b'{"instances": [[' + b",".join([b"1e39"] * 784) + b"]]}", 422, "float32"),
        (f"/v1/models/{model}/metadata", {}, 405, "POST"),
    ]
    answers = [(path, served.client.get(path), status, said) for path, status, said in gets]
    for path, body, status, said in posts:
        sent = {"content": body} if isinstance(body, bytes) else {"json": body}
        answers.append((path, served.client.post(path, **sent), status, said))
    for path, response, status, said in answers:
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/json", path
        error = response.json()["error"]
        assert isinstance(error, str) and said in error, (path, error)


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class _Server:
    base: str
    server: uvicorn.Server
    thread: threading.Thread

    def __enter__(self) -> str:
        return self.base

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def real_server(app) -> _Server:
    """``app`` under uvicorn in a thread, on a free loopback port, until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return _Server(f"http://127.0.0.1:{port}", server, thread)
