"""The ``train`` task: claim the job, train it, export the model, record the outcome."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import logs
from core.settings import Settings
from models import JobStatus
from models.db import session_scope
from services import batches, datasets, epochs, jobs, searches, trained_models, weights
from services.artifacts import get_store
from services.queue import Broker
from training.spec import JobSpec
from workers import devices, metrics
from workers.attempt import Attempt, Superseded
from workers.progress import CancelCheck, EpochRecorder, ProgressRecorder
from workers.recovery import (
    CheckpointWriter,
    Deadline,
    Heartbeat,
    discard_unregistered_model,
    out_of_memory,
    resume_point,
)

if TYPE_CHECKING:  # TensorFlow is imported in the steps that train, never on import
    from models import Job
    from models.db import Session
    from training.keras.checkpoints import Resume
    from training.keras.fit import TrainResult
    from training.user_data import UserData

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2_000


def train(job_id: str, settings: Settings, broker: Broker) -> None:
    """The job's message arrived (workers/celery_app.py registers this as the task)."""
    try:
        run_job(job_id, settings)
    finally:
        start_next_of_batch(job_id, settings, broker)


def warm_up(settings: Settings) -> None:
    """In a fresh pool child, before its job arrives: open the database connection the claim
    will use. A child runs one job, so without this its claim paid for the engine and the
    first connection (~100 ms of the submit → running time on PostgreSQL, under load)."""
    from sqlalchemy import text

    try:
        with session_scope(settings.resolved_database_url) as session:
            session.execute(text("SELECT 1"))
    except Exception:
        log.warning("could not reach the database ahead of the first job", exc_info=True)


def start_next_of_batch(job_id: str, settings: Settings, broker: Broker) -> None:
    """If the job belongs to a batch, its slot is free now: send the batch's next job."""
    with session_scope(settings.resolved_database_url) as session:
        batches.dispatch_after(session, job_id, broker)


def run_job(job_id: str, settings: Settings) -> None:
    claimed = claim(job_id, settings)
    if claimed is None:
        return
    attempt, spec, deadline = claimed
    devices.set_precision(spec.precision)
    with Heartbeat(attempt):
        from workers import lr_find  # it imports this module

        if (options := lr_find.request(attempt)) is not None:  # a learning-rate range test
            lr_find.run_claimed(attempt, spec, deadline, options)
        else:
            train_claimed(attempt, spec, deadline)


def claim(job_id: str, settings: Settings) -> tuple[Attempt, JobSpec, Deadline] | None:
    """Claim the queued job for a new attempt; None if it is not queued (already claimed)."""
    with session_scope(settings.resolved_database_url) as session:
        if not jobs.claim(session, job_id, **devices.where()):
            log.info("job %s is not queued (a duplicate delivery?); nothing to do", job_id)
            return None
        job = jobs.get(session, job_id)
        spec = JobSpec.model_validate(job.spec)
        deadline = Deadline(job.started_at, settings.job_time_limit_seconds)
        number = job.attempts
        logs.bind(attempt=number, owner=job.owner)  # the job's lines from here on
    log.info("job %s claimed: attempt %s", job_id, number)
    metrics.job_started(job)
    return Attempt(job_id, number, settings, get_store(settings), job.queue), spec, deadline


def train_claimed(attempt: Attempt, spec: JobSpec, deadline: Deadline) -> None:
    """Train a job this worker has claimed: from scratch, or from its last checkpoint.

    Everything it writes for the job is conditional on ``attempt`` still holding it: once the
    sweep has taken the job over (this worker's heartbeat was late), the attempt stops at the
    next batch or epoch end and leaves the job, its epochs, checkpoints and model alone; model
    files it stored in its own folder but could not register, it deletes."""
    try:
        start = starting_point(attempt, spec)
        checkpoints = CheckpointWriter(attempt, resumed_from=start.checkpoint_key)
        result = fit(attempt, spec, deadline, start, checkpoints)
        attempt.check_held()  # a stop may have been the takeover
        if deadline.passed:
            fail_past_deadline(attempt, deadline)
            return
        with tempfile.TemporaryDirectory() as folder:
            model = export_and_upload(attempt, result, Path(folder))
        evaluation = evaluate_and_upload(attempt, result)
        with attempt.holding() as session:
            register_model(session, attempt, result, model, evaluation)
            record_execution(session, attempt, result)
            ended = finish(session, attempt, result)
        metrics.job_ended(ended)
        # Committed: the job is finished and its model (exported from the weights in memory,
        # cancelled or not) is stored in its attempt's folder. Nothing will resume it, so its
        # checkpoints go; best effort, never failing the job. A job that failed keeps its last
        # checkpoint (its error message says so).
        if not searches.stopped_early(attempt.settings, attempt.job_id):  # resumable: kept
            checkpoints.discard()
        log.info("job %s finished; its model is stored", attempt.job_id)
    except Superseded:
        superseded(attempt)
    except Exception as exc:
        log.exception("job %s failed", attempt.job_id)
        fail(attempt, exc)


