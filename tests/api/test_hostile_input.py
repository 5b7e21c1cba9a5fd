"""What an attacker or a careless client sends gets a 4xx that says what to fix: never a 500,
never a dropped keep-alive connection, never a secret repeated, never a hint that another
owner's thing exists, and never work out of proportion to the request.

One real uvicorn server (auth required) for the whole module, and one HTTP/1.1 connection to
it that every request reuses: an answer that closed it fails the test that got it.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from models.db import session_scope
from services import jobs, trained_models
from services.artifacts import get_store
from tests.api.conftest import MNIST_SPEC, make_key
from tests.conftest import prepare_home
from tests.serving.onnx_models import classifier

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

JSON = {"Content-Type": "application/json"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Connection:
    """One keep-alive HTTP/1.1 connection; each answer must be a non-5xx that keeps it open."""

    def __init__(self, port: int, key: dict[str, str]) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.key = key
        self.socket: socket.socket | None = None

    def send(
        self,
        method: str,
        path: str,
        body: bytes | str | Any = None,
        headers: dict[str, str] | None = None,
        key: dict[str, str] | None = None,
    ) -> Answer:
        if body is not None and not isinstance(body, bytes | str):
            body, headers = json.dumps(body), {**JSON, **(headers or {})}
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")  # a lone surrogate as a client sends it
        self.http.request(method, path, body=body, headers={**(key or self.key), **(headers or {})})
        response = self.http.getresponse()
        answer = Answer(response.status, dict(response.getheaders()), response.read().decode())
        assert answer.status < 500, (method, path, answer.status, answer.text[:500])
        assert not response.will_close, f"{method} {path} closed the connection"
        if self.socket is None:
            self.socket = self.http.sock
        assert self.http.sock is self.socket, "the connection was dropped and opened again"
        return answer


@dataclass
class Served:
    port: int
    alice: dict[str, str]
    bob: dict[str, str]
    connection: Connection
    home: Path


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DESCENT_AUTH", "required")
        prepare_home(home, patch, request)
        with TestClient(create_app(Settings())) as client:  # runs the app's lifespan
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            config = uvicorn.Config(
                client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 10
            while not server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.02)
            alice, bob = make_key("alice"), make_key("bob")
            try:
                yield Served(port, alice, bob, Connection(port, alice), home)
            finally:
                server.should_exit = True
                thread.join(10)


def problem(answer: Answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == code, body
    assert body["detail"] and body["fix"], body
    return body


def register(served: Served, onnx_file: Path, task: str = "classification") -> str:
    """A succeeded job of alice's whose model is ``onnx_file`` (no worker, no TensorFlow)."""
    job_id = served.connection.send("POST", "/v1/jobs", MNIST_SPEC).json()["id"]
    store = get_store(Settings())
    keras_file = onnx_file.with_suffix(".keras")
    keras_file.write_bytes(b"PK\x03\x04 stand-in for a .keras archive")
    folder = trained_models.files_folder(job_id, attempt=1)
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
        trained_models.register(
            session, job_id, dataset="mnist", task=task,
            class_names=[str(d) for d in range(10)] if task == "classification" else [],
            input_shape=[28, 28, 1], scaling="none" if task == "regression" else "divide_by_255",
            keras_key=store.put_file(f"{folder}/model.keras", keras_file),
            onnx_key=store.put_file(f"{folder}/model.onnx", onnx_file),
            metrics={}, export_check={"max_abs_diff": 0.0, "samples": 64},
        )  # fmt: skip
        jobs.succeed(session, job_id, {})
    return job_id


