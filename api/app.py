"""The FastAPI application factory."""

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
    trained_models,
    weights,
)
from core.settings import PROJECT_ROOT, Settings, get_settings
from models.db import session_factory
from services.artifacts import get_store
from serving.sessions import SessionCache

DESCRIPTION = """Train Keras models from declarative job specs and serve them back for
prediction. Submit a spec to `POST /v1/jobs`, follow it at `GET /v1/jobs/{id}` and
`GET /v1/jobs/{id}/history` (or live at `GET /v1/jobs/{id}/events`), then predict with
`POST /v1/models/{id}/predict`. The page at `/` does all of this in a browser.
Every error is `application/problem+json` saying what is wrong and how to fix it."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Descent", version=core.__version__, description=DESCRIPTION)
    app.state.settings = settings
    app.state.sessionmaker = session_factory(settings.resolved_database_url)
    app.state.artifacts = get_store(settings)
    app.state.model_cache = SessionCache(settings.model_cache_size, settings.onnx_threads)
    errors.install(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        predict_max_bytes=settings.max_request_bytes,
        upload_max_bytes=settings.max_upload_bytes,
    )
    app.include_router(health.router)
    # Every /v1 route needs a key when auth is on.
    for module in (job_checks, jobs, events, batches, trained_models, weights, datasets):
        app.include_router(module.router, dependencies=[Depends(authenticate)])
    app.mount("/", StaticFiles(directory=PROJECT_ROOT / "web", html=True), name="web")
    return app
