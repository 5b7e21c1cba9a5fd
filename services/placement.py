"""Which queue a job goes to, whether this deployment can run it, and its place in line.

Three queues: ``gpu`` (GPU workers only), ``cpu`` (CPU workers only) and ``any``, which both
kinds consume. A job asking for a GPU therefore never reaches a CPU-only worker. GPU jobs
are refused at submission unless the deployment says a GPU worker exists
(``DESCENT_GPU_QUEUES_AVAILABLE``): otherwise they would wait forever.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.settings import Settings
from models import Job, JobStatus
from training.spec import JobSpec

QUEUES = ("gpu", "cpu", "any")
GPU_WORKER_QUEUES = ("gpu", "any")
CPU_WORKER_QUEUES = ("cpu", "any")


def queue_for(spec: JobSpec) -> str:
    return spec.resources.accelerator


def check(spec: JobSpec, settings: Settings) -> None:
    """Refuse a job that needs a GPU when no GPU worker serves this deployment."""
    if settings.gpu_queues_available:
        return
    if spec.resources.accelerator == "gpu" or spec.precision == "mixed_float16":
        asked = (
            'resources.accelerator "gpu"'
            if spec.resources.accelerator == "gpu"
            else 'precision "mixed_float16"'
        )
        raise InvalidInput(
            f"the job asks for {asked} but this deployment has no GPU worker, so it would "
            "wait forever",
            fix='use resources.accelerator "any" or "cpu" (and precision "float32"), or run a '
            "GPU worker (`descent worker --gpus N`) and set DESCENT_GPU_QUEUES_AVAILABLE=true "
            "on the API",
            code="spec_invalid",
        )


def queue_position(session: Session, job: Job) -> int | None:
    """1 for the next job its queue will hand out, 2 for the one after...; None unless queued.

    Counted from the database: the queued jobs of the same queue submitted before it (a
    batch's jobs that wait for a free slot count too, as they are ahead in line).
    """
    if job.status != JobStatus.queued:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(
            Job.status == JobStatus.queued,
            Job.queue == job.queue,
            (Job.created_at < job.created_at)
            | ((Job.created_at == job.created_at) & (Job.id < job.id)),
        )
    )
    return (ahead or 0) + 1
