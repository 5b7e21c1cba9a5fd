"""The model registry: names for trained models, numbered versions, and movable aliases.

A reference (``ref``) names a trained model wherever a model id is taken:

- a model id (a job's id, 32 hex characters) names itself;
- ``NAME`` names the name's latest version;
- ``NAME@ALIAS`` the version the alias points at (``NAME@latest``: the latest version);
- ``NAME/versions/N`` version N.

Names are per owner: each API key's owner has a namespace of its own, so another owner's
"mnist-digits" is, to you, one that does not exist (the same 404). An admin key (``owner`` None)
sees every owner's names; a name two owners have is then ambiguous (409).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotFound
from models import ModelAlias, ModelVersion, RegisteredModel, TrainedModel
from models.base import utcnow
from services import trained_models

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
LATEST = "latest"  # not an alias one can set: NAME@latest is always the latest version
MODEL_ID = re.compile(r"[0-9a-f]{32}")
NAME = re.compile(NAME_PATTERN)
ALIAS = re.compile(ALIAS_PATTERN)
REF = re.compile(r"(?P<name>[^@/]+)(?:@(?P<alias>[^@/]+)|/versions/(?P<version>[0-9]{1,9}))?")


@dataclass(frozen=True)
class Ref:
    """A reference by name: the name, and its alias or version (neither: the latest)."""

    name: str
    alias: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class Resolved:
    """What a reference by name found: the trained model, and the name and version it is."""

    model_id: str
    name: str
    version: int


def parse(ref: str) -> Ref | None:
    """``ref`` as a name, name@alias or name/versions/N; None for a model id or anything else,
    which is looked up as a model id (an unknown one answers 404 as it always has).

    No database: the predict route calls this on every request to know whether it must look
    the name up, and a model id must cost nothing more than it did."""
    if MODEL_ID.fullmatch(ref):
        return None
    match = REF.fullmatch(ref)
    if match is None or not NAME.fullmatch(match["name"]):
        return None
    alias = match["alias"]
    if alias is not None and not ALIAS.fullmatch(alias):
        return None
    version = int(match["version"]) if match["version"] is not None else None
    return Ref(match["name"], None if alias == LATEST else alias, version)


def check_name(name: str) -> str:
    """``name``, or a 422 saying what a name may be."""
    if NAME.fullmatch(name) and not MODEL_ID.fullmatch(name):
        return name
    raise _invalid(
        "name",
        name,
        "1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, "
        "and not 32 hex characters (a model id)",
    )


def check_alias(alias: str) -> str:
    """``alias``, or a 422 saying what an alias may be."""
    if ALIAS.fullmatch(alias) and alias != LATEST:
        return alias
    raise _invalid(
        "alias",
        alias,
        "1-64 lowercase letters, digits, '_' or '-', starting with a letter; not 'latest' "
        "(NAME@latest always means the latest version)",
    )


def _invalid(field: str, found: str, allowed: str) -> InvalidInput:
    fix = f"choose a {field} of {allowed}"
    return InvalidInput(
        f"{found!r} is not a valid {field}",
        fix=fix,
        errors=[
            {
                "field": field,
                "message": "is not valid",
                "found": found,
                "allowed": allowed,
                "fix": fix,
            }
        ],  # fmt: skip
        code="request_invalid",
    )


def resolve(session: Session, ref: str, owner: str | None) -> str:
    """The trained model id ``ref`` names (a model id names itself, unchecked: its route looks
    it up), or 404 ``model_not_found``, the same for another owner's name as for none."""
    found = find(session, ref, owner)
    return found.model_id if found is not None else ref


def find(session: Session, ref: str, owner: str | None) -> Resolved | None:
    """What a reference by name resolves to; None for a model id (nothing to look up)."""
    parsed = parse(ref)
    if parsed is None:
        return None
    # One statement for the usual case: the name, and the version its alias, number or
    # "latest" picks.
    query = select(ModelVersion.model_id, ModelVersion.version).join(
        RegisteredModel, RegisteredModel.id == ModelVersion.registered_model_id
    )
    query = query.where(RegisteredModel.name == parsed.name)
    if owner is not None:
        query = query.where(RegisteredModel.owner == owner)
    if parsed.alias is not None:
        query = query.join(
            ModelAlias,
            (ModelAlias.registered_model_id == ModelVersion.registered_model_id)
            & (ModelAlias.version == ModelVersion.version),
        ).where(ModelAlias.alias == parsed.alias)
    elif parsed.version is not None:
        query = query.where(ModelVersion.version == parsed.version)
    if owner is None:  # an admin (or auth off): the name may be several owners'
        owners = (
            select(func.count())
            .select_from(RegisteredModel)
            .where(RegisteredModel.name == parsed.name)
            .scalar_subquery()
        )
        query = query.add_columns(owners.label("owners"))
    row = session.execute(query.order_by(ModelVersion.version.desc()).limit(1)).first()
    if row is not None and owner is None and row.owners > 1:
        raise _ambiguous(parsed.name, _owners_of(session, parsed.name))
    if row is not None:
        return Resolved(row.model_id, parsed.name, row.version)
    what = (
        f"model {parsed.name!r} has no alias {parsed.alias!r}"
        if parsed.alias is not None
        else f"model {parsed.name!r} has no version {parsed.version}"
        if parsed.version is not None
        else f"no model named {parsed.name!r}"
    )
    raise NotFound(
        f"no model {ref!r}: {what}" if parsed.alias or parsed.version else what,
        fix="list your model names with GET /v1/registry, and a name's versions and aliases "
        "with GET /v1/registry/NAME",
        code="model_not_found",
    )


