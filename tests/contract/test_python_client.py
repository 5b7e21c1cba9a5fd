"""A Python client generated from the live ``/openapi.json`` with ``openapi-python-client``,
untouched, runs the whole user story and reads every error as the schema's ``Problem``.

Nobody here wrote the client: if the schema lies about a body, the generated ``from_dict``
raises or leaves ``parsed`` empty, and an undocumented status raises ``UnexpectedStatus``
(``raise_on_unexpected_status=True``). One job and one one-job batch are trained for the module
(tiny: one epoch on a few hundred rows); every test reads from them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import subprocess
import sys
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.settings import PROJECT_ROOT
from core.statuses import FINISHED
from tests.contract.conftest import (
    MAX_INSTANCES,
    Secured,
    error_statuses,
    live_schema,
    operations,
)
from tests.factories import job_spec

pytestmark = pytest.mark.integration

PACKAGE = "descent_contract_client"
# The generator's own settings, no edits to what it writes: a package name, no formatter run,
# and .npy bodies sent as the binary they are (it knows no application/x-npy).
CONFIG = f"""\
package_name_override: {PACKAGE}
post_hooks: []
content_type_overrides:
  application/x-npy: application/octet-stream
  image/png: application/octet-stream
"""
DIGITS = 6  # real MNIST test digits sent to predict
# Statuses no client request can bring about on a healthy service: documented so that a client
# reads them, exercised by the server's own tests (tests/api/test_errors.py).
UNREACHABLE = {500: "an unexpected server fault", 503: "the database or broker is down"}


# --- The generated package --------------------------------------------------------------------


@dataclass
class Generated:
    """The generated package, and lookups that follow its layout rather than hard-code it."""

    package: ModuleType

    def operation(self, operation_id: str) -> ModuleType:
        """``api/<tag>/<operation_id>.py``, whatever the tag."""
        folder = Path(self.package.__file__).parent / "api"
        found = sorted(folder.glob(f"*/{operation_id}.py"))
        assert found, f"the generated client has no operation {operation_id!r}"
        tag = found[0].parent.name
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")

    def call(self, operation_id: str, *args: Any, client: Any, **kwargs: Any) -> Any:
        """The operation's ``sync_detailed``: the generated ``Response`` (status, headers,
        ``parsed``)."""
        return self.operation(operation_id).sync_detailed(*args, client=client, **kwargs)

    @property
    def problem(self) -> type:
        return self.package.models.Problem

    def client(self, secured: Secured, *, key: bool = True) -> Any:
        options = {"base_url": secured.url, "raise_on_unexpected_status": True, "timeout": None}
        if not key:
            return self.package.Client(**options)
        return self.package.AuthenticatedClient(token=secured.key, **options)


def body_type(operation: ModuleType, kind: str) -> Any:
    """The generated class an operation takes as its body: ``json`` (a model with no
    ``to_multipart``), ``multipart`` (a model with it) or ``file`` (raw bytes)."""
    annotation = inspect.signature(operation.sync_detailed).parameters["body"].annotation
    for option in typing.get_args(annotation) or (annotation,):
        name = getattr(option, "__name__", "")
        if kind == "file" and name == "File":
            return option
        multipart = hasattr(option, "to_multipart")
        if kind != "file" and hasattr(option, "from_dict") and multipart == (kind == "multipart"):
            return option
    raise AssertionError(f"{operation.__name__} takes no {kind} body: {annotation}")


@pytest.fixture(scope="module")
def generated(secured: Secured, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("python-client")
    (folder / "openapi.json").write_bytes(secured.service.client.get("/openapi.json").content)
    (folder / "config.yaml").write_text(CONFIG)
    run = subprocess.run(
        [
            str(PROJECT_ROOT / ".venv" / "bin" / "openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
            "--fail-on-warning",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr  # --fail-on-warning: a schema piece it skipped fails too
    assert run.returncode == 0, f"generation failed or warned:\n{output[-6000:]}"
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        importlib.import_module(f"{PACKAGE}.models")
    finally:
        sys.path.remove(str(folder))
    return Generated(package)


# --- The story, once for the module -----------------------------------------------------------


@dataclass
class Story:
    generated: Generated
    secured: Secured
    client: Any  # the generated AuthenticatedClient
    submitted: Any  # submit_job's Response
    job: Any  # the job once finished, as get_job parsed it
    batch: Any  # submit_batch's parsed answer
    batch_job: Any  # the batch's one job, finished

    def call(self, operation_id: str, *args: Any, client: Any = None, **kwargs: Any) -> Any:
        return self.generated.call(operation_id, *args, client=client or self.client, **kwargs)


def wait(call: Callable[..., Any], job_id: str, timeout: float = 600) -> Any:
    """Poll ``get_job`` until the job has finished; the last answer, parsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = call("get_job", job_id)
        assert response.status_code == 200, response.content
        if str(response.parsed.status) in FINISHED:
            return response.parsed
        time.sleep(0.5)
    raise TimeoutError(f"job {job_id} did not finish in {timeout}s")


