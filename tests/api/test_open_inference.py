"""The Open Inference Protocol v2 in-process, on a registered model with a small real ONNX file:
JSON and binary tensors in every datatype give the predict route's probabilities, names and
aliases answer with the version that answered, and every bad request is a 4xx whose
``{"error": ...}`` says what is wrong (tests/integration/test_open_inference.py drives the real
``tritonclient`` against the real service)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from api.limits import BodySizeLimit
from core.settings import Settings
from tests.api.conftest import make_key
from tests.api.test_predict import IMAGES, register_model, small_limits  # noqa: F401

HEADER = "Inference-Header-Content-Length"
UNIT = (IMAGES / np.float32(255)).astype(np.float32)  # the model's raw input


def tensor(array: np.ndarray, datatype: str, name: str = "x", **extra) -> dict:
    return {"name": name, "shape": list(array.shape), "datatype": datatype, **extra}


def json_request(array: np.ndarray, datatype: str, **extra) -> dict:
    return {"inputs": [tensor(array, datatype, data=array.tolist())], **extra}


def binary_request(array: np.ndarray, datatype: str, **extra) -> tuple[bytes, dict]:
    """A body with the tensor as raw bytes after the JSON, and the header that says where."""
    header = orjson.dumps(
        {
            "inputs": [tensor(array, datatype, parameters={"binary_data_size": array.nbytes})],
            **extra,
        }
    )
    return header + array.tobytes(), {HEADER: str(len(header))}


def outputs_of(response) -> np.ndarray:
    """The answer's one output, read from JSON data or from the binary data after the JSON."""
    assert response.status_code == 200, response.text
    length = response.headers.get(HEADER)
    header = orjson.loads(response.content[: int(length)] if length else response.content)
    [output] = header["outputs"]
    assert output["name"] == "y" and output["datatype"] == "FP32"
    if length is None:
        return np.array(output["data"], dtype=np.float32).reshape(output["shape"])
    raw = response.content[int(length) :]
    assert output["parameters"]["binary_data_size"] == len(raw)
    return np.frombuffer(raw, dtype="<f4").reshape(output["shape"])


@pytest.fixture
def model(client: TestClient, tmp_path: Path) -> tuple[str, np.ndarray]:
    """A model id, and the predict route's probabilities for IMAGES."""
    model_id = register_model(client, tmp_path)
    answer = client.post(f"/v1/models/{model_id}/predict", json={"instances": IMAGES.tolist()})
    return model_id, np.array([p["probabilities"] for p in answer.json()["predictions"]])


def test_every_datatype_shape_and_encoding_gives_the_predict_routes_answers(
    client: TestClient, model: tuple[str, np.ndarray]
):
    model_id, expected = model
    infer = f"/v2/models/{model_id}/infer"
    pixels = {
        "UINT8": IMAGES,
        "UINT16": IMAGES.astype(np.uint16),
        "INT32": IMAGES.astype(np.int32),
        "INT64 28×28×1": IMAGES.astype(np.int64)[..., None],
        "UINT8 flat": IMAGES.reshape(3, 784),
    }
    raw = {"FP32": UNIT, "FP32 1×28×28": UNIT[:, None], "FP64": UNIT.astype(np.float64)}
    for label, array in {**pixels, **raw}.items():
        datatype = label.split()[0]
        as_json = client.post(infer, json=json_request(array, datatype))
        np.testing.assert_allclose(outputs_of(as_json), expected, atol=1e-6, err_msg=label)
        body, headers = binary_request(array, datatype, parameters={"binary_data_output": True})
        as_binary = client.post(infer, content=body, headers=headers)
        assert as_binary.headers["content-type"] == "application/octet-stream"
        np.testing.assert_allclose(outputs_of(as_binary), expected, atol=1e-6, err_msg=label)
    # Binary in, JSON out (the output asks for JSON), and a gzip body.
    body, headers = binary_request(UNIT, "FP32", outputs=[{"name": "y"}])
    np.testing.assert_allclose(
        outputs_of(client.post(infer, content=body, headers=headers)), expected, atol=1e-6
    )
    zipped = client.post(
        infer, content=gzip.compress(body), headers={**headers, "Content-Encoding": "gzip"}
    )
    np.testing.assert_allclose(outputs_of(zipped), expected, atol=1e-6)


