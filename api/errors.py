"""One error shape for every error: RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.errors import DescentError
from serving.errors import ServingError
from training.spec import LAYER_TYPES

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, *, fix: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if fix:
        body["fix"] = fix
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "model", "layers", 2, "dense", "units") -> "model.layers[2].units"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    text = ""
    previous: Any = None
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(previous, int) and part in LAYER_TYPES:
            pass  # pydantic names the union member a list item matched; the index says enough
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text or "body"


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    if error.get("type") == "json_invalid":
        position = error.get("loc", ("body", 0))[-1]
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return {
            "field": "body",
            "message": f"the body is not valid JSON ({reason} at character {position})",
            "type": "json_invalid",
        }
    return {
        "field": field_path(error.get("loc", ())),
        "message": str(error.get("msg", "")).removeprefix("Value error, "),
        "type": error.get("type"),
    }


def _validation_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(error) for error in exc.errors()]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(
        422,
        "Invalid request",
        summary,
        fix="correct the fields listed in errors; GET /docs shows the schema and allowed values",
        errors=errors,
    )


def _descent_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DescentError)
    extra = {"errors": exc.errors} if exc.errors is not None else {}
    response = problem(exc.status_code, exc.title, exc.detail, fix=exc.fix, **extra)
    response.headers.update(getattr(exc, "headers", {}))
    return response


def _serving_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServingError)
    return problem(exc.status_code, exc.title, str(exc), fix=exc.fix)


def _http_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


def _unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(DescentError, _descent_problem)
    app.add_exception_handler(ServingError, _serving_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(Exception, _unexpected_problem)