@pytest.fixture(scope="module")
def story(secured: Secured, generated: Generated) -> Story:
    """Submit a tiny job and a one-job batch with the generated client, and poll both to the
    end with it; the tests read what they answered."""
    client = generated.client(secured)
    call = functools.partial(generated.call, client=client)
    spec_type = body_type(generated.operation("submit_job"), "json")
    spec = job_spec(name="contract-story", limit=600, epochs=1, units=32, seed=1)
    spec["optimizer"] = "adam"  # the README's shorthands
    spec["dataset"]["validation"] = 0.1
    submitted = call("submit_job", body=spec_type.from_dict(spec))
    assert submitted.status_code == 202, submitted.content

    batch_type = body_type(generated.operation("submit_batch"), "json")
    tiny = job_spec(name="contract-batch", limit=100, epochs=1, units=8, validation=None, seed=1)
    batch = call("submit_batch", body=batch_type.from_dict({"specs": [tiny], "max_parallel": 1}))
    assert batch.status_code == 202, batch.content

    job = wait(call, submitted.parsed.id)
    jobs = call("list_batch_jobs", batch.parsed.id)
    assert jobs.status_code == 200, jobs.content
    assert len(jobs.parsed.items) == 1
    batch_job = wait(call, jobs.parsed.items[0].id)
    return Story(generated, secured, client, submitted, job, batch.parsed, batch_job)


def mnist_digits(count: int = DIGITS) -> np.ndarray:
    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        return data["x_test"][:count]


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def predict_json(story: Story, model_id: str, instances: list[Any]) -> Any:
    request = body_type(story.generated.operation("predict"), "json")
    return story.call("predict", model_id, body=request.from_dict({"instances": instances}))


def undeclared(value: Any, where: str = "") -> list[str]:
    """Fields the server sent that the schema does not declare: what the generated models keep
    in ``additional_properties``, anywhere in a parsed answer."""
    found = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += undeclared(item, f"{where}[{index}]")
    elif hasattr(value, "additional_properties") and hasattr(value, "to_dict"):
        declared = getattr(type(value), "__attrs_attrs__", ())
        open_map = [field.name for field in declared] == ["additional_properties"]
        if not open_map:  # a typed map (metrics, counts) holds its values there by design
            found += [f"{where}.{name}" for name in value.additional_properties]
        for field in declared:
            found += undeclared(getattr(value, field.name), f"{where}.{field.name}")
    return found


# --- The user story ---------------------------------------------------------------------------


def test_a_submitted_job_is_polled_to_success(story: Story):
    assert story.submitted.headers["location"] == f"/v1/jobs/{story.submitted.parsed.id}"
    assert story.job.status == "succeeded", story.job.error
    assert story.job.model_id == story.job.id
    assert undeclared(story.job) == []


def test_history_has_the_epoch_it_trained(story: Story):
    response = story.call("get_history", story.job.id)
    assert response.status_code == 200, response.content
    # epoch 0 is the untrained model, evaluated before the first step
    assert [epoch.epoch for epoch in response.parsed.epochs] == [0, 1]
    assert undeclared(response.parsed) == []


def test_predict_with_json_instances_answers_each_digit(story: Story):
    response = predict_json(story, story.job.model_id, mnist_digits().tolist())
    assert response.status_code == 200, response.content
    answer = response.parsed
    assert answer.scale == "pixels"
    assert len(answer.predictions) == DIGITS
    for prediction in answer.predictions:
        assert prediction.label in {str(digit) for digit in range(10)}
        assert sum(prediction.probabilities) == pytest.approx(1, abs=1e-4)
    assert undeclared(answer) == []


def test_predict_with_image_files_answers_as_the_same_pixels_in_json(story: Story):
    generated, digits = story.generated, mnist_digits()
    files = [
        generated.package.types.File(
            payload=io.BytesIO(png(pixels)), file_name=f"digit-{i}.png", mime_type="image/png"
        )
        for i, pixels in enumerate(digits)
    ]
    form_type = body_type(generated.operation("predict"), "multipart")
    (field,) = [f.name for f in form_type.__attrs_attrs__ if f.name != "additional_properties"]
    response = story.call("predict", story.job.model_id, body=form_type(**{field: files}))
    assert response.status_code == 200, response.content
    by_json = predict_json(story, story.job.model_id, digits.tolist()).parsed
    assert [p.label for p in response.parsed.predictions] == [p.label for p in by_json.predictions]
    for from_file, from_json in zip(response.parsed.predictions, by_json.predictions, strict=True):
        assert from_file.probabilities == pytest.approx(from_json.probabilities, abs=1e-5)


def test_the_trained_model_is_listed(story: Story):
    response = story.call("list_models")
    assert response.status_code == 200, response.content
    assert story.job.model_id in [model.id for model in response.parsed.items]
    assert response.parsed.total == 2  # the story's job and the batch's
    assert undeclared(response.parsed) == []


