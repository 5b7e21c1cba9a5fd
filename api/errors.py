"""One error shape for every error: RFC 9457 problem details (``application/problem+json``).

Every body is a ``Problem`` (api/schemas/problems.py): ``type`` (``/problems/{code}``, a page
that explains the kind), ``title``, ``status``, ``detail``, ``instance`` (the request's path),
``code`` (a stable name to branch on: api/problem_types.py lists them all) and, where there
is one, ``fix`` and ``errors[]`` (one entry per bad field or item).

A hand-written handler rather than a problem-details library (fastapi-problem and the like):
those render their own exception classes, and Descent's domain errors (core/errors.py) must
know nothing of HTTP; what is left, mapping kinds to statuses and describing pydantic's
errors in the voice of ``Problem``, is Descent's own either way.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from api import protocols
from api.problem_types import FRAMEWORK_CODES, PROBLEM_TYPES, type_uri
from core.errors import (
    Conflict,
    DescentError,
    Gone,
    InvalidInput,
    NotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    name_operations,
)
from training.spec import UNION_TAGS

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
MAX_FOUND_CHARS = 200
# What a problem body repeats of a client's input is bounded (json_safe): text this long,
# this many levels deep, this many values in all.
MAX_TEXT_CHARS = 2_000
SAFE_DEPTH = 32
SAFE_NODES = 100_000
# The most errors one problem lists: enough to correct a request, bounded whatever was sent.
MAX_ERRORS = 100
BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


# Each domain kind as HTTP: its status and problem type; the first kind in an error's class
# order that is listed here answers for it. Headers that follow from a kind are in _headers.
STATUSES: dict[type[DescentError], int] = {
    NotFound: 404,
    Gone: 410,
    Conflict: 409,
    NotAllowed: 405,
    InvalidInput: 422,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    Unauthorized: 401,
    Unavailable: 503,
    DescentError: 500,
}
# The operations a domain fix names (``{submit_job}``) as their routes; a test checks each
# against the app's routes and every name the services use.
ROUTES = {
    "list_jobs": "GET /v1/jobs",
    "get_job": "GET /v1/jobs/{job_id}",
    "submit_job": "POST /v1/jobs",
    "cancel_job": "POST /v1/jobs/{job_id}/cancel",
    "submit_batch": "POST /v1/batches",
    "list_datasets": "GET /v1/datasets",
    "upload_dataset": "POST /v1/datasets",
}
# The methods tried to find which ones the routes at a path take (for a 405's Allow).
METHODS_TRIED = ("GET", "POST", "PUT", "PATCH", "DELETE")
# A domain action (NotAllowed.allowed) as the HTTP method that does it.
METHODS = {"read": "GET", "create": "POST", "replace": "PUT", "delete": "DELETE"}


def status_of(error: DescentError) -> int:
    return next(STATUSES[kind] for kind in type(error).__mro__ if kind in STATUSES)


def _headers(error: DescentError) -> dict[str, str]:
    if isinstance(error, Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, TooManyRequests):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, NotAllowed):
        return {"Allow": ", ".join(METHODS.get(action, action) for action in error.allowed)}
    return {}


def json_safe(value: Any, depth: int = SAFE_DEPTH, budget: int = SAFE_NODES) -> Any:
    """``value`` as JSON can always carry it, so that a problem body never fails to render.

    What a client sent comes back in ``found``, and a client can send anything: bytes (a body
    without ``Content-Type: application/json``), NaN or an infinity, a lone surrogate
    (``"\\ud800"``), a value thousands of levels deep or megabytes long. Bytes become a summary
    (``"<37 bytes>"``), non-finite numbers their JSON5 spelling (``"NaN"``, ``"Infinity"``),
    surrogates an escape, long text is cut, and containers deeper than ``depth``, or past the
    first ``budget`` values, become ``"..."``. The depth bound also bounds this function's
    recursion, so it can never exhaust the stack, and the budget its time, whatever it is
    given. Anything else (a path, a NumPy number, a set) is written as its text."""
    return _safe(value, depth, [budget])


def _safe(value: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # Beyond 64 bits as text (no JSON reader takes it whole); beyond Python's 4,300
        # digits str() itself refuses, so only its size is said.
        if abs(value) < 2**63:
            return value
        return (
            _cut(str(value))
            if value.bit_length() < 14_000
            else f"<{value.bit_length()}-bit integer>"
        )
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict | list | tuple):
        if depth <= 0 or budget[0] <= 0:
            return "..."
        if isinstance(value, dict):
            safe: dict[str, Any] = {}
            for key, child in value.items():
                if budget[0] <= 0:
                    safe["..."] = f"{len(value) - len(safe)} more"
                    break
                safe[_cut(str(key))] = _safe(child, depth - 1, budget)
            return safe
        listed: list[Any] = []
        for child in value:
            if budget[0] <= 0:
                listed.append(f"... {len(value) - len(listed)} more")
                break
            listed.append(_safe(child, depth - 1, budget))
        return listed
    try:
        return _cut(str(value))
    except Exception:  # a value whose str() fails still gets a place in the body
        return f"<{type(value).__name__}>"


def _cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Text that encodes as UTF-8 (lone surrogates escaped) and is at most ``limit`` long."""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} characters)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str,
    title: str | None = None,
    fix: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem body; its ``title`` is the code's (api/problem_types.py) unless one is given
    for a code that is not listed there."""
    known = PROBLEM_TYPES.get(code)
    body: dict[str, Any] = {
        "type": type_uri(code),
        "title": known.title if known is not None else (title or "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    if fix:
        body["fix"] = fix
    body.update(extra)
    if protocols.speaks_protocol(instance):
        # The inference protocols' own clients (tritonclient, TF Serving's) read {"error": ...}.
        return JSONResponse(
            json_safe(protocols.error_body(body)), status_code=status, headers=headers
        )
    return JSONResponse(
        json_safe(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def with_routes(text: str | None) -> str | None:
    """A domain fix with each operation it names (``{list_jobs}``) written as its route."""
    return None if text is None else name_operations(text, ROUTES.get)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "model", "layers", 2, "dense", "units") -> "model.layers[2].units"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    text = ""
    field: Any = None  # the last field name, the one a union tag would follow
    previous: Any = None
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif (previous == field or isinstance(previous, int)) and part in UNION_TAGS.get(
            str(field), ()
        ):
            pass  # pydantic names the union member a value matched; the field says enough
        else:
            text += f".{part}" if text else str(part)
            field = part
        previous = part
    return text or "body"


def _found(value: Any) -> Any:
    """What a client sent, as an error's ``found`` repeats it: JSON-safe, and cut to
    MAX_FOUND_CHARS of JSON text when longer."""
    safe = json_safe(value, depth=8, budget=100)
    text = json.dumps(safe, ensure_ascii=False)
    return safe if len(text) <= MAX_FOUND_CHARS else text[:MAX_FOUND_CHARS] + "..."


def describe_error(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as the API reports it: field, message, found, allowed, fix."""
    if error.get("type") == "json_invalid":
        # FastAPI puts the character's position last in loc; pydantic's model_validate_json
        # gives no loc at all.
        loc = error.get("loc") or ()
        where = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return {
            "field": "body",
            "message": f"the body is not valid JSON ({reason}{where})",
            "type": "json_invalid",
        }
    kind, ctx = error.get("type"), error.get("ctx") or {}
    described: dict[str, Any] = {
        "field": field_path(error.get("loc", ())),
        "message": str(error.get("msg", "")).removeprefix("Value error, "),
        "type": kind,
    }
    if kind != "missing" and "input" in error:
        described["found"] = _found(error["input"])
    if kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", ""))
        if key.startswith("'"):  # a field such as 'type' or 'name' holds the unknown value
            described["field"] += f".{key.strip(chr(39))}"
        described["message"] = (
            f"{ctx.get('tag')!r} is not known here; allowed: {ctx.get('expected_tags')}"
        )
        described["allowed"] = ctx.get("expected_tags")
        described["fix"] = "use one of the allowed values"
    elif kind == "union_tag_not_found":
        field = described["field"]
        name = field.rsplit(".", 1)[-1].split("[")[0]
        tags = UNION_TAGS.get(name, ())
        key = str(ctx.get("discriminator", ""))
        if key.startswith("'"):
            described["field"] += f".{key.strip(chr(39))}"
            described["message"] = "is required: it says which kind of value this is"
        else:
            described["message"] = "is not one of the allowed values or forms"
        if tags:
            described["allowed"] = ", ".join(f"'{tag}'" for tag in tags)
        described["fix"] = "use one of the allowed values; GET /docs shows each form"
    elif kind in ("literal_error", "enum"):
        described["allowed"] = ctx.get("expected")
        described["fix"] = "use one of the allowed values"
    elif kind in BOUNDS:
        bound = f"{BOUNDS[kind]} {next(iter(ctx.values()), '')}"
        described["allowed"] = bound
        described["fix"] = f"use a value {bound}"
    elif kind in ("too_short", "too_long"):
        described["allowed"] = (
            f"at least {ctx.get('min_length')} items"
            if kind == "too_short"
            else f"at most {ctx.get('max_length')} items"
        )
    elif kind == "extra_forbidden":
        described["message"] = "is not a field here"
        described["fix"] = "remove it or correct its spelling; GET /docs lists the fields"
    elif kind == "missing":
        described["message"] = "is required"
        described["fix"] = "add it"
    described.setdefault("fix", "correct this field; GET /docs shows what it accepts")
    return described


