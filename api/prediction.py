"""A prediction request in each of its forms -> the model's answers as JSON bytes.

The body is read up to ``max_request_bytes``; its media type picks the form: JSON instances
(pixel rows and ``{"b64": ...}`` images), ``multipart/form-data`` image files, or an ``.npy``
array. Small pixel requests are answered on the event loop, which is the fastest path for one
image; anything bigger, and every image decode, runs in a worker thread so that a large batch
never holds up other requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.schemas.trained_models import PredictRequest
from core.settings import Settings
from services import trained_models
from services.errors import Conflict, NotFound
from serving.errors import InputError, TooLarge, UnsupportedMediaType
from serving.inputs import (
    ModelInput,
    Scale,
    array_to_batch,
    batch_to_pixels,
    images_to_batch,
    instances_to_batch,
    read_npy,
)
from serving.predict import check_top_k, predict
from serving.sessions import ModelCard, ServedModel, gone
from training.builtin_datasets import DATASETS

JSON = "application/json"
MULTIPART = "multipart/form-data"
NPY = "application/x-npy"
INLINE_BYTES = 64 * 1024  # pixel bodies up to this size are answered on the event loop
# divide_by_255: what training.preprocessing.scale_pixels does; none: uploaded features as is.
SCALINGS = {"divide_by_255", "none"}


def describe_model(app: FastAPI, model_id: str, owner: str | None = None) -> ModelCard:
    """What prediction needs to know about a model, from its row (404/409/410 if it can't)."""
    settings: Settings = app.state.settings
    with app.state.sessionmaker() as session:
        row = trained_models.get(session, model_id, owner)  # another owner's model: 404
        try:
            path = app.state.artifacts.local_path(row.onnx_key)
        except NotFound:
            raise gone(model_id) from None
        if row.scaling not in SCALINGS:
            raise Conflict(
                f"model {model_id!r} scales its input with {row.scaling!r}, which this server "
                f"does not know (it knows {sorted(SCALINGS)})",
                fix="run a Descent version as recent as the worker that trained the model",
            )
        info = DATASETS.get(row.dataset)
        background = "dark" if info is not None and info.background == "dark" else "any"
        return ModelCard(
            id=row.id,
            task=row.task,
            class_names=tuple(row.class_names),
            input=ModelInput(
                tuple(row.input_shape),
                background,
                settings.max_image_pixels,
                settings.max_request_pixels,
                images=row.scaling != "none",
            ),
            scaling=row.scaling,
            onnx_path=path,
            owner=row.owner,
        )


async def answer(
    request: Request,
    model: ServedModel,
    settings: Settings,
    top_k: int | None,
    scale: Scale | None,
    include_input: bool = False,
) -> bytes:
    """Read the body, pick its form from the media type, and answer it; with
    ``include_input``, each answer also holds the pixels the model was given."""
    media_type = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    if media_type not in (JSON, MULTIPART, NPY) and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"the body's media type is {media_type!r}; send application/json (instances), "
            "multipart/form-data (image files) or application/x-npy (an array)",
            fix="set the Content-Type header, e.g. curl -H 'content-type: application/json'",
        )
    body = await read_body(request, settings.max_request_bytes)
    limit = settings.max_instances_per_request
    if media_type == MULTIPART:
        files = await read_files(request, body, limit)
        check_top_k(model.card, top_k)
        return await run_in_threadpool(answer_images, model, files, top_k, include_input)
    handler = answer_npy if media_type == NPY else answer_json
    if len(body) <= INLINE_BYTES and (media_type == NPY or b'"b64"' not in body):
        return handler(model, body, limit, top_k, scale, include_input)
    return await run_in_threadpool(handler, model, body, limit, top_k, scale, include_input)


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise too_many_bytes(int(declared), max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_many_bytes(size, max_bytes, at_least=True)
        chunks.append(chunk)
    return b"".join(chunks)


def too_many_bytes(size: int, max_bytes: int, at_least: bool = False) -> TooLarge:
    return TooLarge(
        f"the request body is {'over ' if at_least else ''}{size:,} bytes; at most "
        f"{max_bytes:,} bytes are accepted (DESCENT_MAX_REQUEST_BYTES)",
        fix="split the instances over several requests, or send smaller images",
    )


def too_many_instances(count: int, limit: int) -> TooLarge:
    return TooLarge(
        f"{count:,} instances sent; at most {limit:,} are accepted per request "
        "(DESCENT_MAX_INSTANCES_PER_REQUEST)",
        fix=f"split the instances into requests of at most {limit:,}",
    )


def answer_json(
    model: ServedModel,
    body: bytes,
    limit: int,
    top_k: int | None,
    scale: Scale | None,
    include_input: bool = False,
) -> bytes:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        hint = (
            "; NaN and Infinity are not JSON numbers: send finite pixel values"
            if any(token in body for token in (b"NaN", b"Infinity"))
            else ""
        )
        raise InputError(f"the body is not valid JSON ({exc}){hint}") from None
    try:
        request = PredictRequest.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
    if len(request.instances) > limit:
        raise too_many_instances(len(request.instances), limit)
    top_k = choose("top_k", request.top_k, top_k)
    check_top_k(model.card, top_k)
    scale = input_scale(model, choose("scale", request.scale, scale))
    batch = instances_to_batch(request.instances, model.card.input, scale)
    return render(model, batch, top_k, include_input)


def answer_npy(
    model: ServedModel,
    body: bytes,
    limit: int,
    top_k: int | None,
    scale: Scale | None,
    include_input: bool = False,
) -> bytes:
    check_top_k(model.card, top_k)
    array = read_npy(body)
    if len(array) > limit:
        raise too_many_instances(len(array), limit)
    batch = array_to_batch(array, model.card.input.input_shape, input_scale(model, scale))
    return render(model, batch, top_k, include_input)


def input_scale(model: ServedModel, requested: Scale | None) -> Scale:
    """Features of an uploaded data set go in as they are; images as the request says."""
    return "raw" if model.card.scaling == "none" else requested or "pixels"


def answer_images(
    model: ServedModel, files: list[bytes], top_k: int | None, include_input: bool = False
) -> bytes:
    return render(model, images_to_batch(files, model.card.input), top_k, include_input)


async def read_files(request: Request, body: bytes, limit: int) -> list[bytes]:
    """The uploaded files' bytes, in order; a text field is refused rather than ignored."""

    async def once() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(request.headers, once(), max_files=limit, max_fields=0)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        if "Too many files" in exc.message:
            raise too_many_instances(limit + 1, limit) from None
        if "Too many fields" in exc.message:
            raise InputError(
                "the form holds a text field; send only image files, and options such as "
                "top_k as query parameters (?top_k=3)"
            ) from None
        raise InputError(f"the multipart body cannot be read: {exc.message}") from None
    try:
        uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        return [await upload.read() for upload in uploads]
    finally:
        await form.close()


def choose(name: str, in_body: Any, in_query: Any) -> Any:
    if in_body is not None and in_query is not None and in_body != in_query:
        raise InputError(
            f"{name} is {in_body!r} in the body but {in_query!r} in the query; give it once"
        )
    return in_body if in_body is not None else in_query


def render(model: ServedModel, batch: Any, top_k: int | None, include_input: bool = False) -> bytes:
    predictions = predict(model, batch, top_k)
    if include_input:
        # What the model was given, e.g. an image file after its conversion (the web page shows
        # it): 0-255 pixels for an image model, the features as they are otherwise.
        seen = batch_to_pixels(batch, model.card.input)
        for prediction, pixels in zip(predictions, seen, strict=True):
            prediction["input"] = pixels
    return orjson.dumps(
        {"model_id": model.card.id, "predictions": predictions},
        option=orjson.OPT_SERIALIZE_NUMPY,
    )
