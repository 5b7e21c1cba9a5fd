"""JSON bodies read with a bound on their nesting, before anything walks them.

A spec is a few levels deep; a body a client can send may be thousands. Python's parser stops
at its recursion limit (about 1,000 levels), but what walks a parsed body afterwards (a deep
copy, a flattening, an error message that repeats it) recurses too and may not stop in time.
So the routes whose bodies are walked (jobs, checks, batches) parse the body here first, with
an explicit stack rather than recursion, and refuse one deeper than ``MAX_DEPTH`` levels with
a 422 naming where it got too deep. What passes is handed on to FastAPI already parsed
(Starlette keeps a request's parsed JSON), so it is parsed once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.errors import sent_as
from core.errors import InvalidInput

# A job spec is at most ~8 levels deep (a batch's base one more, a vary value a few); 64 leaves
# room for anything a spec may grow without letting a body be deep enough to hurt.
MAX_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Where ``value`` (parsed JSON) first goes deeper than ``limit`` levels, as a field path
    ("base.model.layers[0][0][0]..."), or None if it does not.

    Iterative, so any depth is safe; only non-empty containers wait on the stack, and each
    knows its place as a link to its parent's, so a body of many small lists costs little."""
    Trail = tuple[Any, Any] | None  # (key, the parent's trail)
    if not isinstance(value, dict | list):
        return None  # a bare number or string: no depth at all
    if limit <= 0:
        return "body"
    stack: list[tuple[Any, int, Trail]] = [(value, 0, None)]
    while stack:
        node, depth, trail = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if not isinstance(child, dict | list):
                continue
            if depth + 1 >= limit:
                return _path((key, trail))
            if child:
                stack.append((child, depth + 1, (key, trail)))
    return None


def _path(trail: tuple[Any, Any] | None) -> str:
    keys: list[Any] = []
    while trail is not None:
        key, trail = trail
        keys.append(key)
    text = ""
    for key in reversed(keys):
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def refuse_depth(where: str, limit: int = MAX_DEPTH) -> InvalidInput:
    shown = where if len(where) <= 120 else where[:120] + "..."
    return InvalidInput(
        f"the body is nested more than {limit} levels deep (at {shown})",
        fix=f"send at most {limit} levels of nested lists and objects; a job spec needs fewer "
        "than 10",
        errors=[
            {
                "field": shown,
                "message": f"is nested more than {limit} levels deep",
                "allowed": f"at most {limit} levels",
                "fix": "remove the extra nesting",
            }
        ],
        code="request_invalid",
    )


def read_bounded(body: bytes, limit: int = MAX_DEPTH) -> Any:
    """``body`` parsed as JSON; InvalidInput if it nests deeper than ``limit``. Bad syntax
    raises json.JSONDecodeError (and undecodable bytes ValueError) for FastAPI to describe."""
    try:
        value = json.loads(body)
    except RecursionError:  # deeper than the parser goes: far deeper than the limit
        raise refuse_depth("body", limit) from None
    where = too_deep(value, limit)
    if where is not None:
        raise refuse_depth(where, limit)
    return value


class BoundedJsonRoute(APIRoute):
    """An APIRoute whose JSON body is parsed with ``read_bounded`` before FastAPI reads it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def bounded(request: Request) -> Response:
            body = await request.body()
            if body and sent_as(request) is None:
                # Bad JSON (a ValueError) is left to FastAPI, which parses it again and says
                # where it is wrong; what parses is what request.json() returns from now on.
                with contextlib.suppress(ValueError):
                    request._json = read_bounded(body)
            return await handler(request)

        return bounded
