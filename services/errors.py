"""Typed errors that one API handler renders as ``application/problem+json``."""

from typing import Any


class DescentError(Exception):
    """Base error: what happened (``detail``) and, where there is one, how to fix it (``fix``)."""

    status_code = 500
    title = "Internal error"

    def __init__(
        self, detail: str, *, fix: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        self.errors = errors  # one entry per bad field or item, where there are several


class NotFound(DescentError):
    status_code = 404
    title = "Not found"


class Conflict(DescentError):
    status_code = 409
    title = "Conflict"


class MethodNotAllowed(DescentError):
    """The resource exists but cannot take this method; ``allow`` names the ones it takes."""

    status_code = 405
    title = "Method not allowed"

    def __init__(self, detail: str, *, allow: str, fix: str | None = None) -> None:
        super().__init__(detail, fix=fix)
        self.headers = {"Allow": allow}


class InvalidInput(DescentError):
    status_code = 422
    title = "Invalid input"


class Unavailable(DescentError):
    status_code = 503
    title = "Service unavailable"


class PayloadTooLarge(DescentError):
    status_code = 413
    title = "Content too large"


class Unauthorized(DescentError):
    status_code = 401
    title = "Unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}