@dataclass(frozen=True)
class Start:
    """Where an attempt starts: the job's data set, and its last checkpoint (if any)."""

    source: UserData | None  # None: a built-in data set
    resume: Resume | None  # None: from scratch
    checkpoint_epoch: int | None
    checkpoint_key: str | None


def starting_point(attempt: Attempt, spec: JobSpec) -> Start:
    """The data set and the resume point; the epochs after the checkpoint are forgotten."""
    with attempt.holding() as session:
        job = jobs.get(session, attempt.job_id)
        # The job's owner's data set: another owner may have one of the same name.
        source = datasets.source(session, attempt.store, spec.dataset.name, job.owner)
        resume = resume_point(attempt.store, job)
        epochs.forget_after(session, attempt.job_id, job.checkpoint_epoch or -1)
        start = Start(source, resume, job.checkpoint_epoch, job.checkpoint_key)
    if resume is not None:
        log.info(
            "job %s resumes after epoch %s (attempt %s)",
            attempt.job_id,
            start.checkpoint_epoch,
            attempt.number,
        )
    return start


def fit(
    attempt: Attempt, spec: JobSpec, deadline: Deadline, start: Start, checkpoints: CheckpointWriter
) -> TrainResult:
    """Run the fit loop: epochs and progress recorded, stopped by a cancel or the deadline."""
    # TensorFlow enters the process here, in the worker child, never in the API.
    from training.keras.fit import train as keras_fit

    cancelled = CancelCheck(attempt)
    return keras_fit(
        spec,
        attempt.settings.data_dir,
        EpochRecorder(
            attempt, metrics.epoch_rows(spec, start.source.info if start.source else None)
        ),
        user_data=start.source,
        should_stop=lambda: deadline() or cancelled(),
        on_batch=ProgressRecorder(attempt),
        resume_from=start.resume,
        on_checkpoint=checkpoints,
        cache_dir=prepared_cache(attempt.settings),
    )


def prepared_cache(settings: Settings) -> Path:
    """Where the worker keeps built-in data sets' scaled arrays between jobs (each job runs in
    a fresh process, so an in-memory copy would not outlive it)."""
    return settings.resolved_home / "cache" / "prepared"


def fail_past_deadline(attempt: Attempt, deadline: Deadline) -> None:
    with attempt.holding() as session:
        checkpoint_epoch = jobs.get(session, attempt.job_id).checkpoint_epoch
        ended = jobs.fail(session, attempt.job_id, deadline.reason(checkpoint_epoch))
    metrics.job_ended(ended)


@dataclass(frozen=True)
class StoredModel:
    keras_key: str
    onnx_key: str
    export_check: dict[str, Any]


def export_and_upload(attempt: Attempt, result: TrainResult, folder: Path) -> StoredModel:
    """Export the trained model (Keras, ONNX, and its weights if small) and store the files."""
    from training.keras.export import export_model

    resolution = result.resolution
    assert resolution is not None
    exported = export_model(result.model, result.sample, folder)
    attempt.check_held()  # no upload for nothing
    # The files go under this attempt's own folder: an attempt taken over after the check
    # above (a stall past the heartbeat timeout) writes beside the files of the attempt that
    # took over, never over them, and cannot register its own.
    stored = trained_models.files_folder(attempt.job_id, attempt.number)
    keras_key = attempt.store.put_file(f"{stored}/model.keras", exported.keras_path)
    onnx_key = attempt.store.put_file(f"{stored}/model.onnx", exported.onnx_path)
    if resolution.total_params <= attempt.settings.max_weights_params:
        from training.keras.weights import weights_as_lists

        path = folder / "weights.json"
        path.write_text(json.dumps(weights_as_lists(result.model, resolution)))
        attempt.store.put_file(weights.weights_key(keras_key), path)
    check = {"max_abs_diff": exported.max_abs_diff, "samples": exported.samples_checked}
    return StoredModel(keras_key, onnx_key, check)


