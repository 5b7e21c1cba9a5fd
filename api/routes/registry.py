"""The model registry: register trained models under a name, list versions, move aliases.

A name, NAME@ALIAS or NAME/versions/N then works wherever a model id does (see
services/registry.py and docs/registry.md).
"""

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.auth import PrincipalDep
from api.deps import PagingDep, SessionDep
from api.schemas.registry import (
    AliasPublic,
    AliasUpdate,
    ModelVersionList,
    ModelVersionPublic,
    RegisteredModelList,
    RegisteredModelPublic,
    VersionCreate,
)
from services import registry

router = APIRouter(prefix="/v1/registry", tags=["registry"])

# The patterns document the path; the service checks them too (a name is also not 32 hex).
NameParam = Annotated[
    str,
    Path(
        max_length=64,
        description="A model name: lowercase letters, digits, '.', '_' or '-' (e.g. mnist-digits).",
        examples=["mnist-digits"],
    ),
]
AliasParam = Annotated[
    str,
    Path(
        max_length=64,
        description="An alias: lowercase letters, digits, '_' or '-', starting with a letter "
        "(e.g. production).",
        examples=["production"],
    ),
]
VersionParam = Annotated[int, Path(ge=1, le=999_999_999, description="A version of the name.")]


@router.get("", response_model=RegisteredModelList, summary="List model names")
def list_registered_models(
    session: SessionDep, principal: PrincipalDep, page: PagingDep
) -> RegisteredModelList:
    """Your model names, alphabetical, each with its latest version and its aliases."""
    items, total = registry.page_names(
        session, limit=page.limit, offset=page.offset, owner=principal.scope
    )
    return page.answer(
        RegisteredModelList, [RegisteredModelPublic.model_validate(item) for item in items], total
    )


@router.get("/{name}", response_model=RegisteredModelPublic, summary="Get a model name")
def get_registered_model(
    name: NameParam, session: SessionDep, principal: PrincipalDep
) -> RegisteredModelPublic:
    """The name's latest version, how many versions it has, and where its aliases point."""
    return RegisteredModelPublic.model_validate(registry.summary(session, name, principal.scope))


@router.post(
    "/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelVersionPublic,
    summary="Register a model version",
)
def register_model_version(
    name: NameParam,
    body: VersionCreate,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
) -> ModelVersionPublic:
    """Register a trained model as the name's next version (the name is created if new)."""
    created = registry.register(session, name, body.model_id, principal.scope)
    response.headers["Location"] = f"/v1/registry/{name}/versions/{created.version}"
    return ModelVersionPublic.model_validate(created)


@router.get("/{name}/versions", response_model=ModelVersionList, summary="List a name's versions")
def list_model_versions(
    name: NameParam, session: SessionDep, principal: PrincipalDep, page: PagingDep
) -> ModelVersionList:
    """The name's versions, newest first, each with its model's data set, metrics and aliases."""
    items, total = registry.page_versions(
        session, name, limit=page.limit, offset=page.offset, owner=principal.scope
    )
    return page.answer(
        ModelVersionList, [ModelVersionPublic.model_validate(item) for item in items], total
    )


@router.get(
    "/{name}/versions/{version}",
    response_model=ModelVersionPublic,
    summary="Get a model version",
)
def get_model_version(
    name: NameParam, version: VersionParam, session: SessionDep, principal: PrincipalDep
) -> ModelVersionPublic:
    """One version: its trained model, data set, metrics and aliases."""
    return ModelVersionPublic.model_validate(
        registry.get_version(session, name, version, principal.scope)
    )


@router.put("/{name}/aliases/{alias}", response_model=AliasPublic, summary="Set or move an alias")
def set_alias(
    name: NameParam,
    alias: AliasParam,
    body: AliasUpdate,
    session: SessionDep,
    principal: PrincipalDep,
) -> AliasPublic:
    """Point the alias at a version, creating it or moving it in one step: NAME@ALIAS serves
    the new version from the next request on; requests already running finish on the old."""
    row, model_id = registry.set_alias(session, name, alias, body.version, principal.scope)
    return AliasPublic(
        name=name,
        alias=row.alias,
        version=row.version,
        model_id=model_id,
        updated_at=row.updated_at,
    )


@router.delete(
    "/{name}/aliases/{alias}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an alias",
)
def delete_alias(
    name: NameParam, alias: AliasParam, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Remove the alias; NAME@ALIAS then answers 404. The versions stay."""
    registry.delete_alias(session, name, alias, principal.scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
