"""Dependencies: the request's database session, settings, and "load or 404" lookups."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.auth import PrincipalDep, authenticate, check_owner
from api.schemas.pages import Page
from core.errors import InvalidInput
from core.settings import Settings
from models import Batch, Job, TrainedModel
from models.db import unit_of_work
from services import batches, jobs, registry, trained_models
from services.artifacts import ArtifactStore
from services.queue import Broker
from serving.cards import ModelCard
from serving.sessions import ServedModel, SessionCache


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the request boundary commits, or rolls back on error."""
    with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


def request_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_broker(request: Request) -> Broker:
    return request.app.state.broker


def get_store(request: Request) -> ArtifactStore:
    return request.app.state.artifacts


def get_model_cache(request: Request) -> SessionCache:
    return request.app.state.model_cache


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessionmaker


# scope="function": the transaction commits before the response is sent, so a client that
# got 202 can read what it created, and a server dying mid-response loses nothing it confirmed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(request_settings)]
BrokerDep = Annotated[Broker, Depends(get_broker)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
ModelCacheDep = Annotated[SessionCache, Depends(get_model_cache)]
PageLimit = Annotated[
    int, Query(ge=1, le=200, description="The most items to answer (1-200, default 20).")
]
PageOffset = Annotated[
    int, Query(ge=0, le=1_000_000_000, description="How many matching items to skip first.")
]
AnyPage = TypeVar("AnyPage", bound=Page[Any])


@dataclass(frozen=True)
class Paging:
    """The page a list route was asked for, and the query that asked, to link the next page."""

    limit: int
    offset: int
    path: str
    query: list[tuple[str, str]]

    def answer(self, kind: type[AnyPage], items: Sequence[Any], total: int) -> AnyPage:
        """``items`` (this page of ``total`` in all) as the collection's page ``kind``."""
        return kind(
            items=items, total=total, limit=self.limit, offset=self.offset, next=self.next(total)
        )

    def next(self, total: int) -> str | None:
        """The next page's path and query, the filters kept; None on the last page."""
        after = self.offset + self.limit
        if after >= total:
            return None
        kept = [(key, value) for key, value in self.query if key not in ("limit", "offset")]
        return f"{self.path}?{urlencode([*kept, ('limit', self.limit), ('offset', after)])}"


def paging(request: Request, limit: PageLimit = 20, offset: PageOffset = 0) -> Paging:
    return Paging(limit, offset, request.url.path, request.query_params.multi_items())


# Every list route takes ``page: PagingDep`` and answers ``page.answer(XList, items, total)``.
PagingDep = Annotated[Paging, Depends(paging)]


async def reject_unknown_query(request: Request) -> None:
    """Refuse a query parameter the route does not take, rather than silently ignore it (a
    misspelt filter would otherwise answer as if there were none). Every router includes it.

    Async, so it runs on the event loop: checking a few names costs less than a thread hop."""
    route = request.scope.get("route")
    if not request.query_params or not isinstance(route, APIRoute):
        return
    allowed = query_names(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in allowed]
    if not unknown:
        return
    takes = ", ".join(allowed) or "no query parameters"
    fix = f"remove it or correct its spelling; this route takes: {takes}"
    raise InvalidInput(
        f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
        + ", ".join(repr(name) for name in unknown)
        + f" for {request.method} {route.path}",
        fix=fix,
        errors=[
            {
                "field": name,
                "message": "is not a query parameter of this route",
                "found": request.query_params[name],
                "allowed": allowed,
                "fix": fix,
            }
            for name in unknown
        ],
        code="query_invalid",
    )


def query_names(dependant: Dependant) -> list[str]:
    """Every query parameter a route takes, its dependencies' included, by the name a client
    sends (a parameter's alias)."""
    names: dict[str, None] = {}
    pending = [dependant]
    while pending:
        current = pending.pop(0)
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):  # a query model
                names |= {f.alias or key: None for key, f in model.model_fields.items()}
            else:
                names[field.alias] = None
        pending.extend(current.dependencies)
    return list(names)


def load_job(job_id: str, session: SessionDep, principal: PrincipalDep) -> Job:
    return jobs.get(session, job_id, principal.scope)


@dataclass(frozen=True)
class NamedModel:
    """A trained model and, when it was asked for by name, the name and version it is."""

    model: TrainedModel
    name: str | None = None
    version: int | None = None


# A route's {model_id}: the id, or a registered name (services/registry.py).
ModelRef = Annotated[
    str,
    Path(
        description="The model's id (its job's id), or a registered name: NAME (its latest "
        "version) or NAME@ALIAS (e.g. mnist-digits@production).",
    ),
]


def load_named_model(
    model_id: ModelRef, session: SessionDep, principal: PrincipalDep
) -> NamedModel:
    """The model a route's ``{model_id}`` names: an id, NAME, NAME@ALIAS (services/registry)."""
    found = registry.find(session, model_id, principal.scope)
    if found is None:
        return NamedModel(trained_models.get(session, model_id, principal.scope))
    model = trained_models.get(session, found.model_id, principal.scope)
    return NamedModel(model, found.name, found.version)


def load_model(named: Annotated[NamedModel, Depends(load_named_model)]) -> TrainedModel:
    return named.model


JobDep = Annotated[Job, Depends(load_job)]
ModelDep = Annotated[TrainedModel, Depends(load_model)]
NamedModelDep = Annotated[NamedModel, Depends(load_named_model)]


def load_batch(batch_id: str, session: SessionDep, principal: PrincipalDep) -> Batch:
    return batches.get(session, batch_id, principal.scope)


BatchDep = Annotated[Batch, Depends(load_batch)]


async def load_served_model(ref: str, request: Request) -> ServedModel:
    """The loaded model ``ref`` names (a model id, NAME, NAME@ALIAS or NAME/versions/N) from
    the cache; on a miss its row and file, or a 404/409/410.

    A model id costs no lookup. A name is resolved afresh on each request, in one small query
    in a worker thread, so an alias moved shows from the next request on; the request keeps
    the model it resolved, and the cache is keyed by that model's id, so two names of one
    model share one session.

    Called by the predict route itself rather than through ``Depends``: on that hot path
    FastAPI's dependency resolution costs ~8% of a single-image request."""
    cache = get_model_cache(request)
    principal = authenticate(request)
    model_id = ref
    if registry.parse(ref) is not None:
        model_id = await run_in_threadpool(
            resolve_ref, get_sessionmaker(request), ref, principal.scope
        )
    model = cache.get(model_id)
    if model is not None:
        check_owner(principal, model.card.owner, "model", model_id)
    if model is not None and not model.file_present():
        cache.evict(model_id)  # the store decides: fetched again, or 410 if it is gone there too
        model = None
    if model is None:
        describe = partial(
            describe_model,
            get_sessionmaker(request),
            get_store(request),
            request_settings(request),
            model_id,
            principal.scope,
        )
        model = await run_in_threadpool(cache.load, model_id, describe)
        check_owner(principal, model.card.owner, "model", model_id)
    return model


def resolve_ref(factory: sessionmaker[Session], ref: str, owner: str | None) -> str:
    """The model id a reference by name names, read in a session of its own."""
    with factory() as session:
        return registry.resolve(session, ref, owner)


def describe_model(
    factory: sessionmaker[Session],
    store: ArtifactStore,
    settings: Settings,
    model_id: str,
    owner: str | None,
) -> ModelCard:
    """The model's card, read in a session of its own (a cache miss runs in a worker thread)."""
    with factory() as session:
        return trained_models.card(session, store, settings, model_id, owner)
