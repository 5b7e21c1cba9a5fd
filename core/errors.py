"""The domain error tree: what went wrong, in words, with no HTTP in it.

Services, serving and training raise these kinds; the API layer (``api/errors.py``) maps each
kind to a status, its headers and a problem ``type``. An error says what happened
(``detail``), how to fix it (``fix``) and, where several fields or items are wrong, one entry
each (``errors``, each in the voice of ``Problem``). Each kind has a default ``code``, a stable
snake_case name a client can branch on; a raise names a more specific one where it knows more
(``NotFound(..., code="job_not_found")``). Every code is explained at ``/problems/{code}``.

A ``fix`` may name what to do next by an operation, written ``{list_jobs}``: the API writes
it as that operation's method and route (``GET /v1/jobs``); ``plain_fix`` writes it in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

OPERATION = re.compile(r"\{([a-z][a-z_]*)\}")


@dataclass(frozen=True)
class Problem:
    """One refusal: the field, what is wrong, what was found, what is allowed, how to fix it."""

    field: str
    message: str
    found: Any = None
    allowed: Any = None
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def name_operations(text: str, name: Callable[[str], str | None]) -> str:
    """``text`` with each ``{operation}`` written as ``name`` says; one it does not know stays."""
    return OPERATION.sub(lambda match: name(match[1]) or match[0], text)


class DescentError(Exception):
    """Base error: what happened (``detail``) and, where there is one, how to fix it (``fix``)."""

    title = "Internal error"
    code = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        fix: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        self.errors = errors  # one entry per bad field or item, where there are several
        self.code = code or type(self).code

    @property
    def plain_fix(self) -> str | None:
        """The fix with each operation named in words (``{list_jobs}`` -> "list jobs")."""
        if self.fix is None:
            return None
        return name_operations(self.fix, lambda operation: operation.replace("_", " "))


class NotFound(DescentError):
    title = "Not found"
    code = "not_found"


class Gone(DescentError):
    """The thing was there and is no longer (a registered model whose file is missing)."""

    title = "Gone"
    code = "gone"


class Conflict(DescentError):
    title = "Conflict"
    code = "conflict"


class NotAllowed(DescentError):
    """The thing exists but cannot take this action; ``allowed`` names the actions it takes."""

    title = "Method not allowed"
    code = "method_not_allowed"

    def __init__(
        self,
        detail: str,
        *,
        allowed: tuple[str, ...],
        fix: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail, fix=fix, code=code)
        self.allowed = allowed


class InvalidInput(DescentError):
    title = "Invalid input"
    code = "request_invalid"


class PayloadTooLarge(DescentError):
    title = "Content too large"
    code = "payload_too_large"


class UnsupportedMediaType(DescentError):
    title = "Unsupported media type"
    code = "unsupported_media_type"


class Unauthorized(DescentError):
    """No credentials, or ones that are not (or no longer) valid."""

    title = "Unauthorized"
    code = "unauthorized"


class TooManyRequests(DescentError):
    """A per-client limit (open event streams, say) is reached; retry after ``retry_after``
    seconds, or once something the client holds is released."""

    title = "Too many requests"
    code = "too_many_requests"

    def __init__(
        self,
        detail: str,
        *,
        fix: str | None = None,
        code: str | None = None,
        retry_after: int = 5,
    ) -> None:
        super().__init__(detail, fix=fix, code=code)
        self.retry_after = retry_after


class Unavailable(DescentError):
    """Something the work needs (the database, the broker, a data file) cannot be reached."""

    title = "Service unavailable"
    code = "unavailable"
