"""The ``lr_find`` kind of job: a learning-rate range test (training/keras/lr_finder.py) run
by the worker like a training job. It is claimed, beats its heartbeat, is cancelled, fails and
finishes through the same services as a training job; its result (the loss-vs-rate curve and
the suggested rate) goes into ``Job.lr_find`` beside the request's options.

It leaves no model and no file behind, unless the request asked ``keep_model``: then the model
(with the weights it had where the smoothed loss was lowest) is exported and registered as a
training job's is, and the job's ``model_id`` names it.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from models import JobStatus
from services import datasets, jobs
from training.spec import JobSpec
from workers import metrics, tasks
from workers.attempt import Attempt, Superseded
from workers.progress import CancelCheck, ProgressRecorder
from workers.recovery import Deadline, discard_unregistered_model

log = logging.getLogger(__name__)

KIND = "lr_find"
PROGRESS_INTERVAL_SECONDS = 0.25


def request(attempt: Attempt) -> dict[str, Any] | None:
    """The range test's options when the claimed job is one (kind "lr_find"), else None."""
    with attempt.session() as session:
        job = jobs.get(session, attempt.job_id)
        return dict(job.lr_find or {}) if job.kind == KIND else None


def run_claimed(
    attempt: Attempt, spec: JobSpec, deadline: Deadline, options: dict[str, Any]
) -> None:
    """Run a range test this worker has claimed, and record its curve and suggestion."""
    try:
        with attempt.holding() as session:
            owner = jobs.get(session, attempt.job_id).owner
            source = datasets.source(session, attempt.store, spec.dataset.name, owner)
        # TensorFlow enters the process here, in the worker child, never in the API.
        from training.keras.lr_finder import find_learning_rate

        cancelled = CancelCheck(attempt)
        keep_model = bool(options.get("keep_model"))
        result = find_learning_rate(
            spec,
            attempt.settings.data_dir,
            min_learning_rate=float(options["min_learning_rate"]),
            max_learning_rate=float(options["max_learning_rate"]),
            steps=int(options["steps"]),
            keep_model=keep_model,
            user_data=source,
            cache_dir=tasks.prepared_cache(attempt.settings),
            should_stop=lambda: deadline() or cancelled(),
            on_step=_Progress(attempt),
        )
        attempt.check_held()  # a stop may have been the takeover
        if deadline.passed:
            _fail_past_deadline(attempt, deadline)
            return
        trained = result.trained if keep_model and not result.stopped else None
        stored = None
        if trained is not None:
            with tempfile.TemporaryDirectory() as folder:
                stored = tasks.export_and_upload(attempt, trained, Path(folder))
        outcome = {**options, **result.as_dict()}
        if keep_model and stored is None:
            outcome["keep_model"] = False  # nothing to keep: the job names no model
            outcome["reason"] += "; no model was kept (the run stopped before one was trained)"
        with attempt.holding() as session:
            job = jobs.get(session, attempt.job_id)
            if result.stopped or jobs.should_stop(session, attempt.job_id):
                if stored is not None:  # cancelled while exporting: the model is not kept
                    outcome["keep_model"] = False
                job.lr_find = outcome
                ended = jobs.end_cancelled(session, attempt.job_id, None)
            elif trained is not None and stored is not None:
                job.lr_find = outcome
                tasks.register_model(session, attempt, trained, stored)
                ended = jobs.succeed(session, attempt.job_id, trained.final_metrics)
            else:
                job.lr_find = outcome
                ended = jobs.succeed(session, attempt.job_id, {})
        metrics.job_ended(ended)
        if stored is not None and not outcome["keep_model"]:
            discard_unregistered_model(attempt)  # its files, uploaded but not registered
        log.info(
            "job %s: range test done in %s steps, suggests %s",
            attempt.job_id,
            result.steps_run,
            result.suggested_learning_rate,
        )
    except Superseded:
        tasks.superseded(attempt)
    except Exception as exc:
        log.exception("job %s (a range test) failed", attempt.job_id)
        tasks.fail(attempt, exc)


class _Progress:
    """``on_step`` for the range test: a progress event (epoch 1, step k of N, the batch's
    loss) at most every PROGRESS_INTERVAL_SECONDS, as a training job's batches report."""

    def __init__(self, attempt: Attempt) -> None:
        self._record = ProgressRecorder(attempt)
        self._last = 0.0

    def __call__(self, step: int, steps: int, loss: float) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_SECONDS and step < steps:
            return
        self._last = now
        self._record(1, step, steps, loss if loss == loss and abs(loss) != float("inf") else None)


def _fail_past_deadline(attempt: Attempt, deadline: Deadline) -> None:
    with attempt.holding() as session:
        if jobs.get(session, attempt.job_id).status == JobStatus.cancelling:
            ended = jobs.end_cancelled(session, attempt.job_id, None)
        else:
            ended = jobs.fail(
                session,
                attempt.job_id,
                f"the learning-rate range test ran past the job time limit of "
                f"{deadline.limit_seconds:g} seconds and was stopped; ask for fewer steps, a "
                "smaller batch_size or a smaller model, or raise DESCENT_JOB_TIME_LIMIT_SECONDS",
            )
    metrics.job_ended(ended)
