"""TensorFlow Serving's REST API, as its clients call it, answered by Descent's own models.

A client written for TF Serving (``requests.post(f"{host}/v1/models/{name}:predict", json=...)``)
talks to Descent unchanged: model status and ``/metadata`` (a ``signature_def`` read from the
ONNX graph), ``:predict`` in row (``instances``) or columnar (``inputs``) form, ``:classify``
and ``:regress``. A model is addressed by its id, a registered name, ``/versions/N`` or
``/labels/ALIAS`` (an alias of the registry); every form is served by the same ONNX Runtime
sessions, caches, limits and owner checks as Descent's own predict route
(``api.deps.load_served_model``).

As in TF Serving, the numbers sent are the model's raw input and the answer is its raw output
tensor (serving/tf_serving.py reads the bodies and writes the answers).

Where these paths meet Descent's own: ``POST /v1/models/X:predict`` (a colon) never matches
Descent's ``/v1/models/{id}/predict``; ``GET /v1/models/X`` is Descent's own model route, which
also carries TF Serving's ``model_version_status``. Errors are ``{"error": "..."}``
(api/errors.py writes every error on these paths so) with Descent's statuses: 422 for a body
the model cannot take, where TF Serving says 400.
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from api.deps import get_sessionmaker, load_served_model, request_settings
from core.errors import NotFound
from services import registry
from serving import tf_serving
from serving.errors import InputError
from serving.sessions import ServedModel

router = APIRouter(prefix="/v1/models", include_in_schema=False)

INLINE_BYTES = 64 * 1024  # bodies up to this size are answered on the event loop
MODEL_ID = re.compile(r"^[0-9a-f]{32}$")


# Model status ------------------------------------------------------------------------------


@router.get("/{name}/versions/{version}")
async def version_status(name: str, version: str, request: Request) -> dict[str, Any]:
    return await status(request, name, version=version)


@router.get("/{name}/labels/{label}")
async def label_status(name: str, label: str, request: Request) -> dict[str, Any]:
    return await status(request, name, label=label)


async def status(
    request: Request, name: str, version: str | None = None, label: str | None = None
) -> dict[str, Any]:
    """TF Serving's ``GetModelStatusResponse``: the version the path names is loaded (a model
    whose file cannot be loaded is an error here, as it would be for a prediction)."""
    _, served_version = await load_version(request, reference(name, version, label))
    return {
        "model_version_status": [
            {
                "version": served_version,
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


# Model metadata ----------------------------------------------------------------------------


@router.get("/{name}/metadata")
async def metadata(name: str, request: Request) -> dict[str, Any]:
    return await describe(request, name)


@router.get("/{name}/versions/{version}/metadata")
async def version_metadata(name: str, version: str, request: Request) -> dict[str, Any]:
    return await describe(request, name, version=version)


@router.get("/{name}/labels/{label}/metadata")
async def label_metadata(name: str, label: str, request: Request) -> dict[str, Any]:
    return await describe(request, name, label=label)


async def describe(
    request: Request, name: str, version: str | None = None, label: str | None = None
) -> dict[str, Any]:
    """TF Serving's ``GetModelMetadataResponse``: one signature, ``serving_default``, whose
    inputs and outputs are the ONNX graph's, the batch axis written as ``-1``."""
    model, served_version = await load_version(request, reference(name, version, label))
    return {
        "model_spec": {
            "name": name,
            "signature_name": "",
            "version": served_version,
        },
        "metadata": {
            "signature_def": {
                "signature_def": {tf_serving.SIGNATURE: tf_serving.signature_def(model)}
            }
        },
    }


# Predict, classify, regress ----------------------------------------------------------------


@router.post("/{name}:predict")
async def predict(name: str, request: Request) -> Response:
    return await answer(request, reference(name), tf_serving.answer_predict)


@router.post("/{name}/versions/{version}:predict")
async def version_predict(name: str, version: str, request: Request) -> Response:
    return await answer(request, reference(name, version=version), tf_serving.answer_predict)


