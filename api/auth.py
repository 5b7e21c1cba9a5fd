"""Who is asking: ``Authorization: Bearer <key>`` when ``DESCENT_AUTH=required``.

With auth off (the embedded default, on loopback) every request is the built-in "local"
owner, who sees everything. With auth required, a missing, unknown or revoked key is a 401,
and every lookup is scoped to the key's owner (an admin key sees every owner's things).

Jobs, batches, models and uploaded data sets are owned. To scope a new kind of owned thing:
give its table an ``owner`` column (default "local"), set it from ``principal.owner`` on
create, and filter by ``principal.scope`` (None for an admin) on every read, as
services/jobs.py ``get``/``page`` and services/datasets.py do: another owner's item must be a
404, never a 403. What a job uses (its data set) is looked up within the job's owner,
``principal.owner``, even for an admin: a job never trains on someone else's upload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from core import logs
from core.errors import NotFound, Unauthorized
from services import api_keys, batches, jobs, trained_models
from services.api_keys import LOCAL, Principal

CREATE_FIX = "create a key with `descent keys create --name NAME` on the server and send it as "
CREATE_FIX += "`Authorization: Bearer <key>` (the descent CLI sends DESCENT_API_KEY)"


def authenticate(request: Request) -> Principal:
    """The request's principal, found once per request and kept on ``request.state``."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    principal = LOCAL if request.app.state.settings.auth == "off" else _from_header(request)
    request.state.principal = principal
    logs.bind(owner=principal.owner)  # on the request's log lines from here on
    return principal


def _from_header(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        raise Unauthorized(
            "this server requires an API key and the request sent none", fix=CREATE_FIX
        )
    if scheme.lower() != "bearer" or not secret.strip():
        # What was sent is not repeated: without a scheme, the first word is the key itself.
        raise Unauthorized(
            "the Authorization header must be `Bearer <key>`, and the one sent does not start "
            "with `Bearer ` followed by a key (it is not repeated here: it may be a secret)",
            fix=CREATE_FIX,
        )
    with request.app.state.sessionmaker() as session:
        key = api_keys.check(session, secret.strip())
        if key is None:
            raise Unauthorized("the API key is unknown or has been revoked", fix=CREATE_FIX)
        return Principal(key.owner, admin=key.admin)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def check_owner(principal: Principal, owner: str, kind: str, item_id: str) -> None:
    """Another owner's job, model or batch is, to this principal, one that does not exist: the
    404 is the very one its service raises for a missing id (detail, fix and code alike), so
    that no answer tells "not yours" from "no such thing", cached or not."""
    if principal.scope is not None and owner != principal.scope:
        raise NOT_FOUND[kind](item_id)


# Each owned kind's 404 for a missing id, as its service raises it.
NOT_FOUND: dict[str, Callable[[str], NotFound]] = {
    "model": trained_models.not_found,
    "job": jobs.not_found,
    "batch": batches.not_found,
}
