"""The train task against a real database: duplicates do nothing, failures say why."""

from pathlib import Path

import pytest

from descent.settings import get_settings
from models.db import session_scope
from services import dataset_uploads, datasets, epochs, jobs, models, specs
from services.artifacts import get_store
from training.spec import JobSpec
from workers.tasks import run_job

SPEC = {"dataset": {"name": "mnist", "limit": 50}, "model": {"preset": "dense"}, "epochs": 1}


def submit() -> str:
    with session_scope(get_settings().resolved_database_url) as session:
        return jobs.submit(session, JobSpec.model_validate(SPEC)).id


def load(job_id: str):
    with session_scope(get_settings().resolved_database_url) as session:
        job = jobs.get(session, job_id)
        return job, list(epochs.history(session, job_id))


def test_a_job_that_is_no_longer_queued_is_left_alone(home: Path):
    job_id = submit()
    with session_scope(get_settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
    run_job(job_id)  # a second delivery of a job another worker already runs
    job, history = load(job_id)
    assert job.status == "running"
    assert history == []
    assert [t.status for t in job.transitions] == ["queued", "running"]


def test_claim_succeeds_once(home: Path):
    job_id = submit()
    url = get_settings().resolved_database_url
    with session_scope(url) as session:
        assert jobs.claim(session, job_id)
    with session_scope(url) as session:
        assert not jobs.claim(session, job_id)


def test_a_job_whose_data_is_missing_fails_with_a_readable_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DESCENT_DATA_DIR", str(tmp_path / "empty"))
    get_settings.cache_clear()
    job_id = submit()
    run_job(job_id)
    job, _ = load(job_id)
    assert job.status == "failed"
    assert job.finished_at is not None
    assert "mnist.npz is missing" in job.error
    assert "git checkout -- data/mnist.npz" in job.error


def test_a_job_past_its_time_limit_fails_saying_so(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DESCENT_JOB_TIME_LIMIT_SECONDS", "1")
    get_settings.cache_clear()
    with session_scope(get_settings().resolved_database_url) as session:
        spec = JobSpec.model_validate({**SPEC, "dataset": {"name": "mnist", "limit": 2000}})
        job_id = jobs.submit(session, spec.model_copy(update={"epochs": 200})).id
    run_job(job_id)
    job, history = load(job_id)
    assert job.status == "failed"
    assert "ran past its time limit of 1 seconds" in job.error
    assert len(history) < 200


def test_a_job_trains_on_its_own_owners_data_set_when_two_share_a_name(home: Path):
    settings = get_settings()
    job_ids = {}
    with session_scope(settings.resolved_database_url) as session:
        for owner, features in (("alice", 1), ("bob", 3)):
            x = [[1.0] * features, [2.0] * features]
            upload = dataset_uploads.from_rows("points", "regression", x, [3.0, 5.0])
            datasets.create(session, get_store(settings), upload, owner)
        linear = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}
        spec = JobSpec.model_validate(
            {"dataset": {"name": "points"}, "model": linear, "loss": "mse", "epochs": 1}
        )
        for owner in ("alice", "bob"):
            checked = specs.check(session, spec, settings, owner)
            job_ids[owner] = jobs.submit(session, checked.spec, owner=owner).id
    for job_id in job_ids.values():
        run_job(job_id)
    with session_scope(settings.resolved_database_url) as session:
        for owner, shape in (("alice", [1]), ("bob", [3])):
            assert jobs.get(session, job_ids[owner]).status == "succeeded"
            assert models.get(session, job_ids[owner]).input_shape == shape
