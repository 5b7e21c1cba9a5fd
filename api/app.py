"""The FastAPI application factory."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

import core
from api import errors
from api.auth import authenticate
from api.limits import BodySizeLimit
from api.routes import (
    batches,
    datasets,
    events,
    health,
    job_checks,
    jobs,
    layers,
    statuses,
    trained_models,
    weights,
)
from api.sweeper import Reconciler
from core.settings import PROJECT_ROOT, Settings
from models.db import session_factory
from services.artifacts import get_store
from services.queue import Broker
from serving.sessions import SessionCache

DESCRIPTION = """Train Keras models from declarative job specs and serve them back for
prediction. Submit a spec to `POST /v1/jobs`, follow it at `GET /v1/jobs/{id}` and
`GET /v1/jobs/{id}/history` (or live at `GET /v1/jobs/{id}/events`), then predict with
`POST /v1/models/{id}/predict`. The page at `/` does all of this in a browser.
Every error is `application/problem+json` saying what is wrong and how to fix it."""


@asynccontextmanager
async def sweeping(app: FastAPI) -> AsyncIterator[None]:
    """The recovery sweep runs while the app does, under any ASGI server (api/sweeper.py)."""
    settings: Settings = app.state.settings
    reconciler = Reconciler(settings, app.state.broker) if settings.sweep else None
    if reconciler:
        reconciler.start()
    try:
        yield
    finally:
        if reconciler:  # waits for a sweep under way; the event loop goes on meanwhile
            await asyncio.to_thread(reconciler.stop)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, run by these settings everywhere (read from the environment if none given)."""
    settings = settings or Settings()
    app = FastAPI(
        title="Descent", version=core.__version__, description=DESCRIPTION, lifespan=sweeping
    )
    app.state.settings = settings
    app.state.broker = Broker(settings)  # job messages go to this app's broker
    app.state.sessionmaker = session_factory(settings.resolved_database_url)
    app.state.artifacts = get_store(settings)
    app.state.model_cache = SessionCache(settings.model_cache_size, settings.onnx_threads)
    errors.install(app)
    app.add_middleware(BodySizeLimit, settings=settings)
    app.include_router(health.router)
    # Every /v1 route needs a key when auth is on.
    for module in (
        job_checks,
        jobs,
        events,
        batches,
        trained_models,
        weights,
        datasets,
        layers,
        statuses,
    ):
        app.include_router(module.router, dependencies=[Depends(authenticate)])
    app.mount("/", StaticFiles(directory=PROJECT_ROOT / "web", html=True), name="web")
    return app