def test_the_batch_is_listed_and_its_job_succeeded(story: Story):
    response = story.call("list_batches")
    assert response.status_code == 200, response.content
    assert [batch.id for batch in response.parsed.items] == [story.batch.id]
    assert story.batch_job.status == "succeeded", story.batch_job.error
    assert undeclared(response.parsed) == []


# --- Every documented error, read as the generated Problem -------------------------------------


def bad_spec(story: Story) -> Any:
    spec_type = body_type(story.generated.operation("submit_job"), "json")
    return story.call("submit_job", body=spec_type.from_dict(job_spec(classes=3)))


def unknown_job(story: Story) -> Any:
    return story.call("get_job", "no-such-job")


def built_in_dataset_deleted(story: Story) -> Any:
    return story.call("delete_dataset", "mnist")


def finished_job_cancelled(story: Story) -> Any:
    return story.call("cancel_job", story.job.id)


def model_files_gone(story: Story) -> Any:
    model_id = story.batch_job.model_id
    for path in (story.secured.service.home / "artifacts" / model_id).rglob("*"):
        if path.is_file():
            path.unlink()
    return predict_json(story, model_id, mnist_digits(1).tolist())


def too_many_instances(story: Story) -> Any:
    return predict_json(story, story.job.model_id, mnist_digits(MAX_INSTANCES + 1).tolist())


def unsupported_media_type(story: Story) -> Any:
    """No generated function sends text/plain, so this goes through the generated client's
    own httpx client; the answer is still read with the generated Problem."""
    http = story.client.get_httpx_client()
    return http.post(
        f"/v1/models/{story.job.model_id}/predict",
        content=b"1,2,3",
        headers={"content-type": "text/plain"},
    )


def missing_key(story: Story) -> Any:
    anonymous = story.generated.client(story.secured, key=False)
    return story.call("list_jobs", client=anonymous)


def too_many_streams(story: Story) -> Any:
    """One owner's 21st open event stream (DESCENT_MAX_STREAMS_PER_OWNER is 20), on a job
    that runs long enough; the 20 are held on the generated client's own httpx client."""
    from contextlib import ExitStack

    http = story.client.get_httpx_client()
    spec = job_spec(name="contract-streams", limit=100, epochs=1000, units=8, validation=None)
    job_id = http.post("/v1/jobs", json=spec).json()["id"]
    try:
        with ExitStack() as held:
            for _ in range(20):
                stream = held.enter_context(http.stream("GET", f"/v1/jobs/{job_id}/events"))
                assert stream.status_code == 200
            return story.call("stream_events", job_id)
    finally:
        http.post(f"/v1/jobs/{job_id}/cancel")


# status -> (how a client brings it about, the problem's code)
ERRORS: dict[int, tuple[Callable[[Story], Any], str]] = {
    401: (missing_key, "unauthorized"),
    404: (unknown_job, "job_not_found"),
    405: (built_in_dataset_deleted, "dataset_builtin"),
    409: (finished_job_cancelled, "job_finished"),
    410: (model_files_gone, "model_gone"),
    413: (too_many_instances, "payload_too_large"),
    415: (unsupported_media_type, "unsupported_media_type"),
    422: (bad_spec, "spec_invalid"),
    429: (too_many_streams, "too_many_requests"),
}


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_an_error_is_read_as_the_generated_problem(story: Story, status: int):
    make, code = ERRORS[status]
    response = make(story)
    assert response.status_code == status, response.content
    assert response.headers["content-type"] == "application/problem+json"
    problem_type = story.generated.problem
    parsed = getattr(response, "parsed", None)
    if parsed is None:  # a raw httpx answer (415): parse it with the generated model
        parsed = problem_type.from_dict(response.json())
    assert isinstance(parsed, problem_type), f"{status} parsed as {type(parsed)}"
    assert parsed.status == status
    assert parsed.code == code
    assert parsed.type_ == f"/problems/{code}"
    assert parsed.detail and parsed.fix
    assert undeclared(parsed) == []


def test_a_bad_spec_says_which_field_and_how_to_fix_it(story: Story):
    parsed = bad_spec(story).parsed
    first = parsed.errors[0]
    assert first.field == "model.layers[2].units"
    assert first.fix == 'set the last dense layer\'s "units" to 10'


def test_every_operation_is_generated_and_imports(secured: Secured, generated: Generated):
    broken = {}
    for method, path, operation in operations(live_schema(secured)):
        try:
            generated.operation(operation["operationId"])
        except Exception as error:  # noqa: BLE001 - any failure to import is the finding
            broken[f"{method} {path}"] = f"{type(error).__name__}: {error}"
    assert broken == {}


def test_every_documented_error_status_is_exercised(secured: Secured):
    documented = error_statuses(live_schema(secured))
    assert documented - UNREACHABLE.keys() <= ERRORS.keys(), "add a case to ERRORS"
    assert ERRORS.keys() <= documented, "an exercised status that the schema does not document"
