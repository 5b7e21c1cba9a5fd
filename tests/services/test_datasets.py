"""Deleting a data set while a job that names it is being submitted, on a real database.

Whichever commits first wins: a submission that committed keeps the data set (the delete is
a 409 naming its job), a delete that committed refuses the submission (a 422, as a missing
data set is), and a job is never left queued on a data set that is gone."""

import threading
from pathlib import Path

import pytest

from core.errors import Conflict, InvalidInput
from core.settings import Settings
from models import Job
from models.db import session_factory, session_scope
from services import batches, dataset_uploads, datasets, jobs, specs
from services.artifacts import get_store
from tests.conftest import ON_POSTGRES
from tests.harness import wiring
from training.spec import JobSpec

LINEAR = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}


RAW = {"dataset": {"name": "points"}, "model": LINEAR, "loss": "mse"}
SPEC = JobSpec.model_validate(RAW)


def _upload_points(url: str, name: str = "points") -> None:
    with session_scope(url) as session:
        upload = dataset_uploads.from_rows(name, "regression", [[1.0], [2.0]], [3.0, 5.0])
        datasets.create(session, get_store(Settings()), upload)


def test_a_delete_racing_a_submission_waits_for_it_and_then_refuses(home: Path):
    # PostgreSQL: the submission's row lock holds the delete; SQLite: its write lock does.
    settings = Settings()
    url, store = settings.resolved_database_url, get_store(settings)
    _upload_points(url)
    spec = SPEC
    submitting = session_factory(url)()
    checked = specs.check(submitting, spec, settings, "local")  # the data set is found ...
    job_id = jobs.create(submitting, checked.spec, settings).id  # ... and its job not yet committed

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


@pytest.mark.skipif(
    ON_POSTGRES, reason="PostgreSQL: the check's row lock makes the delete wait (test above)"
)
def test_a_data_set_deleted_between_a_submissions_check_and_its_insert_refuses_the_job(
    home: Path,
):
    settings = Settings()
    url, store = settings.resolved_database_url, get_store(settings)
    _upload_points(url)
    submitting = session_factory(url)()
    checked = specs.check(submitting, SPEC, settings, "local")  # the data set is found ...
    with session_scope(url) as deleting:  # ... and deleted before the job is inserted
        datasets.delete(deleting, store, "points", "local")

    with pytest.raises(specs.InvalidSpec) as refused:
        jobs.submit(submitting, checked.spec, **wiring(), **specs.job_details(checked))
    submitting.rollback()
    submitting.close()
    assert isinstance(refused.value, InvalidInput)  # the API answers it with a 422
    assert [e["field"] for e in refused.value.errors or []] == ["dataset.name"]
    assert "no data set named 'points'" in refused.value.detail
    with session_scope(url) as session:
        assert session.query(Job).count() == 0


@pytest.mark.skipif(
    ON_POSTGRES, reason="PostgreSQL: the check's row lock makes the delete wait (test above)"
)
def test_a_data_set_deleted_and_uploaded_again_between_check_and_insert_refuses_the_job(
    home: Path,
):
    # The new upload holds the name, but not the rows (nor the shape) the job was checked on.
    settings = Settings()
    url, store = settings.resolved_database_url, get_store(settings)
    _upload_points(url)
    submitting = session_factory(url)()
    checked = specs.check(submitting, SPEC, settings, "local")
    with session_scope(url) as session:
        datasets.delete(session, store, "points", "local")
    with session_scope(url) as session:
        rows = dataset_uploads.from_rows("points", "regression", [[1.0, 0.0]], [9.0])
        datasets.create(session, store, rows)

    with pytest.raises(specs.InvalidSpec):
        jobs.submit(submitting, checked.spec, **wiring(), **specs.job_details(checked))
    submitting.rollback()
    submitting.close()
    with session_scope(url) as session:
        assert session.query(Job).count() == 0


@pytest.mark.skipif(
    ON_POSTGRES, reason="PostgreSQL: the check's row lock makes the delete wait (test above)"
)
def test_a_batch_whose_data_set_is_deleted_between_check_and_insert_is_refused_whole(
    home: Path,
):
    settings = Settings()
    url, store = settings.resolved_database_url, get_store(settings)
    _upload_points(url)
    _upload_points(url, "kept")
    names = ("kept", "points")
    items = [JobSpec.model_validate({**RAW, "dataset": {"name": name}}) for name in names]
    submitting = session_factory(url)()
    checked = specs.check_all(submitting, items, settings, "local")
    with session_scope(url) as deleting:
        datasets.delete(deleting, store, "points", "local")

    with pytest.raises(specs.InvalidSpec) as refused:
        batches.create(
            submitting,
            [item.spec for item in checked],
            name=None,
            max_parallel=1,
            details=[specs.job_details(item) for item in checked],
            **wiring(),
        )
    submitting.rollback()
    submitting.close()
    assert [(e["item"], e["field"]) for e in refused.value.errors or []] == [(1, "dataset.name")]
    with session_scope(url) as session:
        assert session.query(Job).count() == 0