@router.post("/{name}/labels/{label}:predict")
async def label_predict(name: str, label: str, request: Request) -> Response:
    return await answer(request, reference(name, label=label), tf_serving.answer_predict)


@router.post("/{name}:classify")
async def classify(name: str, request: Request) -> Response:
    return await answer(request, reference(name), tf_serving.answer_classify)


@router.post("/{name}/versions/{version}:classify")
async def version_classify(name: str, version: str, request: Request) -> Response:
    return await answer(request, reference(name, version=version), tf_serving.answer_classify)


@router.post("/{name}/labels/{label}:classify")
async def label_classify(name: str, label: str, request: Request) -> Response:
    return await answer(request, reference(name, label=label), tf_serving.answer_classify)


@router.post("/{name}:regress")
async def regress(name: str, request: Request) -> Response:
    return await answer(request, reference(name), tf_serving.answer_regress)


@router.post("/{name}/versions/{version}:regress")
async def version_regress(name: str, version: str, request: Request) -> Response:
    return await answer(request, reference(name, version=version), tf_serving.answer_regress)


@router.post("/{name}/labels/{label}:regress")
async def label_regress(name: str, label: str, request: Request) -> Response:
    return await answer(request, reference(name, label=label), tf_serving.answer_regress)


async def answer(request: Request, ref: str, handler: tf_serving.Handler) -> Response:
    """Load the model, read the body (whatever its Content-Type: ``curl -d`` sends a form's),
    and answer it; a large body is parsed and run in a worker thread, as Descent's own
    predict route does, so that it never holds up other requests."""
    started = time.perf_counter()
    model = await load_served_model(ref, request)
    limit = request_settings(request).max_instances_per_request
    body = await request.body()
    # An image ({"b64": ...}) is decoded in a worker thread, whatever its size: a small file
    # can hold a large picture, and decodes wait for a slot (serving/images.py).
    if len(body) <= INLINE_BYTES and b'"b64"' not in body:
        content, instances = tf_serving.answer(handler, model, body, limit)
    else:
        content, instances = await run_in_threadpool(tf_serving.answer, handler, model, body, limit)
    if metrics := request.app.state.metrics:  # counted with Descent's own predictions
        metrics.predicted(model.card.task, time.perf_counter() - started, instances)
    return Response(content, media_type="application/json")


# Model references --------------------------------------------------------------------------


def reference(name: str, version: str | None = None, label: str | None = None) -> str:
    """The path's model as a reference ``load_served_model`` resolves: a model id or a name,
    ``NAME/versions/N`` or ``NAME@LABEL``. A model id is a model of one version, ``1``."""
    if version is not None:
        if not (version.isascii() and version.isdigit()):
            raise InputError(f"version is {version!r}; a version is a whole number, 1 or more")
        if MODEL_ID.match(name):
            if int(version) != 1:
                raise NotFound(
                    f"model {name!r} has no version {version}: a model id names one model, "
                    "version 1",
                    code="model_not_found",
                    fix="use a registered name to reach its versions",
                )
            return name
        return f"{name}/versions/{int(version)}"
    if label is not None:
        if MODEL_ID.match(name):
            raise NotFound(
                f"model {name!r} has no label {label!r}: labels are aliases of a registered "
                "name's versions",
                code="model_not_found",
                fix="use NAME/labels/LABEL with the name the model is registered under",
            )
        return f"{name}@{label}"
    return name


async def load_version(request: Request, ref: str) -> tuple[ServedModel, str]:
    """The model ``ref`` names and its version as TF Serving writes it (digits in a string).
    The name is looked up once and the model loaded by the id found, so that the version
    answered is the one described even while an alias moves; a model id is version 1."""
    found = await run_in_threadpool(find, request, ref)
    model = await load_served_model(found.model_id if found else ref, request)
    return model, str(found.version) if found else "1"


def find(request: Request, ref: str) -> registry.Resolved | None:
    with get_sessionmaker(request)() as session:
        return registry.find(session, ref, authenticate(request).scope)