def overflowing_regression(path: Path) -> Path:
    """A one-output regression whose answer to an image of ones is 784 × 1e38: float32's inf."""
    nodes = [
        helper.make_node("Reshape", ["x", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "overflow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 28, 28, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        [
            numpy_helper.from_array(np.array([-1, 784], dtype=np.int64), "flat_shape"),
            numpy_helper.from_array(np.full((784, 1), 1e38, dtype=np.float32), "w"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


# Wrong content types --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/jobs/validate", "/v1/batches"])
def test_a_json_body_sent_as_a_form_is_a_415_saying_to_send_json(served: Served, path: str):
    # What `curl -d '{...}' URL` sends: the JSON, labelled as a form.
    answer = served.connection.send(
        "POST", path, json.dumps(MNIST_SPEC), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    body = problem(answer, 415, "unsupported_media_type")
    assert "application/x-www-form-urlencoded" in body["detail"]
    assert "Content-Type: application/json" in body["fix"]


def test_a_body_python_cannot_read_as_json_is_a_422_saying_why(served: Served):
    answer = served.connection.send("POST", "/v1/jobs", b'{"name": "\xff\xfe"}', JSON)
    body = problem(answer, 422, "request_invalid")
    assert "UTF-8" in body["detail"]
    answer = served.connection.send("POST", "/v1/jobs", '{"epochs": ' + "9" * 5_000 + "}", JSON)
    assert "4,300 digits" in problem(answer, 422, "request_invalid")["detail"]


def test_a_bare_number_or_string_as_the_body_is_a_422(served: Served):
    for text in ("NaN", "-Infinity", "1e400", '"\\ud800"', "7"):
        for path in ("/v1/jobs", "/v1/batches"):
            problem(served.connection.send("POST", path, text, JSON), 422, "spec_invalid")


# Non-finite numbers ---------------------------------------------------------------------------

DENSE = {"type": "dense", "units": 10, "activation": "softmax"}
NON_FINITE = [
    ("model.layers[1].kernel_initializer.value", "NaN", "NaN"),
    ("model.layers[1].kernel_regularizer.l2", "Infinity", "Infinity"),
    ("optimizer.epsilon", "-Infinity", "-Infinity"),
    ("optimizer.clipnorm", "1e400", "Infinity"),
    ("optimizer.learning_rate", "NaN", "NaN"),
    ("optimizer.learning_rate.decay_rate", "Infinity", "Infinity"),
    ("early_stopping.min_delta", "NaN", "NaN"),
    ("reduce_on_plateau.min_lr", "Infinity", "Infinity"),
]


def spec_with(field: str, token: str) -> str:
    """MNIST_SPEC with ``field`` set to the bare JSON token ``token`` (NaN, Infinity, ...)."""
    spec: dict[str, Any] = {**MNIST_SPEC, "model": {"layers": [{"type": "flatten"}, {**DENSE}]}}
    parts = re.findall(r"[a-z_][a-z0-9_]*|\d+", field)
    if parts[:2] == ["optimizer", "learning_rate"] and len(parts) == 3:
        spec["optimizer"] = {
            "name": "sgd",
            "learning_rate": {"schedule": "exponential_decay", "initial_learning_rate": 0.1,
                              "decay_steps": 10, "decay_rate": "HOLE"},
        }  # fmt: skip
    else:
        node: Any = spec
        if parts[0] == "optimizer":
            spec["optimizer"] = {"name": "adam"}
        if parts[-2] == "kernel_initializer":
            spec["model"]["layers"][1]["kernel_initializer"] = {"name": "constant"}
        for part in parts[:-1]:
            part = int(part) if part.isdigit() else part
            node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
        node[parts[-1]] = "HOLE"
    return json.dumps(spec).replace('"HOLE"', token)


@pytest.mark.parametrize(("field", "token", "shown"), NON_FINITE)
def test_a_non_finite_number_in_a_spec_is_a_422_naming_its_field(
    served: Served, field: str, token: str, shown: str
):
    for path in ("/v1/jobs/validate", "/v1/jobs"):
        body = problem(served.connection.send("POST", path, spec_with(field, token), JSON), 422,
                       "spec_invalid")  # fmt: skip
        assert [(e["field"], e["found"]) for e in body["errors"]] == [(field, shown)], body
        assert "finite" in body["errors"][0]["message"]


def test_a_lone_surrogate_is_refused_and_echoed_escaped(served: Served):
    spec = json.dumps({**MNIST_SPEC, "name": "\ud800", "extra": "\udfff"})  # as \\ud800 text
    body = problem(served.connection.send("POST", "/v1/jobs", spec, JSON), 422, "spec_invalid")
    assert {e["field"] for e in body["errors"]} == {"name", "extra"}


def test_a_nul_in_a_job_name_is_refused_alike_by_validate_and_submit(served: Served):
    spec = {**MNIST_SPEC, "name": "a\x00b"}
    answers = [served.connection.send("POST", p, spec) for p in ("/v1/jobs/validate", "/v1/jobs")]
    first, second = (problem(answer, 422, "spec_invalid") for answer in answers)
    assert first["errors"] == second["errors"]
    assert first["errors"][0]["field"] == "name" and "NUL" in first["errors"][0]["message"]


# Nesting and amplification --------------------------------------------------------------------


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_a_body_nested_past_the_limit_is_a_422_naming_where(served: Served):
    for levels in (65, 3_000, 100_000):
        text = '{"name": "x", "dataset": ' + deep(levels) + "}"
        body = problem(served.connection.send("POST", "/v1/jobs", text, JSON), 422,
                       "request_invalid")  # fmt: skip
        assert "more than 64 levels" in body["detail"], body
    text = json.dumps({"base": MNIST_SPEC, "vary": {"epochs": [1]}}).replace(
        '"limit": 100', '"limit": ' + deep(500)
    )
    body = problem(served.connection.send("POST", "/v1/batches", text, JSON), 422,
                   "request_invalid")  # fmt: skip
    assert body["errors"][0]["field"].startswith("base.dataset.limit[0][0]")


def test_a_vary_path_thousands_of_levels_deep_is_refused_by_its_length(served: Served):
    sweep = {"base": MNIST_SPEC, "vary": {".".join(["model"] * 3_000): [1]}}
    body = problem(served.connection.send("POST", "/v1/batches", sweep), 422, "spec_invalid")
    assert "longer than 200 characters" in body["detail"]
    assert len(body["detail"]) < 600


def test_a_small_batch_that_would_expand_to_gigabytes_is_refused_cheaply(served: Served):
    # Under 1 MiB: a base with 300,000 empty lists, 50 seeds. Expanded before validation,
    # this was 50 deep copies (12 s of CPU, +1 GB); now the base is refused on its own.
    base = {**MNIST_SPEC, "junk": [[] for _ in range(300_000)]}
    text = json.dumps({"base": base, "vary": {"epochs": [1]}, "seeds": list(range(50))},
                      separators=(",", ":"))  # fmt: skip
    assert len(text) < 1_048_576
    started = time.process_time()
    body = problem(served.connection.send("POST", "/v1/batches", text, JSON), 422,
                   "spec_invalid")  # fmt: skip
    assert time.process_time() - started < 3  # ~0.4 s
    assert [e["field"] for e in body["errors"]] == ["base.junk"]
    assert len(json.dumps(body)) < 2_000  # what was sent is cut, not repeated


def test_a_listed_spec_with_a_huge_list_is_refused_at_its_length(served: Served):
    spec = {**MNIST_SPEC, "model": {"layers": [[] for _ in range(100_000)]}}
    body = problem(served.connection.send("POST", "/v1/batches", {"specs": [spec],
                   "seeds": list(range(50))}), 422, "spec_invalid")  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["model.layers"]
    assert "at most 1024" in body["errors"][0]["message"]


# Secrets and owners ---------------------------------------------------------------------------


def test_a_401_for_a_header_without_a_scheme_does_not_echo_the_key(served: Served):
    secret = "dsk_" + uuid.uuid4().hex
    for header in (secret, f"Basic {secret}", f"{secret} extra"):
        answer = served.connection.send("GET", "/v1/jobs", key={"Authorization": header})
        problem(answer, 401, "unauthorized")
        assert secret not in answer.text


def same_but_id(first: Answer, second: Answer, first_id: str, second_id: str) -> None:
    assert (first.status, second.status) == (404, 404)
    assert first.text.replace(first_id, "ID") == second.text.replace(second_id, "ID")


def test_another_owners_things_get_the_404_of_things_that_do_not_exist(
    served: Served, tmp_path: Path
):
    model_id = register(served, classifier(tmp_path / "m.onnx"))
    predict = {"instances": [[[0] * 28] * 28]}
    # alice's model is loaded (in the prediction cache) before bob asks for it.
    assert served.connection.send("POST", f"/v1/models/{model_id}/predict", predict).status == 200
    missing = uuid.uuid4().hex
    for path, body in (
        ("/v1/models/{}/predict", predict),
        ("/v1/models/{}", None),
        ("/v1/jobs/{}", None),
    ):
        method = "POST" if body is not None else "GET"
        theirs = served.connection.send(method, path.format(model_id), body, key=served.bob)
        nothing = served.connection.send(method, path.format(missing), body, key=served.bob)
        same_but_id(theirs, nothing, model_id, missing)
    batch = served.connection.send("POST", "/v1/batches", {"specs": [MNIST_SPEC]}).json()["id"]
    theirs = served.connection.send("GET", f"/v1/batches/{batch}", key=served.bob)
    nothing = served.connection.send("GET", f"/v1/batches/{missing}", key=served.bob)
    same_but_id(theirs, nothing, batch, missing)


# Data set names and answers -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["points\n", "MNIST", "Asl"])
def test_a_dataset_name_with_a_newline_or_a_built_ins_in_other_case_is_refused(
    served: Served, name: str
):
    rows = {"name": name, "task": "regression", "x": [[1], [2]], "y": [3, 5]}
    body = problem(served.connection.send("POST", "/v1/datasets", rows), 422, "dataset_invalid")
    assert body["errors"][0]["field"] == "name"


def test_a_regression_answer_beyond_float32_is_a_422_not_a_null(served: Served, tmp_path: Path):
    model_id = register(served, overflowing_regression(tmp_path / "r.onnx"), task="regression")
    predict = f"/v1/models/{model_id}/predict"
    ones, zeros = [[[1.0]] * 28] * 28, [[[0.0]] * 28] * 28
    body = problem(served.connection.send("POST", predict, {"instances": [ones]}), 422,
                   "input_invalid")  # fmt: skip
    assert "not a finite number" in body["detail"]
    sent = json.dumps({"instances": [zeros]}).replace("0.0", "1e300", 1)
    body = problem(served.connection.send("POST", predict, sent, JSON), 422, "input_invalid")
    assert "not finite as float32" in body["detail"]
    answer = served.connection.send("POST", predict, {"instances": [zeros]})
    assert answer.status == 200 and answer.json()["predictions"][0]["value"] == 0.0
