"""The train task against a real database: duplicates do nothing, failures say why, and a
finished job leaves its model, not its checkpoints, in the artifact store."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from models.db import session_scope
from services import dataset_uploads, datasets, epochs, jobs, specs, trained_models
from services.artifacts import LocalArtifactStore, get_store
from tests.harness import wiring
from training.spec import JobSpec
from workers import tasks
from workers.recovery import CheckpointWriter
from workers.tasks import run_job

SPEC = {"dataset": {"name": "mnist", "limit": 50}, "model": {"preset": "dense"}, "epochs": 1}


def submit() -> str:
    with session_scope(Settings().resolved_database_url) as session:
        return jobs.submit(session, JobSpec.model_validate(SPEC), **wiring()).id


def load(job_id: str):
    with session_scope(Settings().resolved_database_url) as session:
        job = jobs.get(session, job_id)
        return job, list(epochs.history(session, job_id))


def test_a_job_that_is_no_longer_queued_is_left_alone(home: Path):
    job_id = submit()
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
    run_job(job_id, Settings())  # a second delivery of a job another worker already runs
    job, history = load(job_id)
    assert job.status == "running"
    assert history == []
    assert [t.status for t in job.transitions] == ["queued", "running"]


def test_claim_succeeds_once(home: Path):
    job_id = submit()
    url = Settings().resolved_database_url
    with session_scope(url) as session:
        assert jobs.claim(session, job_id)
    with session_scope(url) as session:
        assert not jobs.claim(session, job_id)


def test_a_job_whose_data_is_missing_fails_with_a_readable_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DESCENT_DATA_DIR", str(tmp_path / "empty"))
    job_id = submit()
    run_job(job_id, Settings())
    job, _ = load(job_id)
    assert job.status == "failed"
    assert job.finished_at is not None
    assert "mnist.npz is missing" in job.error
    assert "git checkout -- data/mnist.npz" in job.error


def test_a_job_past_its_time_limit_fails_saying_so(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DESCENT_JOB_TIME_LIMIT_SECONDS", "1")
    with session_scope(Settings().resolved_database_url) as session:
        spec = JobSpec.model_validate({**SPEC, "dataset": {"name": "mnist", "limit": 2000}})
        job_id = jobs.submit(session, spec.model_copy(update={"epochs": 200}), **wiring()).id
    run_job(job_id, Settings())
    job, history = load(job_id)
    assert job.status == "failed"
    assert "ran past its time limit of 1 seconds" in job.error
    assert len(history) < 200


def test_a_job_trains_on_its_own_owners_data_set_when_two_share_a_name(home: Path):
    settings = Settings()
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
            job_ids[owner] = jobs.submit(session, checked.spec, owner=owner, **wiring()).id
    for job_id in job_ids.values():
        run_job(job_id, Settings())
    with session_scope(settings.resolved_database_url) as session:
        for owner, shape in (("alice", [1]), ("bob", [3])):
            assert jobs.get(session, job_ids[owner]).status == "succeeded"
            assert trained_models.get(session, job_ids[owner]).input_shape == shape


LINEAR = {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]}
MODEL_NAMES = ["model.keras", "model.onnx", "weights.json"]


def model_files(attempt: int = 1) -> list[str]:
    """What a finished job leaves under its folder: the model its attempt stored, in a folder of
    that attempt's own."""
    return [f"a{attempt}/{name}" for name in MODEL_NAMES]


@pytest.fixture(params=["local", "s3"])
def store_kind(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch):
    """The artifact store the worker and the API share: the local folder, or an S3 bucket."""
    if request.param == "s3":
        import boto3

        endpoint, bucket = request.getfixturevalue("s3_endpoint"), uuid.uuid4().hex
        s3 = {"endpoint_url": endpoint, "region": "us-east-1", "access_key_id": "test"}
        for name, value in {**s3, "bucket": bucket, "prefix": "descent"}.items():
            monkeypatch.setenv(f"DESCENT_S3_{name.upper()}", value)
        monkeypatch.setenv("DESCENT_S3_SECRET_ACCESS_KEY", "test")
        monkeypatch.setenv("DESCENT_ARTIFACT_STORE", "s3")
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket=bucket)
    return request.param