def test_the_answer_names_the_model_version_and_request_and_classifies(
    client: TestClient, model: tuple[str, np.ndarray]
):
    model_id, expected = model
    body = json_request(IMAGES, "UINT8", id="req-1")
    body["outputs"] = [{"name": "y", "parameters": {"classification": 2}}]
    answer = client.post(f"/v2/models/{model_id}/versions/1/infer", json=body).json()
    assert answer["model_name"] == model_id and answer["model_version"] == "1"
    assert answer["id"] == "req-1"
    [output] = answer["outputs"]
    assert output["datatype"] == "BYTES" and output["shape"] == [3, 2]
    best = expected.argmax(axis=1)
    assert [item.split(":")[1:] for item in output["data"][::2]] == [[str(i), str(i)] for i in best]
    assert float(output["data"][0].split(":")[0]) == pytest.approx(expected[0, best[0]], abs=1e-6)
    # A version is a path segment; a query parameter is refused rather than ignored.
    query = client.post(f"/v2/models/{model_id}/infer?version=2", json=body)
    assert query.status_code == 422 and "unknown query parameter" in query.json()["error"]


def test_names_aliases_and_versions_answer_with_the_version_that_answered(
    client: TestClient, tmp_path: Path
):
    (tmp_path / "2").mkdir()
    first, second = register_model(client, tmp_path), register_model(client, tmp_path / "2")
    for model_id in (first, second):
        assert client.post("/v1/registry/digits/versions", json={"model_id": model_id}).is_success
    client.put("/v1/registry/digits/aliases/production", json={"version": 1})
    body = json_request(IMAGES[:1], "UINT8")
    for path, version in (
        ("digits", "2"),  # the latest
        ("digits@production", "1"),
        ("digits/versions/1", "1"),
        ("digits%40production/versions/2", None),  # no such thing: a 404
    ):
        answer = client.post(f"/v2/models/{path}/infer", json=body)
        if version is None:
            assert answer.status_code == 404, answer.text
            continue
        assert answer.json()["model_version"] == version, path
        metadata = client.get(f"/v2/models/{path}").json()
        assert metadata["versions"] == [version]
        assert metadata["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 28, 28, 1]}]
    client.put("/v1/registry/digits/aliases/production", json={"version": 2})
    moved = client.post("/v2/models/digits%40production/infer", json=body)
    assert moved.json()["model_version"] == "2"


def test_health_metadata_and_readiness(client: TestClient, model: tuple[str, np.ndarray]):
    model_id, _ = model
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").json() == {"ready": True}
    server = client.get("/v2").json()
    assert server["name"] == "descent" and "binary_tensor_data" in server["extensions"]
    assert client.get(f"/v2/models/{model_id}/ready").status_code == 200
    assert client.get(f"/v2/models/{model_id}/versions/1/ready").status_code == 200
    for path in (f"{model_id}/versions/2", "nothing-here", "Not-A-Name"):
        response = client.get(f"/v2/models/{path}/ready")
        assert response.status_code == 404 and "error" in response.json(), path
    assert "/v2/" not in str(client.get("/openapi.json").json()["paths"])


def bad_requests(model_id: str) -> dict[str, tuple[dict, int, str]]:
    """Each bad request: (what ``client.post`` takes, the status, words the error holds)."""
    binary, headers = binary_request(UNIT, "FP32")
    pixels = json_request(IMAGES, "UINT8")
    return {
        "not JSON": ({"content": b"{nope"}, 422, "cannot be read"),
        "binary without its header": ({"content": binary}, 422, HEADER),
        "header past the body": (
            {"content": binary, "headers": {HEADER: "999999"}},
            422,
            "Inference-Header-Content-Length is '999999'",
        ),
        "header length not a number": (
            {"content": binary, "headers": {HEADER: b"\xb2"}},  # "²" passes str.isdigit()
            422,
            "Inference-Header-Content-Length is",
        ),
        "binary size wrong": (
            {"content": binary[:-4], "headers": headers},
            422,
            "binary_data_size is 9408",
        ),
        "no inputs": ({"json": {"inputs": []}}, 422, 'no "inputs"'),
        "not an object": ({"json": [1, 2]}, 422, "JSON object"),
        "wrong input name": (
            {"json": {"inputs": [{**pixels["inputs"][0], "name": "input_1"}]}},
            422,
            "this model takes one input, 'x'",
        ),
        "two inputs": ({"json": {"inputs": pixels["inputs"] * 2}}, 422, "one input"),
        "BYTES": ({"json": json_request(IMAGES, "BYTES")}, 422, "datatype 'BYTES'"),
        "no batch axis": (
            {"json": json_request(IMAGES[0], "UINT8")},
            422,
            "put 1 in front",
        ),
        "27 rows": ({"json": json_request(IMAGES[:, :27], "UINT8")}, 422, "shape is [3, 27, 28]"),
        "shape not a list": (
            {"json": {"inputs": [{**pixels["inputs"][0], "shape": "3x28x28"}]}},
            422,
            "shape is '3x28x28'",
        ),
        "no instances": (
            {"json": {"inputs": [tensor(IMAGES[:0], "UINT8", data=[])]}},
            422,
            "no instances",
        ),
        "data of the wrong size": (
            {"json": {"inputs": [tensor(IMAGES, "UINT8", data=[1, 2, 3])]}},
            422,
            "holds 3 numbers",
        ),
        "no data": ({"json": {"inputs": [tensor(IMAGES, "UINT8")]}}, 422, "neither data"),
        "ragged data": (
            {"json": {"inputs": [tensor(IMAGES, "UINT8", data=[[1, 2], [3]])]}},
            422,
            "ragged",
        ),
        "UINT8 of 300": (
            {"json": {"inputs": [tensor(IMAGES, "UINT8", data=[300] * IMAGES.size)]}},
            422,
            "whole numbers from 0 to 255",
        ),
        "INT32 pixels of -5": (
            {"json": json_request(IMAGES.astype(np.int32) - 5, "INT32")},
            422,
            "read as 0-255 pixels",
        ),
        "NaN": (
            {
                "content": binary_request(np.full_like(UNIT, np.nan), "FP32")[0],
                "headers": headers,
            },
            422,
            "not finite as float32",
        ),
        "FP64 beyond float32": (
            {"json": json_request(np.full_like(UNIT, 1e300, dtype=np.float64), "FP64")},
            422,
            "not finite as float32",
        ),
        "an output beyond float32": (
            {"json": json_request(np.full_like(UNIT, -3e38), "FP32")},
            422,
            "output is not finite",
        ),
        "unknown output": (
            {"json": {**pixels, "outputs": [{"name": "probabilities"}]}},
            422,
            "one output, 'y'",
        ),
        "classification of 11": (
            {"json": {**pixels, "outputs": [{"name": "y", "parameters": {"classification": 11}}]}},
            422,
            "1 to 10",
        ),
        "brotli": ({"content": binary, "headers": {"Content-Encoding": "br"}}, 415, "'br'"),
        "not gzip": (
            {"content": binary, "headers": {"Content-Encoding": "gzip"}},
            422,
            "cannot be decompressed",
        ),
    }


def test_every_bad_request_is_a_4xx_that_says_what_is_wrong(
    client: TestClient, model: tuple[str, np.ndarray]
):
    model_id, _ = model
    for label, (kwargs, status, words) in bad_requests(model_id).items():
        response = client.post(f"/v2/models/{model_id}/infer", **kwargs)
        assert response.status_code == status, (label, response.text)
        assert words in response.json()["error"], (label, response.json())


def test_limits_apply_as_on_the_predict_route(small_limits: tuple[TestClient, str]):  # noqa: F811
    """At most 5 instances and 4 KiB per request (tests/api/test_predict.py's small_limits)."""
    client, model_id = small_limits
    infer = f"/v2/models/{model_id}/infer"
    six = np.zeros((6, 28, 28), np.uint8)  # counted from the shape, before the data is read
    too_many = client.post(infer, json={"inputs": [tensor(six, "UINT8", data=[0])]})
    assert too_many.status_code == 413 and "at most 5" in too_many.json()["error"]
    body, headers = binary_request(UNIT[:2], "FP32")  # 6 KiB
    too_big = client.post(infer, content=body, headers=headers)
    assert too_big.status_code == 413 and "DESCENT_MAX_REQUEST_BYTES" in too_big.json()["error"]
    bomb = gzip.compress(b" " * 100_000)
    zipped = client.post(infer, content=bomb, headers={"Content-Encoding": "gzip"})
    assert zipped.status_code == 413 and "decompresses to over" in zipped.json()["error"]
    # The prediction routes of every protocol get the prediction cap; others the small one.
    caps = BodySizeLimit(None, Settings())
    for path in (infer, "/v2/models/m/versions/2/infer", "/v1/models/m:predict"):
        assert caps.cap(path).setting == "DESCENT_MAX_REQUEST_BYTES", path
    assert caps.cap("/v2/models/m").setting == "DESCENT_MAX_BODY_BYTES"


def test_keys_and_owners_apply(secured: TestClient, tmp_path: Path):
    alice, bob = make_key("alice"), make_key("bob")
    secured.headers.update(alice)
    model_id = register_model(secured, tmp_path)
    body = json_request(IMAGES[:1], "UINT8")
    assert secured.post(f"/v2/models/{model_id}/infer", json=body).status_code == 200
    anonymous = secured.post(
        f"/v2/models/{model_id}/infer", json=body, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401 and "API key" in anonymous.json()["error"]
    theirs = secured.post(f"/v2/models/{model_id}/infer", json=body, headers=bob)
    assert theirs.status_code == 404 and "no model" in theirs.json()["error"]
    # An orchestrator's probes send no key; they still learn whether the server is up.
    for probe in ("/v2/health/live", "/v2/health/ready"):
        assert secured.get(probe, headers={"Authorization": ""}).status_code == 200, probe
    assert secured.get("/v2", headers={"Authorization": ""}).status_code == 401
