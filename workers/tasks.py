"""The ``train`` task: claim the job, train it, export the model, record the outcome."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from core.settings import Settings
from models import JobStatus
from models.db import session_scope
from services import batches, datasets, epochs, jobs, recovery, trained_models, weights
from services.artifacts import ArtifactStore, get_store
from services.queue import Broker
from training.spec import JobSpec
from workers import devices
from workers.progress import CancelCheck, ProgressRecorder
from workers.recovery import (
    CheckpointWriter,
    Deadline,
    Heartbeat,
    Superseded,
    check_held,
    discard_unregistered_model,
    out_of_memory,
    resume_point,
)

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2_000


def train(job_id: str, settings: Settings, broker: Broker) -> None:
    """The job's message arrived (workers/celery_app.py registers this as the task)."""
    try:
        run_job(job_id, settings)
    finally:
        start_next_of_batch(job_id, settings, broker)


def start_next_of_batch(job_id: str, settings: Settings, broker: Broker) -> None:
    """If the job belongs to a batch, its slot is free now: send the batch's next job."""
    with session_scope(settings.resolved_database_url) as session:
        batches.dispatch_after(session, job_id, broker)


def run_job(job_id: str, settings: Settings) -> None:
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
        train_claimed(job_id, spec, deadline, attempt, settings)


def train_claimed(
    job_id: str, spec: JobSpec, deadline: Deadline, attempt: int, settings: Settings
) -> None:
    """Train a job this worker has claimed: from scratch, or from its last checkpoint.

    Everything it writes for the job is conditional on ``attempt`` still holding it: once the
    sweep has taken the job over (this worker's heartbeat was late), the attempt stops at the
    next batch or epoch end and leaves the job, its epochs, checkpoints and model alone; model
    files it stored in its own folder but could not register, it deletes."""
    url = settings.resolved_database_url
    store = get_store(settings)

    def on_epoch(epoch: int, seconds: float, logs: dict[str, float]) -> None:
        with session_scope(url) as session:
            if not recovery.hold(session, job_id, attempt):
                raise Superseded(job_id, attempt)
            epochs.record(
                session, job_id, epoch, seconds, logs, patience=settings.overfitting_patience
            )

    try:
        # TensorFlow enters the process here, in the worker child, never in the API.
        from training.keras.export import export_model
        from training.keras.fit import train as fit

        with session_scope(url) as session:
            if not recovery.hold(session, job_id, attempt):
                raise Superseded(job_id, attempt)
            job = jobs.get(session, job_id)
            # The job's owner's data set: another owner may have one of the same name.
            source = datasets.source(session, store, spec.dataset.name, job.owner)
            resume = resume_point(store, job)
            epochs.forget_after(session, job_id, job.checkpoint_epoch or -1)
            checkpoint, checkpoint_key = job.checkpoint_epoch, job.checkpoint_key
        if resume is not None:
            log.info("job %s resumes after epoch %s (attempt %s)", job_id, checkpoint, attempt)
        cancelled = CancelCheck(url, job_id, attempt)
        checkpoints = CheckpointWriter(url, store, job_id, attempt, resumed_from=checkpoint_key)
        result = fit(
            spec,
            settings.data_dir,
            on_epoch,
            user_data=source,
            should_stop=lambda: deadline() or cancelled(),
            on_batch=ProgressRecorder(url, job_id, attempt),
            resume_from=resume,
            on_checkpoint=checkpoints,
        )
        check_held(url, job_id, attempt)  # a stop may have been the takeover
        if deadline.passed:
            with session_scope(url) as session:
                if not recovery.hold(session, job_id, attempt):
                    raise Superseded(job_id, attempt)
                jobs.fail(
                    session, job_id, deadline.reason(jobs.get(session, job_id).checkpoint_epoch)
                )
            return
        resolution = result.resolution
        assert resolution is not None
        with tempfile.TemporaryDirectory() as folder:
            exported = export_model(result.model, result.sample, Path(folder))
            check_held(url, job_id, attempt)  # no upload for nothing
            # The files go under this attempt's own folder: an attempt taken over after the
            # check above (a stall past the heartbeat timeout) writes beside the files of the
            # attempt that took over, never over them, and cannot register its own.
            stored = trained_models.files_folder(job_id, attempt)
            keras_key = store.put_file(f"{stored}/model.keras", exported.keras_path)
            onnx_key = store.put_file(f"{stored}/model.onnx", exported.onnx_path)
            if resolution.total_params <= settings.max_weights_params:
                from training.keras.weights import weights_as_lists

                path = Path(folder) / "weights.json"
                path.write_text(json.dumps(weights_as_lists(result.model, resolution)))
                store.put_file(weights.weights_key(keras_key), path)
        with session_scope(url) as session:
            if not recovery.hold(session, job_id, attempt):
                raise Superseded(job_id, attempt)
            trained_models.register(
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
        # cancelled or not) is stored in its attempt's folder. Nothing will resume it, so its
        # checkpoints go; best effort, never failing the job. A job that failed keeps its last
        # checkpoint (its error message says so).
        checkpoints.discard()
    except Superseded:
        superseded(url, store, job_id, attempt)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        with session_scope(url) as session:
            held = recovery.hold(session, job_id, attempt)
            if held and jobs.get(session, job_id).status == JobStatus.cancelling:
                jobs.end_cancelled(session, job_id, None)  # asked to stop: stopped, not failed
            elif held:
                jobs.fail(session, job_id, out_of_memory(exc) or describe(exc))
        if not held:
            superseded(url, store, job_id, attempt)


def superseded(url: str, store: ArtifactStore, job_id: str, attempt: int) -> None:
    log.warning(
        "job %s: attempt %s was superseded (the job was taken over after a late heartbeat, or "
        "ended meanwhile); this attempt stops here and leaves the job's epochs, checkpoints, "
        "model and status as they are",
        job_id,
        attempt,
    )
    discard_unregistered_model(url, store, job_id, attempt)


def describe(exc: BaseException) -> str:
    """A readable one-paragraph reason for a failed job."""
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]
