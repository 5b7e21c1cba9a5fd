"""Every request has an id: the caller's ``X-Request-ID`` when it is sane, else a new one.

The id is echoed on the response, put on every log line of the request (core/logs.py) and
sent with the job's Celery message (services/queue.py), so the worker's lines for that job
carry it too: one id joins a submission to the training it started.

Pure ASGI, like the app's other middleware, so that no response is buffered. The scope it
starts is not reset on the way out: every request runs in a task (and context) of its own
under uvicorn, so the id stays on what is logged after the app returns, the access line and a
failure's traceback.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import logs

HEADER = "X-Request-ID"
MAX_CHARS = 128


def sane(value: str) -> bool:
    """1 to 128 printable ASCII characters: safe to echo and to write into a log line."""
    return 0 < len(value) <= MAX_CHARS and value.isascii() and value.isprintable()


def request_id(scope: Scope) -> str:
    """The caller's id if it sent a sane one, else a new uuid4 hex."""
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id":
            given = value.decode("latin-1").strip()
            return given if sane(given) else uuid.uuid4().hex
    return uuid.uuid4().hex


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        logs.start_scope(request_id=rid)

        async def echo(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        await self.app(scope, receive, echo)
