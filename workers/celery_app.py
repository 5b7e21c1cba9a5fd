"""The worker's Celery app: ``celery -A workers.celery_app worker``.

The parent process that consumes messages never imports TensorFlow; each pool child runs one
job (``worker_max_tasks_per_child=1``) and imports TensorFlow right after it is forked, so the
next job finds a warm, fresh process waiting.
"""

import logging
import os
from typing import Any

from celery import Task
from celery.signals import (
    celeryd_init,
    setup_logging,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from core import logs
from core.settings import Settings
from services.queue import TRAIN_TASK, Broker, make_celery
from workers import child_exits, devices, metrics, metrics_server, tasks

settings = Settings()  # the worker's, read once at its boot and passed down
app = make_celery(settings)
broker = Broker(settings, app)  # a batch's next job is sent from here


@app.task(name=TRAIN_TASK, bind=True, Request=child_exits.request_class(settings))
def train(self: Task, job_id: str) -> None:
    """The message carries the job's id only; the database says what the job is. Its
    ``request_id`` header names the request that submitted the job (services/queue.py)."""
    with logs.bound(request_id=self.request.get("request_id"), job_id=job_id):
        tasks.train(job_id, settings, broker)


log = logging.getLogger(__name__)


@setup_logging.connect
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    # Connected, so Celery leaves the root logger to us (in the parent and each pool child).
    logs.configure(settings.log_format, loglevel or logging.INFO)


@celeryd_init.connect
def _name_the_worker(sender: str, **_: Any) -> None:
    logs.bind_process(worker=sender)  # before the pool forks: every child's lines carry it


@worker_process_init.connect
def _import_tensorflow_in_child(**_: object) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    device = devices.pin_child()  # before TensorFlow is imported: it reads the variable once
    import keras  # noqa: F401  (warm the fresh child before its job arrives)

    if device != "cpu":
        devices.grow_gpu_memory()
    metrics.prime()  # every series at 0 before the first job, so rate() counts that job
    tasks.warm_up(settings)  # the claim's database connection, opened before the job arrives
    log.info("worker child %s ready with Keras loaded", os.getpid())


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    # In the parent, before the pool forks: the children record where the parent serves from.
    folder = metrics_server.prepare(settings)
    metrics_server.serve(settings)
    worker_shutdown.connect(lambda **_: metrics_server.remove(folder), weak=False)


@worker_ready.connect
def _resume_own_jobs(sender: Any = None, **_: Any) -> None:
    # In the parent, once it consumes: what this worker's earlier process was training.
    name = getattr(sender, "hostname", None)
    if name:
        child_exits.resume_own_jobs(settings, name)


@worker_process_shutdown.connect
def _forget_child_metrics(**_: Any) -> None:
    metrics.child_exiting()