# The code of a refused body, on the routes whose body is one thing a client knows by name;
# any other body, path or header is ``request_invalid`` and a query alone ``query_invalid``.
BODY_CODES = {
    "submit_job": "spec_invalid",
    "validate_spec": "spec_invalid",
    "submit_batch": "spec_invalid",
    "find_learning_rate": "spec_invalid",
    "predict": "input_invalid",
    "upload_dataset": "dataset_invalid",
}
NOT_BODY = ("query", "path", "header", "cookie")


def _place(error: dict[str, Any]) -> str:
    """Where a pydantic error is: query, path, header, cookie or (anything else) body. Errors
    of a body a route validates itself carry no "body" in their loc."""
    loc = error.get("loc") or ()
    return loc[0] if loc and loc[0] in NOT_BODY else "body"


def validation_code(request: Request, errors: list[Any]) -> str:
    """Which code a request validation error gets: where its errors are, and on which route."""
    places = {_place(error) for error in errors}
    if places == {"query"}:
        return "query_invalid"
    route = request.scope.get("route")
    if places == {"body"} and getattr(route, "name", None) in BODY_CODES:
        return BODY_CODES[route.name]  # type: ignore[union-attr]
    return "request_invalid"


JSON_FIX = (
    "send the body as JSON with the header `Content-Type: application/json` (curl: --json "
    "BODY, or -H 'Content-Type: application/json' -d BODY)"
)


