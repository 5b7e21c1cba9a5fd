"""The domain error tree: what went wrong, in words, with no HTTP in it.

Services, serving and training raise these kinds; the API layer (``api/errors.py``) maps each
kind to a status, its headers and a problem ``type``. An error says what happened
(``detail``), how to fix it (``fix``) and, where several fields or items are wrong, one entry
each (``errors``, each in the voice of ``Problem``).

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

    def __init__(
        self, detail: str, *, fix: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        self.errors = errors  # one entry per bad field or item, where there are several

    @property
    def plain_fix(self) -> str | None:
        """The fix with each operation named in words (``{list_jobs}`` -> "list jobs")."""
        if self.fix is None:
            return None
        return name_operations(self.fix, lambda operation: operation.replace("_", " "))


class NotFound(DescentError):
    title = "Not found"


class Gone(DescentError):
    """The thing was there and is no longer (a registered model whose file is missing)."""

    title = "Gone"


class Conflict(DescentError):
    title = "Conflict"


class NotAllowed(DescentError):
    """The thing exists but cannot take this action; ``allowed`` names the actions it takes."""

    title = "Method not allowed"

    def __init__(self, detail: str, *, allowed: tuple[str, ...], fix: str | None = None) -> None:
        super().__init__(detail, fix=fix)
        self.allowed = allowed


class InvalidInput(DescentError):
    title = "Invalid input"


class PayloadTooLarge(DescentError):
    title = "Content too large"


class UnsupportedMediaType(DescentError):
    title = "Unsupported media type"


class Unauthorized(DescentError):
    """No credentials, or ones that are not (or no longer) valid."""

    title = "Unauthorized"


class Unavailable(DescentError):
    """Something the work needs (the database, the broker, a data file) cannot be reached."""

    title = "Service unavailable"
