"""The ``train`` task: claim the job, train it, export the model, record the outcome."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from descent.settings import get_settings
from models import JobStatus
from models.db import session_scope
from services import batches, epochs, jobs, models
from services.artifacts import get_store
from services.queue import TRAIN_TASK, celery_app
from training.spec import JobSpec
from workers import devices
from workers.progress import CancelCheck, ProgressRecorder

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
        spec = JobSpec.model_validate(jobs.get(session, job_id).spec)
    devices.set_precision(spec.precision)

    def on_epoch(epoch: int, seconds: float, logs: dict[str, float]) -> None:
        with session_scope(url) as session:
            epochs.record(
                session, job_id, epoch, seconds, logs, patience=settings.overfitting_patience
            )

    try:
        # TensorFlow enters the process here, in the worker child, never in the API.
        from training.export import export_model
        from training.fit import train as fit

        result = fit(
            spec,
            settings.data_dir,
            on_epoch,
            should_stop=CancelCheck(url, job_id),
            on_batch=ProgressRecorder(url, job_id),
        )
        store = get_store(settings)
        with tempfile.TemporaryDirectory() as folder:
            exported = export_model(result.model, result.sample, Path(folder))
            keras_key = store.put_file(f"{job_id}/model.keras", exported.keras_path)
            onnx_key = store.put_file(f"{job_id}/model.onnx", exported.onnx_path)
        with session_scope(url) as session:
            models.register(
                session,
                job_id,
                dataset=spec.dataset.name,
                task="classification",
                class_names=list(spec.info.class_names),
                input_shape=list(spec.info.input_shape),
                scaling="divide_by_255",
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
    except Exception as exc:
        log.exception("job %s failed", job_id)
        with session_scope(url) as session:
            if jobs.get(session, job_id).status == JobStatus.cancelling:
                jobs.end_cancelled(session, job_id, None)  # asked to stop: stopped, not failed
            else:
                jobs.fail(session, job_id, describe(exc))


def describe(exc: BaseException) -> str:
    """A readable one-paragraph reason for a failed job."""
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]
