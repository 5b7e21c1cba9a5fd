"""A prediction request in each of its forms -> the model's answers as JSON bytes.

The HTTP half of prediction: the media type picks the form of the body (JSON instances, pixel
rows and ``{"b64": ...}`` images; ``multipart/form-data`` image files; or an ``.npy`` array),
the body is parsed, ``serving.answers`` answers it, and the answer is written as JSON. The
body's size is capped by ``api.limits`` before it gets here. Small pixel requests are answered
on the event loop, which is the fastest path for one image; anything bigger, and every image
decode, runs in a worker thread so that a large batch never holds up other requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.schemas.trained_models import PredictRequest
from core.errors import UnsupportedMediaType
from core.settings import Settings
from serving import answers
from serving.errors import InputError
from serving.inputs import ScaleOption
from serving.sessions import ServedModel

JSON = "application/json"
MULTIPART = "multipart/form-data"
NPY = "application/x-npy"
INLINE_BYTES = 64 * 1024  # pixel bodies up to this size are answered on the event loop


class Answered(NamedTuple):
    """The answer's JSON, and how many instances it answers (counted by api/metrics.py)."""

    content: bytes
    instances: int


async def answer(
    request: Request,
    model: ServedModel,
    settings: Settings,
    top_k: int | None,
    scale: ScaleOption | None,
    include_input: bool = False,
) -> Answered:
    """Read the body, pick its form from the media type, and answer it; with
    ``include_input``, each answer also holds the pixels the model was given."""
    media_type = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    if media_type not in (JSON, MULTIPART, NPY) and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"the body's media type is {media_type!r}; send application/json (instances), "
            "multipart/form-data (image files) or application/x-npy (an array)",
            fix="set the Content-Type header, e.g. curl -H 'content-type: application/json'",
        )
    body = await request.body()
    limit = settings.max_instances_per_request
    if media_type == MULTIPART:
        files = await read_files(request, body, limit)
        return await run_in_threadpool(answer_images, model, files, top_k, scale, include_input)
    handler = answer_npy if media_type == NPY else answer_json
    if len(body) <= INLINE_BYTES and (media_type == NPY or b'"b64"' not in body):
        return handler(model, body, limit, top_k, scale, include_input)
    return await run_in_threadpool(handler, model, body, limit, top_k, scale, include_input)


def answer_json(
    model: ServedModel,
    body: bytes,
    limit: int,
    top_k: int | None,
    scale: ScaleOption | None,
    include_input: bool = False,
) -> Answered:
    request = parse_json(body)
    return dump(
        answers.from_instances(
            model,
            request.instances,
            limit=limit,
            top_k=choose("top_k", request.top_k, top_k),
            scale=choose("scale", chosen(request.scale), chosen(scale)),
            include_input=include_input,
        )
    )


def answer_npy(
    model: ServedModel,
    body: bytes,
    limit: int,
    top_k: int | None,
    scale: ScaleOption | None,
    include_input: bool = False,
) -> Answered:
    return dump(
        answers.from_npy(
            model, body, limit=limit, top_k=top_k, scale=chosen(scale), include_input=include_input
        )
    )


def answer_images(
    model: ServedModel,
    files: list[bytes],
    top_k: int | None,
    scale: ScaleOption | None,
    include_input: bool = False,
) -> Answered:
    return dump(
        answers.from_images(model, files, top_k=top_k, scale=scale, include_input=include_input)
    )


def parse_json(body: bytes) -> PredictRequest:
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
        return PredictRequest.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


async def read_files(request: Request, body: bytes, limit: int) -> list[bytes]:
    """The uploaded files' bytes, in order; a text field is refused rather than ignored."""

    async def once() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(request.headers, once(), max_files=limit, max_fields=0)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        if "Too many files" in exc.message:
            raise answers.too_many_instances(limit + 1, limit) from None
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


def chosen(scale: ScaleOption | None) -> ScaleOption | None:
    """A scale the request chose; "auto" is the default, so it leaves the choice open."""
    return None if scale == "auto" else scale


def choose(name: str, in_body: Any, in_query: Any) -> Any:
    if in_body is not None and in_query is not None and in_body != in_query:
        raise InputError(
            f"{name} is {in_body!r} in the body but {in_query!r} in the query; give it once"
        )
    return in_body if in_body is not None else in_query


def dump(answer: dict[str, Any]) -> Answered:
    content = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
    return Answered(content, len(answer["predictions"]))


def describe(schema: dict[str, Any]) -> None:
    """Name predict's JSON body, ``PredictRequest``, in the schema's components, where the
    route's body points. FastAPI names only the bodies it parses itself; predict reads its own
    (in three media types, and faster than a model per number would)."""
    _, definitions = models_json_schema(
        [(PredictRequest, "validation")], ref_template="#/components/schemas/{model}"
    )
    named = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in definitions["$defs"].items():
        named.setdefault(name, definition)
