"""Create, revoke, list and check API keys. Only a key's SHA-256 is stored; the secret is
returned once, by :func:`create`, and cannot be recovered afterwards."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from models import ApiKey
from models.api_key import LOCAL_OWNER
from models.base import utcnow

PREFIX = "dsk_"  # makes a leaked key easy to recognise (and to grep for)


@dataclass(frozen=True)
class Principal:
    """Who is asking: an owner, and whether it may see every owner's things (admin)."""

    owner: str
    admin: bool = False

    @property
    def scope(self) -> str | None:
        """The owner to filter by, or None for an admin, who sees everything."""
        return None if self.admin else self.owner


LOCAL = Principal(LOCAL_OWNER, admin=True)  # auth off: one user, who sees everything


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    session: Session, name: str, *, owner: str | None = None, admin: bool = False
) -> tuple[ApiKey, str]:
    """A new key for ``owner`` (default: its name); returns the row and the secret, once."""
    owner = owner or name
    if not owner or len(owner) > 64:
        raise InvalidInput(
            f"owner {owner!r} must be 1 to 64 characters", fix="give a shorter --owner"
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    key = ApiKey(
        name=name, owner=owner, key_hash=digest(secret), admin=admin, created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(key)
    session.flush()
    return key, secret


def revoke(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(
            f"no API key with id {key_id!r}",
            fix="list keys with `descent keys list`",
            code="api_key_not_found",
        )
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def list_all(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()


def check(session: Session, secret: str) -> ApiKey | None:
    """The live key with this secret, or None (unknown or revoked)."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret)))
    return key if key is not None and key.revoked_at is None else None