def _owners_of(session: Session, name: str) -> list[str]:
    """Every owner that has ``name`` (to say so in an ambiguity's detail)."""
    return list(session.scalars(select(RegisteredModel.owner).where(RegisteredModel.name == name)))


def _ambiguous(name: str, owners: Sequence[str]) -> Conflict:
    return Conflict(
        f"several owners have a model named {name!r}: {', '.join(sorted(set(owners)))}",
        fix="ask with the key of the owner whose model you mean, or by the model's id",
        code="model_name_ambiguous",
    )


def get(session: Session, name: str, owner: str | None) -> RegisteredModel:
    """The name's row, or 404 ``model_not_found`` (also for another owner's); 422 for a
    string that cannot be a name."""
    check_name(name)
    query = select(RegisteredModel).where(RegisteredModel.name == name)
    if owner is not None:
        query = query.where(RegisteredModel.owner == owner)
    rows = session.scalars(query.limit(2)).all()
    if len(rows) > 1:
        raise _ambiguous(name, [row.owner for row in rows])
    if not rows:
        raise NotFound(
            f"no model named {name!r}",
            fix="register a model under this name with POST /v1/registry/NAME/versions, or "
            "list your names with GET /v1/registry",
            code="model_not_found",
        )
    return rows[0]


def register(session: Session, name: str, model_ref: str, owner: str | None) -> VersionSummary:
    """Register the trained model ``model_ref`` names as the next version of ``name``.

    The model must be the caller's (404 as for a missing one) and trained (409). The name is
    the model owner's: an admin registering someone's model names it in their namespace.
    Two registrations at once get consecutive versions: the counter is bumped with one UPDATE,
    which holds the name's row until the transaction ends."""
    check_name(name)
    model = trained_models.get(session, resolve(session, model_ref, owner), owner)
    named = _get_or_create(session, name, model.owner)
    session.execute(
        update(RegisteredModel)
        .where(RegisteredModel.id == named.id)
        .values(latest_version=RegisteredModel.latest_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    number = session.scalar(
        select(RegisteredModel.latest_version).where(RegisteredModel.id == named.id)
    )
    session.add(ModelVersion(registered_model_id=named.id, version=number, model_id=model.id))
    session.flush()
    return _versions(session, named, version=number)[0]


def _get_or_create(session: Session, name: str, owner: str) -> RegisteredModel:
    """The owner's row for ``name``, created if it is new; a concurrent creation of the same
    name is caught by the unique constraint and the row it made is used."""
    query = select(RegisteredModel).where(
        RegisteredModel.owner == owner, RegisteredModel.name == name
    )
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = RegisteredModel(name=name, owner=owner, latest_version=0)
            session.add(row)
    except IntegrityError:
        row = session.scalars(query).one()
    return row


def set_alias(
    session: Session, name: str, alias: str, version: int, owner: str | None
) -> tuple[ModelAlias, str]:
    """Point ``alias`` at ``version`` of ``name``: one row inserted, or updated if it exists,
    so a request resolving it sees the old version or the new one, never neither. Answers the
    alias's row and the model it now serves."""
    check_alias(alias)
    named = get(session, name, owner)
    target = _version(session, named, version)
    moved = session.execute(
        update(ModelAlias)
        .where(ModelAlias.registered_model_id == named.id, ModelAlias.alias == alias)
        .values(version=version, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(ModelAlias(registered_model_id=named.id, alias=alias, version=version))
        except IntegrityError:  # created at the same moment by another request: move it
            session.execute(
                update(ModelAlias)
                .where(ModelAlias.registered_model_id == named.id, ModelAlias.alias == alias)
                .values(version=version, updated_at=utcnow())
            )
    row = session.execute(
        select(ModelAlias)
        .where(ModelAlias.registered_model_id == named.id, ModelAlias.alias == alias)
        .execution_options(populate_existing=True)
    ).scalar_one()
    return row, target.model_id


def delete_alias(session: Session, name: str, alias: str, owner: str | None) -> None:
    """Remove ``alias`` from ``name``; 404 ``alias_not_found`` if it has none such."""
    check_alias(alias)
    named = get(session, name, owner)
    gone = session.execute(
        ModelAlias.__table__.delete().where(
            ModelAlias.registered_model_id == named.id, ModelAlias.alias == alias
        )
    )
    if gone.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(
            f"model {name!r} has no alias {alias!r}",
            fix=f"see its aliases with GET /v1/registry/{name}",
            code="alias_not_found",
        )


def _version(session: Session, named: RegisteredModel, version: int) -> ModelVersion:
    row = session.get(ModelVersion, (named.id, version))
    if row is None:
        raise NotFound(
            f"model {named.name!r} has no version {version}",
            fix=f"list its versions with GET /v1/registry/{named.name}/versions",
            code="version_not_found",
        )
    return row


@dataclass(frozen=True)
class NameSummary:
    """A name with its latest version, how many versions it has, and its aliases."""

    name: str
    owner: str
    latest_version: int | None
    versions: int
    aliases: dict[str, int]
    created_at: Any
    updated_at: Any


@dataclass(frozen=True)
class VersionSummary:
    """A version with the trained model it is (its job, data set, task and metrics)."""

    name: str
    version: int
    model_id: str
    dataset: str
    task: str
    metrics: dict[str, Any]
    aliases: list[str]
    created_at: Any


def summary(session: Session, name: str, owner: str | None) -> NameSummary:
    """One name as ``page_names`` lists it."""
    return _summaries(session, [get(session, name, owner)])[0]


def page_names(
    session: Session, *, limit: int, offset: int, owner: str | None
) -> tuple[list[NameSummary], int]:
    """The owner's names (every owner's for an admin), alphabetical, and how many in all."""
    conditions = [RegisteredModel.owner == owner] if owner is not None else []
    total = session.scalar(select(func.count()).select_from(RegisteredModel).where(*conditions))
    rows = session.scalars(
        select(RegisteredModel)
        .where(*conditions)
        .order_by(RegisteredModel.name, RegisteredModel.owner)
        .limit(limit)
        .offset(offset)
    ).all()
    return _summaries(session, rows), total or 0


def _summaries(session: Session, rows: Sequence[RegisteredModel]) -> list[NameSummary]:
    ids = [row.id for row in rows]
    counts = {
        key: (latest, count)
        for key, latest, count in session.execute(
            select(
                ModelVersion.registered_model_id,
                func.max(ModelVersion.version),
                func.count(),
            )
            .where(ModelVersion.registered_model_id.in_(ids))
            .group_by(ModelVersion.registered_model_id)
        )
    }
    aliases: dict[str, dict[str, int]] = {}
    for key, alias, version in session.execute(
        select(ModelAlias.registered_model_id, ModelAlias.alias, ModelAlias.version)
        .where(ModelAlias.registered_model_id.in_(ids))
        .order_by(ModelAlias.alias)
    ):
        aliases.setdefault(key, {})[alias] = version
    return [
        NameSummary(
            name=row.name,
            owner=row.owner,
            latest_version=counts.get(row.id, (None, 0))[0],
            versions=counts.get(row.id, (None, 0))[1],
            aliases=aliases.get(row.id, {}),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def page_versions(
    session: Session, name: str, *, limit: int, offset: int, owner: str | None
) -> tuple[list[VersionSummary], int]:
    """The name's versions, newest first, each with its model's data set and metrics."""
    named = get(session, name, owner)
    total = session.scalar(
        select(func.count())
        .select_from(ModelVersion)
        .where(ModelVersion.registered_model_id == named.id)
    )
    return _versions(session, named, limit=limit, offset=offset), total or 0


def get_version(session: Session, name: str, version: int, owner: str | None) -> VersionSummary:
    """One version of the name, or 404 ``version_not_found``."""
    named = get(session, name, owner)
    _version(session, named, version)
    return _versions(session, named, version=version)[0]


def _versions(
    session: Session,
    named: RegisteredModel,
    *,
    version: int | None = None,
    limit: int = 1,
    offset: int = 0,
) -> list[VersionSummary]:
    query = (
        select(ModelVersion, TrainedModel)
        .join(TrainedModel, TrainedModel.id == ModelVersion.model_id)
        .where(ModelVersion.registered_model_id == named.id)
    )
    if version is not None:
        query = query.where(ModelVersion.version == version)
    rows = session.execute(
        query.order_by(ModelVersion.version.desc()).limit(limit).offset(offset)
    ).all()
    aliases: dict[int, list[str]] = {}
    for alias, number in session.execute(
        select(ModelAlias.alias, ModelAlias.version)
        .where(ModelAlias.registered_model_id == named.id)
        .order_by(ModelAlias.alias)
    ):
        aliases.setdefault(number, []).append(alias)
    return [
        VersionSummary(
            name=named.name,
            version=row.version,
            model_id=row.model_id,
            dataset=model.dataset,
            task=model.task,
            metrics=model.metrics,
            aliases=aliases.get(row.version, []),
            created_at=row.created_at,
        )
        for row, model in rows
    ]
