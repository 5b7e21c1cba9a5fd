"""The worker's Celery app: ``celery -A workers.celery_app worker``.

The parent process that consumes messages never imports TensorFlow; each pool child runs one
job (``worker_max_tasks_per_child=1``) and imports TensorFlow right after it is forked, so the
next job finds a warm, fresh process waiting.
"""

import logging
import os

from celery.signals import worker_process_init

from core.settings import Settings
from services.queue import TRAIN_TASK, Broker, make_celery
from workers import devices, tasks

settings = Settings()  # the worker's, read once at its boot and passed down
app = make_celery(settings)
broker = Broker(settings, app)  # a batch's next job is sent from here


@app.task(name=TRAIN_TASK)
def train(job_id: str) -> None:
    """The message carries the job's id only; the database says what the job is."""
    tasks.train(job_id, settings, broker)


log = logging.getLogger(__name__)


@worker_process_init.connect
def _import_tensorflow_in_child(**_: object) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    device = devices.pin_child()  # before TensorFlow is imported: it reads the variable once
    import keras  # noqa: F401  (warm the fresh child before its job arrives)

    if device != "cpu":
        devices.grow_gpu_memory()
    log.info("worker child %s ready with Keras loaded", os.getpid())
