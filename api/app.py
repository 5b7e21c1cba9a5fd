"""The FastAPI application factory."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

import core
from api import cors, docs, errors, etag, openapi, prediction, schema_components
from api.auth import authenticate
from api.deps import reject_unknown_query
from api.disconnects import QuietDisconnects
from api.limits import BodySizeLimit
from api.metrics import ApiMetrics, RequestMetrics
from api.readiness import Readiness
from api.request_ids import RequestIds
from api.routes import (
    batches,
    datasets,
    evaluations,
    events,
    health,
    job_checks,
    jobs,
    layers,
    lr_find,
    metrics,
    open_inference,
    problems,
    registry,
    searches,
    statuses,
    tf_serving,
    trained_models,
    weights,
)
from api.security_headers import SecurityHeaders
from api.static import WebFiles
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
    reconciler = (
        Reconciler(settings, app.state.broker, app.state.metrics) if settings.sweep else None
    )
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
        title="Descent",
        version=core.__version__,
        description=DESCRIPTION,
        lifespan=sweeping,
        docs_url=None,  # api/docs.py serves /docs and /redoc from vendored copies, not a CDN
        redoc_url=None,
        # operationIds are the route functions' names (submit_job, get_job, predict, ...): they
        # become the method names of generated clients.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.broker = Broker(settings)  # job messages go to this app's broker
    app.state.sessionmaker = session_factory(settings.resolved_database_url)
    app.state.artifacts = get_store(settings)
    app.state.readiness = Readiness(app.state.sessionmaker, app.state.broker, app.state.artifacts)
    # Prometheus metrics (api/metrics.py), each app in a registry of its own; None when off.
    app.state.metrics = (
        ApiMetrics(app.state.sessionmaker, app.state.broker) if settings.metrics else None
    )
    app.state.model_cache = SessionCache(
        settings.model_cache_size,
        settings.onnx_threads,
        on_event=app.state.metrics.cache_event if app.state.metrics else None,
    )
    errors.install(app)
    app.add_middleware(BodySizeLimit, settings=settings)
    app.add_middleware(QuietDisconnects)  # a client gone mid-body: one line (api/disconnects.py)
    app.add_middleware(etag.ConditionalReads)
    app.include_router(docs.router)
    # Every route refuses a query parameter it does not take; every /v1 route needs a key
    # when auth is on (checked first: a caller without one learns nothing of the routes).
    app.include_router(health.router, dependencies=[Depends(reject_unknown_query)])
    app.include_router(open_inference.health_router, dependencies=[Depends(reject_unknown_query)])
    app.include_router(problems.router, dependencies=[Depends(reject_unknown_query)])
    if app.state.metrics:  # GET /metrics asks no key, like /healthz: a plain scrape works
        app.include_router(metrics.router, dependencies=[Depends(reject_unknown_query)])
    for module in (
        job_checks,
        jobs,
        events,
        evaluations,
        lr_find,
        batches,
        trained_models,
        weights,
        datasets,
        layers,
        statuses,
        registry,
        searches,
        tf_serving,  # its /v1/models/NAME:predict before the static files' mount catches it
        open_inference,
    ):
        app.include_router(
            module.router,
            dependencies=[Depends(authenticate), Depends(reject_unknown_query)],
        )
    app.mount("/", WebFiles(PROJECT_ROOT / "web"), name="web")  # api/static.py
    openapi.install(
        app,
        etag.describe,  # If-None-Match, ETag and 304 on the conditional reads
        prediction.describe,  # predict's JSON body, which it reads by hand
        schema_components.describe,  # JobSpecInput/JobSpecOutput titles, whole examples
    )
    if app.state.metrics:  # outside the others, so that it times them and counts their refusals
        app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    # Security headers on every answer, refusals included (api/security_headers.py).
    app.add_middleware(SecurityHeaders)
    # Outside the others, so their refusals (a 413, a 304) carry the request id too.
    app.add_middleware(RequestIds)
    cors.install(app, settings)  # last: the outermost middleware
    return app
