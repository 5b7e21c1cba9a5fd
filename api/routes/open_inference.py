"""The Open Inference Protocol v2 over HTTP, as Triton, KServe and Seldon MLServer speak it, so
that their clients (``tritonclient``, KServe's) can call Descent's models unchanged.

- ``GET /v2/health/live``, ``GET /v2/health/ready``, ``GET /v2`` (server metadata);
- ``GET /v2/models/NAME[/versions/V]`` (model metadata) and ``.../ready``;
- ``POST /v2/models/NAME[/versions/V]/infer``: JSON tensors, or Triton's binary tensor data.

``NAME`` is whatever names a model elsewhere: a model id, a registered name, ``NAME@ALIAS``;
``/versions/V`` a registered version. Each request is answered by the same ONNX Runtime
sessions, cache, limits and owner checks as ``POST /v1/models/{id}/predict``
(``api.deps.load_served_model``); serving/open_inference.py reads and writes the tensors.
Errors are ``{"error": ...}``, which these clients read (api/errors.py writes them so on every
``/v2`` path). The routes are left out of the OpenAPI document: the protocol is its own spec.
"""

from __future__ import annotations

import time
import zlib
from functools import partial

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

import core
from api.auth import authenticate
from api.deps import load_served_model, request_settings
from api.readiness import not_ready
from core.errors import NotFound, UnsupportedMediaType
from services import registry
from serving import open_inference
from serving.errors import InputError, TooLarge
from serving.sessions import ServedModel

router = APIRouter(prefix="/v2", include_in_schema=False)
# Liveness and readiness ask no key, like /healthz and /readyz: an orchestrator's probe
# (Kubernetes, KServe) sends none.
health_router = APIRouter(prefix="/v2/health", include_in_schema=False)

# Triton's names for what this server does beyond the core protocol.
EXTENSIONS = ["binary_tensor_data", "classification"]
HEADER_LENGTH = "Inference-Header-Content-Length"
INLINE_BYTES = 64 * 1024  # bodies up to this size are answered on the event loop
# Serving needs the database (names, owners) and the store (model files), not the broker,
# which only carries training jobs: a broker outage does not stop inference.
SERVING_PARTS = ("database", "artifact_store")


def _json(content: object) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@health_router.get("/live")
async def server_live() -> Response:
    """The server answers."""
    return _json({"live": True})


@health_router.get("/ready")
async def server_ready(request: Request) -> Response:
    """200 when the database and the artifact store answer (api/readiness.py); else 503."""
    failed = await request.app.state.readiness.failures()
    failed = {part: error for part, error in failed.items() if part in SERVING_PARTS}
    if failed:
        raise not_ready(failed)
    return _json({"ready": True})


@router.get("")
async def server_metadata() -> Response:
    """The server's name, version and protocol extensions."""
    return _json({"name": "descent", "version": core.__version__, "extensions": EXTENSIONS})


@router.get("/models/{name}")
@router.get("/models/{name}/versions/{version}")
async def model_metadata(request: Request, name: str) -> Response:
    """The model's platform, versions, inputs and outputs, read from its ONNX graph."""
    model, served_version = await served(request, name)
    return _json(
        {
            "name": name,
            "versions": [served_version],
            "platform": "onnxruntime_onnx",
            "inputs": [open_inference.describe(spec) for spec in model.onnx.inputs],
            "outputs": [open_inference.describe(spec) for spec in model.onnx.outputs],
        }
    )


@router.get("/models/{name}/ready")
@router.get("/models/{name}/versions/{version}/ready")
async def model_ready(request: Request, name: str) -> Response:
    """200 once the model's ONNX session is loaded; its 404/409/410 otherwise."""
    await served(request, name)
    return _json({"name": name, "ready": True})


@router.post("/models/{name}/infer")
@router.post("/models/{name}/versions/{version}/infer")
async def infer(request: Request, name: str) -> Response:
    """Run the model on the request's input tensor; answer its output tensor."""
    started = time.perf_counter()
    model, served_version = await served(request, name)
    settings = request_settings(request)
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        body = await run_in_threadpool(decompress, body, encoding, settings.max_request_bytes)
    answer_it = partial(
        open_inference.infer,
        model,
        body,
        request.headers.get(HEADER_LENGTH),
        model_name=name,
        model_version=served_version,
        limit=settings.max_instances_per_request,
    )
    # One image is answered on the event loop (a thread hop would cost more than the work);
    # a batch in a worker thread, so that it never holds up other requests.
    answer = answer_it() if len(body) <= INLINE_BYTES else await run_in_threadpool(answer_it)
    if metrics := request.app.state.metrics:
        metrics.predicted(model.card.task, time.perf_counter() - started, answer.instances)
    if answer.header_length is None:
        return Response(answer.body, media_type="application/json")
    return Response(
        answer.body,
        media_type="application/octet-stream",
        headers={HEADER_LENGTH: str(answer.header_length)},
    )


async def served(request: Request, name: str) -> tuple[ServedModel, str]:
    """The model ``name`` (and the path's version, if any) names, and the version that answers.

    A name is resolved here, once, to its trained model's id, which then loads as any model id
    does (``load_served_model``: the cache, the owner check, 404/409/410): the version the
    answer names is the one that answered, even if an alias moves meanwhile. A model id is a
    model of one version, "1".

    The version is read from the path, not taken as a parameter: FastAPI would otherwise
    accept it as a query parameter on the paths without one."""
    version = request.path_params.get("version")
    if registry.MODEL_ID.fullmatch(name):
        if version not in (None, "1"):
            raise NotFound(
                f"model {name!r} is a model id, which has one version, 1; not {version!r}",
                fix="leave out the version, or register the model under a name with "
                "{register_model_version} to give it versions",
                code="model_not_found",
            )
        return await load_served_model(name, request), "1"
    ref = name if version is None else f"{name}/versions/{version}"
    found = await run_in_threadpool(find, request, ref)
    if found is None:  # not a name: looked up as a model id, which answers its own 404
        return await load_served_model(ref, request), "1"
    return await load_served_model(found.model_id, request), str(found.version)


def find(request: Request, ref: str) -> registry.Resolved | None:
    with request.app.state.sessionmaker() as session:
        return registry.find(session, ref, authenticate(request).scope)


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """A gzip or deflate body (``tritonclient``'s ``request_compression_algorithm``), held
    to the same cap as an uncompressed one."""
    windows = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
    if encoding not in windows:
        raise UnsupportedMediaType(
            f"the body's Content-Encoding is {encoding!r}; send it as is, gzip or deflate"
        )
    inflater = zlib.decompressobj(windows[encoding])
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InputError(f"the {encoding} body cannot be decompressed ({exc})") from None
    if len(data) > limit:
        raise TooLarge(
            f"the {encoding} body decompresses to over {limit:,} bytes; this route accepts at "
            "most that many (DESCENT_MAX_REQUEST_BYTES)",
            fix="split the instances over several requests",
        )
    return data