def stored_under(job_id: str) -> list[str]:
    """Every key the artifact store holds under the job's folder, read from the store itself."""
    settings = Settings()
    if settings.artifact_store == "local":
        folder = settings.resolved_artifacts_dir / job_id
        return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
    )
    prefix = f"{settings.s3_prefix}/{job_id}/"
    listed = s3.list_objects_v2(Bucket=settings.s3_bucket, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"].removeprefix(prefix) for item in listed)


def submit_line(epochs: int) -> str:
    """A job fitting y = mx + b to the uploaded data set "line"."""
    settings = Settings()
    with session_scope(settings.resolved_database_url) as session:
        if datasets.find_uploaded(session, "line", "local") is None:
            upload = dataset_uploads.from_rows("line", "regression", [[1.0], [2.0]], [3.0, 5.0])
            datasets.create(session, get_store(settings), upload)
        spec = JobSpec.model_validate(
            {"dataset": {"name": "line"}, "model": LINEAR, "loss": "mse", "epochs": epochs}
        )
        checked = specs.check(session, spec, settings, "local")
        return jobs.create(session, checked.spec, Settings()).id


def served(api: TestClient, job_id: str) -> dict[str, Any]:
    """The model's prediction for x = 3, after checking both of its files download."""
    for file_format in ("keras", "onnx"):
        download = api.get(f"/v1/models/{job_id}/download", params={"format": file_format})
        assert download.status_code == 200, download.text
        assert len(download.content) > 100
    response = api.post(f"/v1/models/{job_id}/predict", json={"instances": [[3]]})
    assert response.status_code == 200, response.text
    return response.json()["predictions"][0]


def test_a_succeeded_jobs_checkpoints_are_deleted_and_its_model_still_serves(store_kind: str):
    job_id = submit_line(epochs=3)
    run_job(job_id, Settings())
    job, history = load(job_id)
    assert job.status == "succeeded"
    assert job.checkpoint_epoch == 3  # a checkpoint was written after every epoch ...
    assert job.checkpoint_key is None
    assert stored_under(job_id) == model_files()  # ... and none is left; the model is
    with TestClient(create_app(Settings())) as api:
        assert isinstance(served(api, job_id)["value"], float)
        assert api.get(f"/v1/models/{job_id}/weights").status_code == 200


def test_a_cancelled_jobs_checkpoints_are_deleted_and_its_last_weights_still_serve(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    job_id = submit_line(epochs=1_000)
    url = Settings().resolved_database_url

    class CancelAfterTwoCheckpoints(CheckpointWriter):
        """Cancels the job as the API does once its second checkpoint is stored: at that point
        of the run however long the machine takes to get there (a canceller polling on its own
        clock could give up first, and leave the job to train all its epochs)."""

        def __call__(self, folder: Path, epoch: int) -> None:
            super().__call__(folder, epoch)
            if epoch == 2:
                with session_scope(url) as session:
                    jobs.cancel(session, job_id)

    monkeypatch.setattr(tasks, "CheckpointWriter", CancelAfterTwoCheckpoints)
    run_job(job_id, Settings())
    job, history = load(job_id)
    assert job.status == "cancelled"
    assert 2 <= len(history) - 1 < 1_000  # it stopped early, after epochs it checkpointed
    assert stored_under(job_id) == model_files()
    with TestClient(create_app(Settings())) as api:
        assert isinstance(served(api, job_id)["value"], float)


def test_a_model_still_predicts_after_its_data_set_is_deleted(home: Path):
    job_id = submit_line(epochs=2)
    run_job(job_id, Settings())
    with TestClient(create_app(Settings())) as api:
        before = served(api, job_id)
        assert api.delete("/v1/datasets/line").status_code == 204
        assert api.get("/v1/datasets/line").status_code == 404
        assert served(api, job_id) == before
        assert api.get(f"/v1/models/{job_id}").json()["dataset"] == "line"
        assert api.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"
        assert api.get(f"/v1/jobs/{job_id}/history").status_code == 200
        # A new "line" with other rows is a data set of its own; the old model is unchanged.
        again = {"name": "line", "task": "regression", "x": [[1], [2]], "y": [30, 50]}
        assert api.post("/v1/datasets", json=again).status_code == 201
        assert served(api, job_id) == before


def test_a_job_whose_checkpoints_cannot_be_deleted_still_succeeds(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def refuse(self: LocalArtifactStore, key: str) -> int:  # a store that cannot delete
        raise PermissionError(f"cannot delete {key}")

    monkeypatch.setattr(LocalArtifactStore, "delete", refuse)
    job_id = submit_line(epochs=2)
    run_job(job_id, Settings())
    job, _ = load(job_id)
    assert (job.status, job.error) == ("succeeded", None)
    assert "could not delete job" in caplog.text
    assert set(model_files()) < set(stored_under(job_id))  # the checkpoints stayed behind


def test_a_model_stored_before_files_were_kept_by_attempt_still_serves(home: Path):
    job_id = submit_line(epochs=2)
    run_job(job_id, Settings())
    with TestClient(create_app(Settings())) as api:
        before = (served(api, job_id), api.get(f"/v1/models/{job_id}/weights").json())
    # Models registered before then have their files at <job>/model.* and <job>/weights.json.
    folder = Settings().resolved_artifacts_dir / job_id
    for name in MODEL_NAMES:
        (folder / "a1" / name).rename(folder / name)
    with session_scope(Settings().resolved_database_url) as session:
        model = trained_models.get(session, job_id)
        model.keras_key, model.onnx_key = f"{job_id}/model.keras", f"{job_id}/model.onnx"
    assert stored_under(job_id) == MODEL_NAMES
    with TestClient(create_app(Settings())) as api:
        assert (served(api, job_id), api.get(f"/v1/models/{job_id}/weights").json()) == before
        download = api.get(f"/v1/models/{job_id}/download", params={"format": "keras"})
        assert download.content == (folder / "model.keras").read_bytes()


def test_a_job_records_how_its_fit_ran_beside_its_model_summary(home: Path):
    """Steps per execution, XLA and fused updates, as the worker ran the fit, are kept in the
    job's record."""
    with session_scope(Settings().resolved_database_url) as session:
        job_id = jobs.submit(
            session, JobSpec.model_validate(SPEC), summary={"total_params": 7850}, **wiring()
        ).id
    run_job(job_id, Settings())
    job, _ = load(job_id)
    assert job.status == "succeeded", job.error
    assert job.summary["total_params"] == 7850  # the summary made at submission is kept
    execution = job.summary["execution"]
    assert execution["steps_per_execution"] >= 1
    assert execution["xla"] is False  # a CPU with op determinism: Keras does not use XLA
    assert execution["fused_updates"] is True  # adam: one fused kernel per weight
