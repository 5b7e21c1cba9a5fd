"""The ``train`` task: claim the job, train it, export the model, record the outcome."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from descent.settings import get_settings
from models import JobStatus
from models.db import session_scope
from services import batches, datasets, epochs, jobs, models, weights
from services.artifacts import get_store
from services.queue import TRAIN_TASK, celery_app
from training.spec import JobSpec
from workers import devices
from workers.progress import CancelCheck, ProgressRecorder
from workers.recovery import (
    CheckpointWriter,
    Deadline,
    Heartbeat,
    forget_epochs_after,
    out_of_memory,
    resume_point,
    taken_over,
)

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2_000


@celery_app().task(name=TRAIN_TASK)
def train(job_id: str) -> None:
    try:
        run_job(job_id)
    finally:
        start_next_of_batch(job_id)


def start_next_of_batch(job_id: str) -> None:
    """If the job belongs to a batch, its slot is free now: send the batch's next job."""
    with session_scope(get_settings().resolved_database_url) as session:
        batches.dispatch_after(session, job_id)


def run_job(job_id: str) -> None:
    settings = get_settings()
    url = settings.resolved_database_url
    with session_scope(url) as session:
        if not jobs.claim(session, job_id, **devices.where()):
            log.info("job %s is not queued (a duplicate delivery?); nothing to do", job_id)
            return
        job = jobs.get(session, job_id)
        spec = JobSpec.model_validate(job.spec)
        deadline = Deadline(job.started_at, settings.job_time_limit_seconds)
        attempt = job.attempts
    devices.set_precision(spec.precision)
    with Heartbeat(url, job_id, attempt, settings.heartbeat_seconds):
        train_claimed(job_id, spec, deadline, attempt)


def train_claimed(job_id: str, spec: JobSpec, deadline: Deadline, attempt: int) -> None:
    """Train a job this worker has claimed: from scratch, or from its last checkpoint."""
    settings = get_settings()
    url = settings.resolved_database_url
    store = get_store(settings)

    def on_epoch(epoch: int, seconds: float, logs: dict[str, float]) -> None:
        with session_scope(url) as session:
            epochs.record(
                session, job_id, epoch, seconds, logs, patience=settings.overfitting_patience
            )

    try:
        # TensorFlow enters the process here, in the worker child, never in the API.
        from training.export import export_model
        from training.fit import train as fit

        with session_scope(url) as session:
            job = jobs.get(session, job_id)
            # The job's owner's data set: another owner may have one of the same name.
            source = datasets.source(session, store, spec.dataset.name, job.owner)
            resume = resume_point(store, job)
            forget_epochs_after(session, job_id, job.checkpoint_epoch or -1)
            checkpoint, checkpoint_key = job.checkpoint_epoch, job.checkpoint_key
        if resume is not None:
            log.info("job %s resumes after epoch %s (attempt %s)", job_id, checkpoint, job.attempts)
        cancelled = CancelCheck(url, job_id)
        checkpoints = CheckpointWriter(url, store, job_id, attempt, resumed_from=checkpoint_key)
        result = fit(
            spec,
            settings.data_dir,
            on_epoch,
            user_data=source,
            should_stop=lambda: deadline() or cancelled(),
            on_batch=ProgressRecorder(url, job_id),
            resume_from=resume,
            on_checkpoint=checkpoints,
        )
        if taken_over(url, job_id, attempt):
            return
        if deadline.passed:
            with session_scope(url) as session:
                jobs.fail(
                    session, job_id, deadline.reason(jobs.get(session, job_id).checkpoint_epoch)
                )
            return
        resolution = result.resolution
        assert resolution is not None
        with tempfile.TemporaryDirectory() as folder:
            exported = export_model(result.model, result.sample, Path(folder))
            keras_key = store.put_file(f"{job_id}/model.keras", exported.keras_path)
            onnx_key = store.put_file(f"{job_id}/model.onnx", exported.onnx_path)
            if resolution.total_params <= settings.max_weights_params:
                from training.weights import weights_as_lists

                path = Path(folder) / "weights.json"
                path.write_text(json.dumps(weights_as_lists(result.model, resolution)))
                store.put_file(weights.weights_key(job_id), path)
        with session_scope(url) as session:
            models.register(
                session,
                job_id,
                dataset=resolution.data.name,
                task=resolution.targets.task,
                class_names=list(resolution.targets.class_names),
                input_shape=list(resolution.data.input_shape),
                scaling=resolution.data.scaling,
                keras_key=keras_key,
                onnx_key=onnx_key,
                metrics=result.final_metrics,
                export_check={
                    "max_abs_diff": exported.max_abs_diff,
                    "samples": exported.samples_checked,
                },
            )
            # A cancel that came after the last batch still ends the job cancelled, as asked;
            # either way the model (its last weights) is kept and can be used.
            if result.stopped or jobs.should_stop(session, job_id):
                jobs.end_cancelled(session, job_id, result.final_metrics)
            else:
                jobs.succeed(session, job_id, result.final_metrics)
        # Committed: the job is finished and its model (exported from the weights in memory,
        # cancelled or not) is stored under its own keys. Nothing will resume it, so its
        # checkpoints go; best effort, never failing the job. A job that failed keeps its last
        # checkpoint (its error message says so).
        checkpoints.discard()
    except Exception as exc:
        log.exception("job %s failed", job_id)
        if taken_over(url, job_id, attempt):
            return
        with session_scope(url) as session:
            if jobs.get(session, job_id).status == JobStatus.cancelling:
                jobs.end_cancelled(session, job_id, None)  # asked to stop: stopped, not failed
            else:
                jobs.fail(session, job_id, out_of_memory(exc) or describe(exc))


def describe(exc: BaseException) -> str:
    """A readable one-paragraph reason for a failed job."""
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]
