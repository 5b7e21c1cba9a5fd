"""The Open Inference Protocol v2 as a real client speaks it: NVIDIA's ``tritonclient``
(nobody here wrote it) against the real service, on an MNIST model trained in this test and
registered under a name with a ``production`` alias. Liveness, readiness and metadata read
right; 100 test digits sent as binary tensors and as JSON, as 0-255 pixels and as 0-1 floats,
by id, name, alias and version, get Descent's own predict route's probabilities and are read
right; and errors reach the client as its own exception with the server's message."""

from __future__ import annotations

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import Service
from tests.factories import job_spec

httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

pytestmark = pytest.mark.integration

NAME = "v2-digits"
COUNT = 100
with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    DIGITS, LABELS = data["x_test"][:COUNT], data["y_test"][:COUNT]


@pytest.fixture(scope="module")
def model_id(service: Service) -> str:
    """A small dense MNIST model trained here, registered as NAME version 1, aliased
    ``production``."""
    spec = job_spec(
        name="v2-mnist", limit=12000, validation="none", units=256, epochs=3, batch_size=64, seed=3
    )  # 99 of the 100 digits right, in a few seconds
    job = service.wait_for_job(service.client.post("/v1/jobs", json=spec).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    registered = service.client.post(f"/v1/registry/{NAME}/versions", json={"model_id": job["id"]})
    assert registered.status_code == 201, registered.text
    version = registered.json()["version"]
    aliased = service.client.put(
        f"/v1/registry/{NAME}/aliases/production", json={"version": version}
    )
    assert aliased.status_code == 200, aliased.text
    return job["id"]


@pytest.fixture(scope="module")
def triton(service: Service):
    client = httpclient.InferenceServerClient(url=service.url.removeprefix("http://"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def own_answers(service: Service, model_id: str) -> np.ndarray:
    """Descent's own predict route's probabilities for the digits."""
    response = service.client.post(
        f"/v1/models/{model_id}/predict", json={"instances": DIGITS.tolist()}
    )
    assert response.status_code == 200, response.text
    return np.array([p["probabilities"] for p in response.json()["predictions"]])


def test_the_server_and_the_model_are_live_ready_and_described(triton, model_id: str):
    assert triton.is_server_live()
    assert triton.is_server_ready()
    server = triton.get_server_metadata()
    assert server["name"] == "descent"
    assert "binary_tensor_data" in server["extensions"]
    for name, version in ((model_id, ""), (NAME, ""), (f"{NAME}@production", ""), (NAME, "1")):
        assert triton.is_model_ready(name, version), (name, version)
        metadata = triton.get_model_metadata(name, version)
        assert metadata["platform"] == "onnxruntime_onnx"
        assert metadata["versions"] == ["1"]
        [tensor] = metadata["inputs"]
        assert tensor["datatype"] == "FP32" and tensor["shape"] == [-1, 28, 28, 1]
        [output] = metadata["outputs"]
        assert output["datatype"] == "FP32" and output["shape"] == [-1, 10]
    assert not triton.is_model_ready("no-such-model")
    assert not triton.is_model_ready(NAME, "7")


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("name", [NAME, f"{NAME}@production"])
def test_100_digits_get_descents_own_answers_and_95_are_read_right(
    triton, own_answers: np.ndarray, name: str, binary: bool
):
    metadata = triton.get_model_metadata(name)
    input_name, output_name = metadata["inputs"][0]["name"], metadata["outputs"][0]["name"]
    # 0-255 pixels as UINT8 (scaled as training scaled them), and 0-1 floats as FP32 (the
    # model's raw input), each in the shape the client holds them.
    tensors = {
        "UINT8": DIGITS,
        "FP32": (DIGITS / np.float32(255)).astype(np.float32)[..., None],
    }
    for datatype, array in tensors.items():
        tensor = httpclient.InferInput(input_name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        wanted = httpclient.InferRequestedOutput(output_name, binary_data=binary)
        result = triton.infer(name, [tensor], outputs=[wanted], request_id="digits")
        assert result.get_response()["model_version"] == "1"
        assert result.get_response()["id"] == "digits"
        probabilities = result.as_numpy(output_name)
        assert probabilities.shape == (COUNT, 10), datatype
        np.testing.assert_allclose(probabilities, own_answers, atol=1e-5, err_msg=datatype)
        right = int((probabilities.argmax(axis=1) == LABELS).sum())
        assert right >= 95, f"{right} of {COUNT} digits read right ({datatype})"


def test_the_client_defaults_and_the_classification_extension(triton, own_answers: np.ndarray):
    """No outputs named: the client asks for every output in binary; class_count asks for
    the top classes with their labels."""
    tensor = httpclient.InferInput(
        triton.get_model_metadata(NAME)["inputs"][0]["name"], [COUNT, 28, 28], "UINT8"
    )
    tensor.set_data_from_numpy(DIGITS)
    result = triton.infer(NAME, [tensor], request_compression_algorithm="gzip")
    [output] = result.get_response()["outputs"]
    np.testing.assert_allclose(result.as_numpy(output["name"]), own_answers, atol=1e-5)

    top = httpclient.InferRequestedOutput(output["name"], class_count=2)
    classes = triton.infer(NAME, [tensor], outputs=[top]).as_numpy(output["name"])
    assert classes.shape == (COUNT, 2)
    best = [int(item.decode().split(":")[1]) for item in classes[:, 0]]
    assert best == own_answers.argmax(axis=1).tolist()
    assert classes[0, 0].decode().split(":")[2] == str(best[0])  # the label, MNIST's "7"


def test_errors_reach_the_client_with_the_servers_message(triton, model_id: str):
    tensor = httpclient.InferInput("whatever", [1, 28, 28], "UINT8")
    tensor.set_data_from_numpy(DIGITS[:1])
    with pytest.raises(InferenceServerException) as unknown:
        triton.infer("no-such-model", [tensor])
    assert unknown.value.status() == "404"
    assert "no model named 'no-such-model'" in unknown.value.message()

    input_name = triton.get_model_metadata(model_id)["inputs"][0]["name"]
    wrong_shape = httpclient.InferInput(input_name, [2, 27, 28], "UINT8")
    wrong_shape.set_data_from_numpy(np.zeros((2, 27, 28), np.uint8))
    with pytest.raises(InferenceServerException) as shape:
        triton.infer(model_id, [wrong_shape])
    assert shape.value.status() == "422"
    assert "shape is [2, 27, 28]" in shape.value.message()
    assert "[-1, 28, 28, 1]" in shape.value.message()

    with pytest.raises(InferenceServerException) as name:
        triton.infer(model_id, [tensor])
    assert f"this model takes one input, {input_name!r}" in name.value.message()