def sent_as(request: Request) -> str | None:
    """The body's media type when it is not JSON (``curl -d`` sends a form's), else None.

    FastAPI reads a body as JSON when its Content-Type says JSON (``application/json``,
    ``application/*+json``) or is missing; any other type reaches the route as raw bytes,
    which then fail validation as "not an object"; that is a 415, not a field error."""
    header = request.headers.get("content-type")
    if not header:
        return None
    media = header.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    if main == "application" and (sub == "json" or sub.endswith("+json")):
        return None
    return media


def _validation_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    try:
        return _describe_invalid(request, exc)
    except Exception:  # describing must not turn a refusal into a 500; say less instead
        log.exception("could not describe a validation error on %s", request.url.path)
        return problem(
            422,
            "request_invalid",
            "the request is invalid",
            instance=request.url.path,
            fix="check it against the schema GET /docs shows",
        )


def _describe_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    media = sent_as(request)
    if media is not None and any(
        _place(error) == "body" and isinstance(error.get("input"), bytes) for error in exc.errors()
    ):
        return problem(
            415,
            "unsupported_media_type",
            f"this route reads a JSON body, and the request sent {_cut(media, 100)!r}",
            instance=request.url.path,
            fix=JSON_FIX,
        )
    found = exc.errors()
    errors = [describe_error(error) for error in found[:MAX_ERRORS]]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    if len(found) > MAX_ERRORS:
        summary += f" (and {len(found) - MAX_ERRORS:,} more errors, not listed)"
    return problem(
        422,
        validation_code(request, list(found)),
        summary,
        instance=request.url.path,
        fix="correct the fields listed in errors; GET /docs shows the schema and allowed values",
        errors=errors,
    )


def _descent_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DescentError)
    try:
        extra: dict[str, Any] = {}
        if exc.errors is not None:
            extra["errors"] = [
                {**e, "fix": with_routes(e["fix"])} if isinstance(e.get("fix"), str) else e
                for e in exc.errors
            ]
        return problem(
            status_of(exc),
            exc.code,
            exc.detail,
            instance=request.url.path,
            title=exc.title,
            fix=with_routes(exc.fix),
            headers=_headers(exc),
            **extra,
        )
    except Exception:  # an error handler must answer; the original error is what matters
        return _unexpected_problem(request, exc)


def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    """The framework's own refusals (no such path, a method the path does not take, ...) in
    the same shape, keeping the headers they carry (``Allow`` on a 405)."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    path = request.url.path
    taken = _methods_at(request)
    if status in (404, 405) and taken and request.method not in taken:
        # The page's files, mounted at "/", answer every path no route takes with this
        # method; where routes take the path with other methods, that is a 405 naming them.
        status = 405
        headers = {"Allow": ", ".join(sorted(taken))}
    detail, fix = str(exc.detail), None
    if status == 400 and detail == FASTAPI_PARSE_ERROR:
        # FastAPI's words when a JSON body fails to parse other than as bad syntax: bytes that
        # are not UTF-8, a number with thousands of digits, nesting deeper than Python parses.
        status = 422
        detail = "the body could not be read as JSON: " + _parse_failure(exc)
        fix = JSON_FIX.replace("send the body as JSON", "send the body as UTF-8 JSON")
    if status == 404:
        detail = f"nothing is served at {path}"
        fix = "check the path; GET /docs lists every route"
    elif status == 405:
        allow = headers.get("Allow") or headers.get("allow")
        detail = f"{request.method} is not allowed on {path}" + (
            f"; it takes {allow}" if allow else ""
        )
        fix = "use a method the Allow header lists; GET /docs lists every route"
    return problem(
        status,
        FRAMEWORK_CODES.get(status, "http_error"),
        detail,
        instance=path,
        fix=fix,
        headers=headers,
    )


FASTAPI_PARSE_ERROR = "There was an error parsing the body"


def _parse_failure(exc: Exception) -> str:
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        return "it is nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "it holds an integer of more than 4,300 digits"
    return "it is not valid JSON"


def _methods_at(request: Request) -> set[str]:
    """The methods the API's routes (not the page's files) take at the request's path."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    return {
        method
        for method in METHODS_TRIED
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    }


def _unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        500,
        "internal_error",
        "an unexpected error occurred; it has been logged",
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(DescentError, _descent_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(Exception, _unexpected_problem)
