"""A cap on every request body: a client cannot make the API hold an unbounded body in memory.

Prediction routes read their own, larger, body under ``max_request_bytes`` (api/prediction.py);
uploading a data set (``POST /v1/datasets``) gets ``max_upload_bytes``; every other route gets
at most ``max_body_bytes`` (1 MiB by default: a job spec or a batch of them is a few KiB).
The cap is checked against Content-Length, or counted as a chunked body streams in.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


class BodySizeLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, predict_max_bytes: int, upload_max_bytes: int
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.predict_max_bytes = predict_max_bytes
        self.upload_max_bytes = upload_max_bytes

    def _cap(self, scope: Scope) -> tuple[int, str]:
        path = scope["path"].rstrip("/")
        if path.endswith("/predict"):
            return self.predict_max_bytes, "DESCENT_MAX_REQUEST_BYTES"
        if path == "/v1/datasets":
            return self.upload_max_bytes, "DESCENT_MAX_UPLOAD_BYTES"
        return self.max_bytes, "DESCENT_MAX_BODY_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap, setting = self._cap(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            await self._refuse(scope, receive, send, int(declared), cap, setting)
            return
        if declared or setting == "DESCENT_MAX_REQUEST_BYTES":
            # A declared length is enforced by the server itself; prediction routes count
            # their own streamed bodies (api/prediction.py).
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
            if seen > cap:
                await self._refuse(scope, receive, send, seen, cap, setting, at_least=True)
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
        cap: int,
        setting: str,
        at_least: bool = False,
    ) -> None:
        response = problem(
            413,
            "Request body too large",
            f"the request body is {'over ' if at_least else ''}{size:,} bytes; this route "
            f"accepts at most {cap:,} bytes ({setting})",
            fix="send a smaller body: split a large batch into several, or check that the "
            "right file is being sent",
        )
        await response(scope, receive, send)
