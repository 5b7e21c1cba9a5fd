"""The one cap on request bodies: a client cannot make the API hold an unbounded body in memory.

Prediction routes (``/predict``) get ``max_request_bytes``; uploading a data set
(``POST /v1/datasets``) gets ``max_upload_bytes``; every other route gets ``max_body_bytes``
(1 MiB by default: a job spec or a batch of them is a few KiB). The caps are read from the app's
settings on each request. A declared Content-Length over the cap is refused before the route
runs (the server itself holds a client to the length it declared); a chunked body of unknown
length is counted as it streams in, up to the cap, then replayed to the route. Routes read
their bodies without checking sizes again.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from core.settings import Settings


class Cap(NamedTuple):
    max_bytes: int
    setting: str
    fix: str


class BodySizeLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def cap(self, path: str) -> Cap:
        """The cap on the body of a request to ``path``."""
        path = path.rstrip("/")
        # Descent's own /predict, TF Serving's :predict (:classify, :regress) and the Open
        # Inference Protocol's /v2/.../infer: the prediction routes.
        if path.endswith(("/predict", ":predict", ":classify", ":regress")) or (
            path.startswith("/v2/") and path.endswith("/infer")
        ):
            return Cap(
                self.settings.max_request_bytes,
                "DESCENT_MAX_REQUEST_BYTES",
                "split the instances over several requests, or send smaller images",
            )
        if path == "/v1/datasets":
            return Cap(
                self.settings.max_upload_bytes,
                "DESCENT_MAX_UPLOAD_BYTES",
                "upload fewer rows (the operator sets the cap with DESCENT_MAX_UPLOAD_BYTES)",
            )
        return Cap(
            self.settings.max_body_bytes,
            "DESCENT_MAX_BODY_BYTES",
            "send a smaller body: split a large batch into several, or check that the right "
            "file is being sent",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap.max_bytes:
            await self._refuse(scope, receive, send, int(declared), cap)
            return
        if declared:  # a declared length is enforced by the server itself
            await self.app(scope, receive, send)
            return
        # A chunked body of unknown length: read it here, up to the cap, and replay it.
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > cap.max_bytes:
                await self._refuse(scope, receive, send, seen, cap, at_least=True)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        size: int,
        cap: Cap,
        at_least: bool = False,
    ) -> None:
        response = problem(
            413,
            "payload_too_large",
            f"the request body is {'over ' if at_least else ''}{size:,} bytes; this route "
            f"accepts at most {cap.max_bytes:,} bytes ({cap.setting})",
            instance=scope["path"],
            fix=cap.fix,
        )
        await response(scope, receive, send)
