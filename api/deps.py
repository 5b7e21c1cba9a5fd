"""Dependencies: the request's database session, settings, and "load or 404" lookups."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from descent.settings import Settings
from models import Batch, Job, TrainedModel
from models.db import unit_of_work
from services import batches, jobs, models
from services.artifacts import ArtifactStore
from serving.sessions import SessionCache


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


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
ModelCacheDep = Annotated[SessionCache, Depends(get_model_cache)]


def load_job(job_id: str, session: SessionDep) -> Job:
    return jobs.get(session, job_id)


def load_model(model_id: str, session: SessionDep) -> TrainedModel:
    return models.get(session, model_id)


JobDep = Annotated[Job, Depends(load_job)]
ModelDep = Annotated[TrainedModel, Depends(load_model)]


def load_batch(batch_id: str, session: SessionDep) -> Batch:
    return batches.get(session, batch_id)


BatchDep = Annotated[Batch, Depends(load_batch)]
