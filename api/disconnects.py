"""A client that goes away in the middle of sending its body is one log line, not a traceback.

A route that reads its body by hand (predict, a data set upload) gets Starlette's
``ClientDisconnect`` when the client hangs up, or when the server cuts off a body that stalled
(processes/http.py); nothing is wrong with the server, and a traceback per slow client would
bury the log. There is no one left to answer.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("descent.http")


class QuietDisconnects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            client = scope.get("client") or ("?", 0)
            log.warning(
                "%s %s: the client (%s) disconnected before sending the whole body",
                scope.get("method"),
                scope.get("path"),
                client[0],
            )
