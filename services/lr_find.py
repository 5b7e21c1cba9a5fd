"""Learning-rate range tests: a job of kind "lr_find", created, queued, claimed and finished
like a training job (services/jobs.py), whose request options and result are in ``Job.lr_find``
(the worker's side: workers/lr_find.py; the test itself: training/keras/lr_finder.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.settings import Settings
from models import Job
from models.api_key import LOCAL_OWNER
from services import jobs, specs
from services.queue import Broker
from training.spec import JobSpec

KIND = "lr_find"
# The bounds of a request; the API's schema states them too (api/schemas/lr_find.py).
MIN_RATE, MAX_RATE = 1e-10, 100.0
MIN_STEPS, MAX_STEPS = 20, 2000
DEFAULTS: dict[str, Any] = {
    "min_learning_rate": 1e-7,
    "max_learning_rate": 10.0,
    "steps": 200,
    "keep_model": False,
}


def submit(
    session: Session,
    spec: JobSpec,
    options: dict[str, Any],
    owner: str = LOCAL_OWNER,
    *,
    settings: Settings,
    broker: Broker,
) -> Job:
    """Check the spec as a training job's is (the same refusals, the same warnings), create
    the range test's job and send its message once the caller commits. ``options``:
    min_learning_rate, max_learning_rate, steps and keep_model (DEFAULTS for those left out)."""
    options = {**DEFAULTS, **options}
    check_range(options["min_learning_rate"], options["max_learning_rate"])
    checked = specs.check(session, spec, settings, owner)
    job = jobs.create(
        session,
        checked.spec,
        settings,
        owner=owner,
        kind=KIND,
        lr_find=options,
        **specs.job_details(checked),
    )
    broker.send_after_commit(session, job.id, job.queue)
    return job


def check_range(low: float, high: float) -> None:
    """The rates must rise: min_learning_rate below max_learning_rate (each within bounds)."""
    if not low < high:
        raise InvalidInput(
            f"min_learning_rate ({low:g}) must be below max_learning_rate ({high:g}): the test "
            "sweeps the rate upward from one to the other",
            fix="give a min_learning_rate smaller than max_learning_rate (the defaults, 1e-7 "
            "and 10, suit most models)",
            errors=[
                {
                    "field": "max_learning_rate",
                    "message": f"must be above min_learning_rate ({low:g})",
                    "found": high,
                    "allowed": f"> {low:g} and <= {MAX_RATE:g}",
                    "fix": "raise max_learning_rate or lower min_learning_rate",
                }
            ],
            code="request_invalid",
        )


def get(session: Session, job_id: str, owner: str | None = None) -> Job:
    """The range test; 404 if there is none, if it is someone else's (``owner`` given) or if
    the id is a training job's."""
    try:
        job = jobs.get(session, job_id, owner)
    except NotFound:
        raise not_found(job_id) from None
    if job.kind != KIND:
        raise not_found(job_id)
    return job


def not_found(job_id: str) -> NotFound:
    return NotFound(
        f"no learning-rate range test with id {job_id!r}",
        fix="list jobs with {list_jobs} (a range test's kind is lr_find) to find the right id",
        code="job_not_found",
    )
