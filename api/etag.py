"""Conditional reads: a job, its history and a model carry an ``ETag``; ``If-None-Match`` → 304.

A front end that polls a job every second or two gets a 304 with no body while nothing has
changed. The tag is a hash of the answer's bytes, so it changes exactly when the answer does
and needs nothing from the routes: ``ConditionalReads`` wraps the app, picks the operations
named in ``CONDITIONAL`` by the route that served the request, and holds only their (small)
JSON answers to hash them. Every other answer, the event stream and downloads included, passes
through untouched, chunk by chunk.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# operationIds (the route functions' names) whose 200 answers are tagged.
CONDITIONAL = frozenset({"get_job", "get_history", "get_model"})

# What a 304 keeps of the 200 it stands for (RFC 9110 §15.4.5); CORS, outside, adds its own.
KEPT_ON_304 = ("cache-control", "content-location", "date", "etag", "expires", "vary")


def etag_of(body: bytes) -> str:
    """A strong entity tag: the same bytes, the same tag."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str, etag: str) -> bool:
    """``If-None-Match`` compares weakly (RFC 9110 §13.1.2): ``W/"x"`` matches ``"x"``."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


class ConditionalReads:
    """Pure ASGI, so that nothing else is buffered (BaseHTTPMiddleware would wrap streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def tag(message: Message) -> None:
            nonlocal start
            if start is None and message["type"] == "http.response.start":
                # The router has put the matched route in the scope by the time it answers.
                route = getattr(scope.get("route"), "name", None)
                if message["status"] == 200 and route in CONDITIONAL:
                    start = message
                    return
                start = {}  # not ours: pass everything through from here on
            if not start or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._answer(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, tag)

    async def _answer(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        etag = etag_of(body)
        headers = MutableHeaders(scope=start)
        headers["etag"] = etag
        headers.setdefault("cache-control", "no-cache")  # a browser asks again every time
        asked = Headers(scope=scope).get("if-none-match")
        if asked is not None and matches(asked, etag):
            kept = [(k, v) for k, v in headers.raw if k.decode("latin-1") in KEPT_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})


def describe(schema: dict[str, Any]) -> None:
    """Add ``If-None-Match``, the ``ETag`` header and the 304 to the tagged operations' schema
    (found by operationId: the route function's name, as api/openapi.py sets it)."""
    for path in schema.get("paths", {}).values():
        operation = path.get("get")
        if operation is not None and operation.get("operationId") in CONDITIONAL:
            _describe(operation)


ETAG_HEADER = {
    "description": "A tag of this answer; send it back as `If-None-Match` to get a 304 while "
    "the answer has not changed.",
    "schema": {"type": "string"},
    "example": '"3f1c9a0e5b7d4c2a8e6f0b1d9c7a5e3f"',
}


def _describe(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name") == "If-None-Match" for p in parameters):
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The `ETag` of an answer already held: a 304 with no body if "
                "it is still current.",
                "schema": {"type": "string"},
            }
        )
    responses = operation.setdefault("responses", {})
    ok = responses.get("200")
    if ok is not None:
        ok.setdefault("headers", {})["ETag"] = ETAG_HEADER
    responses.setdefault(
        "304",
        {
            "description": "Not modified: the answer tagged `If-None-Match` is still current.",
            "headers": {"ETag": ETAG_HEADER},
        },
    )
