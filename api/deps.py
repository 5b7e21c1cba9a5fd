"""Dependencies: the request's database session, settings, and "load or 404" lookups."""

from collections.abc import Iterator
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import PrincipalDep, authenticate, check_owner
from api.prediction import describe_model
from core.settings import Settings
from models import Batch, Job, TrainedModel
from models.db import unit_of_work
from services import batches, jobs, trained_models
from services.artifacts import ArtifactStore
from serving.sessions import ServedModel, SessionCache


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the request boundary commits, or rolls back on error."""
    with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> ArtifactStore:
    return request.app.state.artifacts


def get_model_cache(request: Request) -> SessionCache:
    return request.app.state.model_cache


# scope="function": the transaction commits before the response is sent, so a client that
# got 202 can read what it created, and a server dying mid-response loses nothing it confirmed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
ModelCacheDep = Annotated[SessionCache, Depends(get_model_cache)]


def load_job(job_id: str, session: SessionDep, principal: PrincipalDep) -> Job:
    return jobs.get(session, job_id, principal.scope)


def load_model(model_id: str, session: SessionDep, principal: PrincipalDep) -> TrainedModel:
    return trained_models.get(session, model_id, principal.scope)


JobDep = Annotated[Job, Depends(load_job)]
ModelDep = Annotated[TrainedModel, Depends(load_model)]


def load_batch(batch_id: str, session: SessionDep, principal: PrincipalDep) -> Batch:
    return batches.get(session, batch_id, principal.scope)


BatchDep = Annotated[Batch, Depends(load_batch)]


async def load_served_model(model_id: str, request: Request) -> ServedModel:
    """The loaded model from the cache; on a miss its row and file, or a 404/409/410."""
    cache: SessionCache = request.app.state.model_cache
    principal = authenticate(request)
    model = cache.get(model_id)
    if model is not None:
        check_owner(principal, model.card.owner, "model", model_id)
    if model is not None and not model.file_present():
        cache.evict(model_id)  # the store decides: fetched again, or 410 if it is gone there too
        model = None
    if model is None:
        describe = partial(describe_model, request.app, model_id, principal.scope)
        model = await run_in_threadpool(cache.load, model_id, describe)
        check_owner(principal, model.card.owner, "model", model_id)
    return model
