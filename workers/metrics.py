"""What a training worker counts for Prometheus: job waits and run times, jobs finished, epochs,
samples, resumes and GPU memory (docs/operations.md: Worker metrics).

Pool children record; the worker's parent process serves what they recorded
(workers/metrics_server.py). One child runs one job and exits, so the children write through
prometheus_client's multiprocess mode, whose directory the parent chooses before it forks them.
prometheus_client picks that mode when it is first imported, so nothing here imports it until
a child records its first value (``_metrics``). The metrics live in a registry of their own:
the API's metrics, with some of the same names, may share a process with them in tests.

No job, model or owner id is ever a label: queue, status, kind and device are short, fixed sets.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING, Any, get_args

from core.statuses import FINISHED
from training.data_info import DataInfo, builtin_info
from training.spec import Accelerator, JobSpec, ValidationFraction

if TYPE_CHECKING:
    from models import Job

log = logging.getLogger(__name__)

# Seconds: a job may wait behind hours of others, and run for hours (DESCENT_JOB_TIME_LIMIT).
WAIT_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
RUN_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600)
EPOCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class _Metrics:
    """The worker's metrics, built on first use in a pool child."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        common: dict[str, Any] = {"registry": self.registry}
        self.job_wait = Histogram(
            "descent_job_wait_seconds",
            "Seconds from a job's submission to its first start on a worker.",
            ["queue"],
            buckets=WAIT_BUCKETS,
            **common,
        )
        self.job_run = Histogram(
            "descent_job_run_seconds",
            "Seconds from a job's first start to its end, by how it ended.",
            ["queue", "status"],
            buckets=RUN_BUCKETS,
            **common,
        )
        self.jobs_finished = Counter(
            "descent_jobs_finished",
            "Jobs this worker ended, by status (succeeded, failed, cancelled).",
            ["status"],
            **common,
        )
        self.epoch_duration = Histogram(
            "descent_epoch_duration_seconds",
            "Seconds one training epoch took (validation included).",
            ["queue"],
            buckets=EPOCH_BUCKETS,
            **common,
        )
        self.samples = Counter(
            "descent_training_samples",
            "Training rows seen, one epoch at a time; rate() gives samples per second.",
            ["queue"],
            **common,
        )
        self.recoveries = Counter(
            "descent_recoveries",
            "Recoveries seen by workers: resumed = an attempt after the first started a job.",
            ["kind"],
            **common,
        )
        # Live: a child's value goes when it exits (workers/metrics_server.py); the largest of
        # the live children training on the device is shown.
        self.gpu_memory = Gauge(
            "descent_gpu_memory_bytes",
            "GPU memory TensorFlow holds on the device: current and peak of the job training.",
            ["device", "kind"],
            multiprocess_mode="livemax",
            **common,
        )


@functools.cache
def _metrics() -> _Metrics:
    return _Metrics()


def registry() -> Any:
    """The registry the metrics are in (tests read values from it)."""
    return _metrics().registry


def _record(what: str, action: Any) -> None:
    """Metrics never fail a job: a failure to count is logged and training goes on."""
    try:
        action(_metrics())
    except Exception:
        log.warning("could not record the %s metric", what, exc_info=True)


def prime() -> None:
    """Write every series at 0 before the child's first job: Prometheus' rate() and increase()
    count from a series' first sample, so a series born at 1 would hide a worker's first job
    (and its first of each status and queue) from the dashboard and the alerts."""
    queues, statuses = get_args(Accelerator.__value__), sorted(FINISHED)

    def zero(m: _Metrics) -> None:
        m.recoveries.labels("resumed")
        for status in statuses:
            m.jobs_finished.labels(status)
        for queue in queues:
            m.job_wait.labels(queue)
            m.epoch_duration.labels(queue)
            m.samples.labels(queue)
            for status in statuses:
                m.job_run.labels(queue, status)

    _record("zero", zero)


def job_started(job: Job) -> None:
    """This worker claimed ``job``: its first claim observes how long it waited since it was
    submitted; a later one (the job's worker died, the sweep queued it again) is a resume."""
    if job.attempts > 1:
        _record("recoveries", lambda m: m.recoveries.labels("resumed").inc())
    elif job.started_at is not None:
        waited = max(0.0, (job.started_at - job.created_at).total_seconds())
        _record("job wait", lambda m: m.job_wait.labels(job.queue).observe(waited))


def job_ended(job: Job) -> None:
    """This worker ended ``job`` (succeeded, failed or cancelled), and it is committed."""
    status, started, finished = str(job.status), job.started_at, job.finished_at

    def count(m: _Metrics) -> None:
        m.jobs_finished.labels(status).inc()
        if started is not None and finished is not None:
            ran = max(0.0, (finished - started).total_seconds())
            m.job_run.labels(job.queue, status).observe(ran)

    _record("job end", count)


def epoch_ended(queue: str, seconds: float, rows: int) -> None:
    """One training epoch of ``rows`` rows took ``seconds``."""

    def count(m: _Metrics) -> None:
        m.epoch_duration.labels(queue).observe(seconds)
        m.samples.labels(queue).inc(rows)

    _record("epoch", count)


def epoch_rows(spec: JobSpec, uploaded: DataInfo | None) -> int:
    """The rows one epoch of ``spec`` trains on (``uploaded``: the job's uploaded data set, or
    None for a built-in one): the training rows up to ``dataset.limit``, less those a
    validation fraction holds out (the split training/prepare.py makes)."""
    data = uploaded or builtin_info(spec.dataset.name)
    if data is None:
        return 0
    rows = min(spec.dataset.limit or data.train_size, data.train_size)
    validation = spec.dataset.validation
    if isinstance(validation, ValidationFraction):
        rows -= validation.held_out(rows)
    return max(rows, 0)


def gpu_memory(device: str | None = None) -> None:
    """The memory TensorFlow holds on this child's GPU, current and peak; nothing on a CPU
    worker. Call it only where TensorFlow is imported (a training child)."""
    device = device or os.environ.get("DESCENT_DEVICE", "cpu")
    if not device.startswith("gpu"):
        return

    def measure(m: _Metrics) -> None:
        import tensorflow as tf

        # The child sees only its own GPU (workers/devices.py), so TensorFlow calls it GPU:0.
        info = tf.config.experimental.get_memory_info("GPU:0")
        for kind in ("current", "peak"):
            m.gpu_memory.labels(device, kind).set(info[kind])

    _record("GPU memory", measure)


def child_exiting() -> None:
    """A pool child is exiting: its live values (GPU memory) stop counting."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid())
