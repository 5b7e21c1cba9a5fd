"""Deleting a data set while a job that names it is being submitted, on a real database."""

import threading
from pathlib import Path

import pytest

from descent.settings import get_settings
from models.db import session_factory, session_scope
from services import dataset_uploads, datasets, jobs, specs
from services.artifacts import get_store
from services.errors import Conflict
from tests.conftest import ON_POSTGRES
from training.spec import JobSpec

LINEAR = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}


@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite runs one writer at a time; the row lock is PostgreSQL's"
)
def test_a_delete_racing_a_submission_waits_for_it_and_then_refuses(home: Path):
    settings = get_settings()
    url, store = settings.resolved_database_url, get_store(settings)
    with session_scope(url) as session:
        upload = dataset_uploads.from_rows("points", "regression", [[1.0], [2.0]], [3.0, 5.0])
        datasets.create(session, store, upload)
    spec = JobSpec.model_validate({"dataset": {"name": "points"}, "model": LINEAR, "loss": "mse"})
    submitting = session_factory(url)()
    checked = specs.check(submitting, spec, settings, "local")  # the data set is found ...
    job_id = jobs.create(submitting, checked.spec).id  # ... and its job not yet committed

    refused: list[Exception] = []

    def delete() -> None:
        try:
            with session_scope(url) as session:
                datasets.delete(session, store, "points", "local")
        except Exception as error:  # noqa: BLE001 - the test reads what it was
            refused.append(error)

    deleting = threading.Thread(target=delete)
    deleting.start()
    deleting.join(1.0)
    assert deleting.is_alive(), "the delete did not wait for the submission"
    submitting.commit()
    submitting.close()
    deleting.join(30)
    assert len(refused) == 1 and isinstance(refused[0], Conflict), refused
    assert job_id in refused[0].detail
    with session_scope(url) as session:
        assert datasets.find_uploaded(session, "points", "local") is not None