def evaluate_and_upload(attempt: Attempt, result: TrainResult) -> dict[str, Any] | None:
    """Where the model is wrong, on its validation (else test) rows: the evaluation's JSON,
    each gallery entry with the key of its PNG (``image_key``, None when the input is not an
    image), stored in the attempt's folder beside the model files. None for a job stopped
    early (cancelled, out of time) or one with neither split. Best effort: a failure is logged
    and the model is registered without an evaluation."""
    if result.stopped:
        return None
    from training.keras.evaluation import evaluate_result

    try:
        evaluation = evaluate_result(result)
        if evaluation is None:
            return None
        attempt.check_held()  # no upload for nothing
        stored = trained_models.files_folder(attempt.job_id, attempt.number)
        with tempfile.TemporaryDirectory() as folder:
            for entry, picture in zip(
                evaluation.summary["misclassified"], evaluation.images, strict=True
            ):
                entry["image_key"] = None
                if picture is not None:
                    path = Path(folder) / f"{entry['index']}.png"
                    path.write_bytes(picture)
                    key = trained_models.misclassified_key(stored, entry["index"])
                    entry["image_key"] = attempt.store.put_file(key, path)
        return evaluation.summary
    except Superseded:
        raise
    except Exception:
        log.warning("job %s: could not evaluate its model", attempt.job_id, exc_info=True)
        return None


def register_model(
    session: Session,
    attempt: Attempt,
    result: TrainResult,
    model: StoredModel,
    evaluation: dict[str, Any] | None = None,
) -> None:
    resolution = result.resolution
    trained_models.register(
        session,
        attempt.job_id,
        dataset=resolution.data.name,
        task=resolution.targets.task,
        class_names=list(resolution.targets.class_names),
        input_shape=list(resolution.data.input_shape),
        scaling=resolution.data.scaling,
        keras_key=model.keras_key,
        onnx_key=model.onnx_key,
        metrics=result.final_metrics,
        export_check=model.export_check,
        evaluation=evaluation,
    )


def record_execution(session: Session, attempt: Attempt, result: TrainResult) -> None:
    """How the fit ran (steps per execution, XLA, the step-time measurement behind them), in
    the job's record beside its model summary: ``summary["execution"]``."""
    if result.execution is None:
        return
    log.info("job %s trained with %s", attempt.job_id, result.execution)
    job = jobs.get(session, attempt.job_id)
    if job.summary:  # a job made without one (not through the API) is left without one
        job.summary = {**job.summary, "execution": result.execution.as_dict()}


def finish(session: Session, attempt: Attempt, result: TrainResult) -> Job:
    """The job's final status, in the transaction that registered its model."""
    # A cancel that came after the last batch still ends the job cancelled, as asked; either
    # way the model (its last weights) is kept and can be used.
    if result.stopped or jobs.should_stop(session, attempt.job_id):
        return jobs.end_cancelled(session, attempt.job_id, result.final_metrics)
    return jobs.succeed(session, attempt.job_id, result.final_metrics)


def fail(attempt: Attempt, exc: BaseException) -> None:
    """The attempt raised: the job fails, saying why, or ends cancelled if it was asked to stop
    (stopped, not failed); unless the job is no longer this attempt's."""
    try:
        with attempt.holding() as session:
            if jobs.get(session, attempt.job_id).status == JobStatus.cancelling:
                ended = jobs.end_cancelled(session, attempt.job_id, None)
            else:
                ended = jobs.fail(session, attempt.job_id, out_of_memory(exc) or describe(exc))
        metrics.job_ended(ended)
    except Superseded:
        superseded(attempt)


def superseded(attempt: Attempt) -> None:
    log.warning(
        "job %s: attempt %s was superseded (the job was taken over after a late heartbeat, or "
        "ended meanwhile); this attempt stops here and leaves the job's epochs, checkpoints, "
        "model and status as they are",
        attempt.job_id,
        attempt.number,
    )
    discard_unregistered_model(attempt)


def describe(exc: BaseException) -> str:
    """A readable one-paragraph reason for a failed job."""
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]
